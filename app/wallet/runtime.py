"""What the wallet integration needs from the process, built from settings once per app.

Everything expensive or secret (the pass signer, the Google key, the S3 client) is loaded
lazily on first use and then kept. In development and tests, when no Apple certificates or
Google service account are configured, a development chain and key are made once under
``settings.wallet_dev_dir`` (like the development JWT key under ``var/keys``); production
refuses to start without real ones (``Settings.wallet_problems``), and with development or
placeholder ones (:meth:`WalletRuntime.production_problems`, which reads the files).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

from app.settings import Settings
from app.wallet.google_client import GoogleRestClient, OutboxGoogleWalletClient
from wallet_passes.apns import (
    ApnsSender,
    Http2ApnsSender,
    RecordingApnsSender,
    tls_context_from_pem,
)
from wallet_passes.apple import PassSigner, load_pem_from
from wallet_passes.dev_certs import make_dev_chain
from wallet_passes.google import GoogleWalletClient, make_dev_service_account
from wallet_passes.storage import Storage, make_storage

_lock = threading.Lock()

# Names that only development or example material carries.
_DEVELOPMENT_MARKS = ("happy development", "happy-dev", "(development)")
_PLACEHOLDER_MARKS = ("placeholder", "example", "changeme", "change-me", "your-project", "xxxx")
_APPLE = "Apple Inc."


@dataclass(frozen=True)
class DevPaths:
    root_cert: Path
    wwdr_cert: Path
    pass_cert: Path
    pass_key: Path
    google_service_account: Path


class WalletRuntime:
    """Storage, pass signer, APNs sender and Google Wallet client for one app."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @property
    def dev_paths(self) -> DevPaths:
        folder = self.settings.wallet_dev_dir
        return DevPaths(
            root_cert=folder / "root.pem",
            wwdr_cert=folder / "wwdr.pem",
            pass_cert=folder / "pass.pem",
            pass_key=folder / "pass.key",
            google_service_account=folder / "google-service-account.json",
        )

    @property
    def uses_dev_certificates(self) -> bool:
        s = self.settings
        return not (s.apple_pass_cert and s.apple_pass_key and s.apple_wwdr_cert)

    def _ensure_dev_chain(self) -> DevPaths:
        if self.settings.is_production:
            raise RuntimeError("development pass certificates are never made in production")
        paths = self.dev_paths
        with _lock:
            if not all(
                p.exists()
                for p in (paths.root_cert, paths.wwdr_cert, paths.pass_cert, paths.pass_key)
            ):
                make_dev_chain(
                    self.settings.wallet_dev_dir,
                    self.settings.apple_pass_type_id,
                    self.settings.apple_team_id,
                )
        return paths

    def _certificate_sources(self) -> tuple[str, str, str, str]:
        """(pass cert, pass key, WWDR cert, key password) sources."""
        s = self.settings
        if self.uses_dev_certificates:
            paths = self._ensure_dev_chain()
            return str(paths.pass_cert), str(paths.pass_key), str(paths.wwdr_cert), ""
        return s.apple_pass_cert, s.apple_pass_key, s.apple_wwdr_cert, s.apple_pass_key_password

    def _s3_client(self) -> Any:
        import boto3

        s = self.settings
        return boto3.client(
            "s3", region_name=s.s3_region or None, endpoint_url=s.s3_endpoint_url or None
        )

    def _load_pem(self, source: str) -> bytes:
        return load_pem_from(source, self._s3_client() if source.startswith("s3://") else None)

    @cached_property
    def storage(self) -> Storage:
        s = self.settings
        return make_storage(
            s.storage,
            storage_dir=s.storage_dir,
            s3_bucket=s.s3_bucket,
            s3_prefix=s.s3_prefix,
            s3_region=s.s3_region,
            s3_endpoint_url=s.s3_endpoint_url,
        )

    @cached_property
    def signer(self) -> PassSigner:
        cert, key, wwdr, password = self._certificate_sources()
        return PassSigner.from_pem(
            self._load_pem(cert),
            self._load_pem(key),
            self._load_pem(wwdr),
            key_password=password.encode("utf-8") if password else None,
        )

    @cached_property
    def apns(self) -> ApnsSender:
        s = self.settings
        if s.apns_backend == "http2":
            cert, key, _wwdr, password = self._certificate_sources()
            context = tls_context_from_pem(self._load_pem(cert), self._load_pem(key), password)
            return Http2ApnsSender(context)
        return RecordingApnsSender(log_path=s.apns_outbox)

    @cached_property
    def google_service_account(self) -> dict[str, Any]:
        s = self.settings
        if s.google_service_account_file:
            data: dict[str, Any] = json.loads(self._load_pem(s.google_service_account_file))
            return data
        if s.is_production:
            raise RuntimeError("a Google service account is required in production")
        path = self.dev_paths.google_service_account
        with _lock:
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                temporary = path.with_name(f".{path.name}.tmp")
                temporary.write_text(json.dumps(make_dev_service_account(), indent=2))
                temporary.chmod(0o600)
                temporary.replace(path)
        loaded: dict[str, Any] = json.loads(path.read_text())
        return loaded

    @cached_property
    def google(self) -> GoogleWalletClient:
        s = self.settings
        if s.google_wallet_backend == "rest":
            return GoogleRestClient(self.google_service_account)
        return OutboxGoogleWalletClient(log_path=s.google_outbox)

    def production_problems(self) -> list[str]:
        """What is wrong with the configured certificates and service account for production.

        Reads the files the settings point at (local or S3) and refuses development material:
        the chain ``happy`` makes under ``wallet_dev_dir``, certificates not issued by Apple,
        expired ones, a key that does not belong to the pass certificate, and development or
        placeholder Google service accounts. Empty when fine (or nothing is configured: that
        is ``Settings.wallet_problems``' business).
        """
        return [*self._apple_problems(), *self._google_problems()]

    def _under_dev_dir(self, source: str) -> bool:
        if source.startswith("s3://"):
            return False
        try:
            path = Path(source).expanduser().resolve()
            return path.is_relative_to(self.settings.wallet_dev_dir.resolve())
        except OSError:
            return False

    def _read(self, name: str, source: str, problems: list[str]) -> bytes | None:
        if self._under_dev_dir(source):
            problems.append(f"{name} is a development file under {self.settings.wallet_dev_dir}")
            return None
        try:
            return self._load_pem(source)
        except Exception as exc:  # any failure to read is a start problem, said once
            problems.append(f"{name} cannot be read from {source}: {exc}")
            return None

    def _apple_problems(self) -> list[str]:
        from cryptography import x509
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.x509.oid import NameOID

        s = self.settings
        if not (s.apple_pass_cert and s.apple_pass_key and s.apple_wwdr_cert):
            return []
        problems: list[str] = []
        certificates: dict[str, x509.Certificate] = {}
        for name, source in (
            ("HAPPY_APPLE_PASS_CERT", s.apple_pass_cert),
            ("HAPPY_APPLE_WWDR_CERT", s.apple_wwdr_cert),
        ):
            data = self._read(name, source, problems)
            if data is None:
                continue
            try:
                certificate = x509.load_pem_x509_certificate(data)
            except ValueError:
                problems.append(f"{name} is not a PEM certificate")
                continue
            certificates[name] = certificate
            subject, issuer = (
                certificate.subject.rfc4514_string(),
                certificate.issuer.rfc4514_string(),
            )
            organisations = [
                str(a.value)
                for a in certificate.issuer.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
            ]
            if any(mark in f"{subject} {issuer}".lower() for mark in _DEVELOPMENT_MARKS):
                problems.append(f"{name} is a development certificate ({subject})")
            elif certificate.subject == certificate.issuer:
                problems.append(f"{name} is self-signed ({subject})")
            elif _APPLE not in organisations:
                problems.append(f"{name} is not issued by Apple (issuer: {issuer})")
            if certificate.not_valid_after_utc <= datetime.now(UTC):
                problems.append(
                    f"{name} expired on {certificate.not_valid_after_utc.date().isoformat()}"
                )
        pass_certificate = certificates.get("HAPPY_APPLE_PASS_CERT")
        wwdr_certificate = certificates.get("HAPPY_APPLE_WWDR_CERT")
        if pass_certificate is not None and wwdr_certificate is not None:
            # Named like Apple's is not enough: the WWDR certificate must have signed it.
            try:
                pass_certificate.verify_directly_issued_by(wwdr_certificate)
            except (ValueError, TypeError, InvalidSignature):
                problems.append(
                    "HAPPY_APPLE_PASS_CERT is not signed by HAPPY_APPLE_WWDR_CERT "
                    "(use the pass type certificate Apple issued and its WWDR certificate)"
                )
        key_data = self._read("HAPPY_APPLE_PASS_KEY", s.apple_pass_key, problems)
        if key_data is not None:
            password = s.apple_pass_key_password.encode("utf-8") or None
            try:
                key = serialization.load_pem_private_key(key_data, password=password)
            except (ValueError, TypeError) as exc:
                problems.append(f"HAPPY_APPLE_PASS_KEY cannot be loaded: {exc}")
            else:
                if pass_certificate is not None and key.public_key() != (
                    pass_certificate.public_key()
                ):
                    problems.append("HAPPY_APPLE_PASS_KEY does not belong to HAPPY_APPLE_PASS_CERT")
        return problems

    def _google_problems(self) -> list[str]:
        from cryptography.hazmat.primitives import serialization

        s = self.settings
        name = "HAPPY_GOOGLE_SERVICE_ACCOUNT_FILE"
        if not s.google_service_account_file:
            return []
        problems: list[str] = []
        data = self._read(name, s.google_service_account_file, problems)
        if data is None:
            return problems
        try:
            account = json.loads(data)
        except ValueError:
            return [f"{name} is not a JSON service-account key file"]
        if not isinstance(account, dict) or account.get("type") != "service_account":
            return [f'{name} is not a service-account key file ("type": "service_account")']
        missing = [
            k
            for k in ("project_id", "client_email", "private_key_id", "private_key")
            if not isinstance(account.get(k), str) or not account[k]
        ]
        if missing:
            return [f"{name} lacks {', '.join(missing)}"]
        identity = " ".join(
            str(account[k]).lower() for k in ("project_id", "client_email", "private_key_id")
        )
        if any(mark in identity for mark in _DEVELOPMENT_MARKS):
            problems.append(f"{name} is a development service account ({account['client_email']})")
        elif any(mark in identity for mark in _PLACEHOLDER_MARKS):
            problems.append(f"{name} is a placeholder service account ({account['client_email']})")
        if not str(account["client_email"]).endswith(".iam.gserviceaccount.com"):
            problems.append(f"{name}: client_email is not a Google service account")
        token_uri = str(account.get("token_uri", "https://oauth2.googleapis.com/token"))
        if not token_uri.startswith("https://oauth2.googleapis.com/"):
            problems.append(f"{name}: token_uri {token_uri!r} is not Google's")
        try:
            serialization.load_pem_private_key(str(account["private_key"]).encode(), password=None)
        except (ValueError, TypeError):
            problems.append(f"{name}: private_key is not a usable PEM private key")
        return problems

    async def aclose(self) -> None:
        """Close the HTTP clients made so far (the production senders keep connections)."""
        for name in ("apns", "google"):
            client = self.__dict__.get(name)
            close = getattr(client, "aclose", None)
            if close is not None:
                await close()
