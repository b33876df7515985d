"""Production-shaped settings for the tests: strong secrets, an Apple-shaped certificate chain
and a Google service account, all made here (nothing real, nothing from ``var/``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app.db import Database
from app.main import create_app
from app.settings import Settings
from tests.conftest import with_settings
from tests.pos.conftest import (  # noqa: F401 (the POS door's fixtures)
    coalition,
    make_key,
    member,
    spar,
)
from wallet_passes.google import make_dev_service_account

STRONG_JWT_SECRET = "kZ3q9VtR1xW7mP0sL4yB8nC2dF6gH5jA-uE_oI"
STRONG_HASH_SECRET = "Qw8eR4tY2uI6oP0aS9dF3gH7jK1lZ5xC-vB_nM"
INTROSPECTION_TOKEN = "Hn4Lr8Tq2Wx6Zc0Vb3Nm7Kj1Gf5Ds9Ap-Ue_Yi"


@dataclass(frozen=True)
class WalletFiles:
    pass_cert: Path
    pass_key: Path
    wwdr_cert: Path
    google_account: Path


def _name(organisation: str, common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _certificate(
    subject: x509.Name,
    issuer: x509.Name,
    key: rsa.RSAPrivateKey,
    signer: rsa.RSAPrivateKey,
    *,
    ca: bool,
    days: int = 365,
) -> x509.Certificate:
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .sign(signer, hashes.SHA256())
    )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _key_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_apple_shaped_files(folder: Path, *, expired: bool = False) -> WalletFiles:
    """A chain named like Apple's (root -> WWDR -> pass type certificate) and a Google
    service account of a real-looking project."""
    folder.mkdir(parents=True, exist_ok=True)
    root_key, wwdr_key, pass_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)
    )
    root_name = _name("Apple Inc.", "Apple Root CA")
    wwdr_name = _name("Apple Inc.", "Apple Worldwide Developer Relations Certification Authority")
    wwdr = _certificate(wwdr_name, root_name, wwdr_key, root_key, ca=True)
    leaf = _certificate(
        _name("Happy Loyalty Sh.p.k.", "Pass Type ID: pass.al.happy.card"),
        wwdr_name,
        pass_key,
        wwdr_key,
        ca=False,
        days=-1 if expired else 365,
    )
    files = WalletFiles(
        pass_cert=folder / "pass.pem",
        pass_key=folder / "pass.key",
        wwdr_cert=folder / "wwdr.pem",
        google_account=folder / "google.json",
    )
    files.pass_cert.write_bytes(_pem(leaf))
    files.pass_key.write_bytes(_key_pem(pass_key))
    files.wwdr_cert.write_bytes(_pem(wwdr))
    account = make_dev_service_account(project_id="happy-loyalty-prod", name="wallet-issuer")
    files.google_account.write_text(json.dumps(account))
    return files


@pytest.fixture(scope="session")
def wallet_files(tmp_path_factory: pytest.TempPathFactory) -> WalletFiles:
    return make_apple_shaped_files(tmp_path_factory.mktemp("production-wallet"))


def production_settings(base: Settings, files: WalletFiles, **changes: Any) -> Settings:
    """``base`` (the test database) made fit for production."""
    values: dict[str, Any] = dict(
        env="production",
        sms_backend="log",
        jwt_secret=STRONG_JWT_SECRET,
        hash_secret=STRONG_HASH_SECRET,
        graphiql=False,
        public_base_url="https://api.happy.example",
        apple_pass_cert=str(files.pass_cert),
        apple_pass_key=str(files.pass_key),
        apple_wwdr_cert=str(files.wwdr_cert),
        apns_backend="http2",
        google_service_account_file=str(files.google_account),
        google_wallet_backend="rest",
        wallet_dev_dir=base.storage_dir.parent / "wallet-dev",
    )
    return with_settings(base, **{**values, **changes})


@pytest.fixture
def prod_settings(settings: Settings, wallet_files: WalletFiles) -> Settings:
    return production_settings(settings, wallet_files)


@pytest.fixture
async def prod_client(prod_settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app started with production settings."""
    app = create_app(prod_settings, db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        yield c


@pytest.fixture
async def prod_key(coalition: None, prod_settings: Settings, db: Database) -> str:  # noqa: F811
    """A partner key issued under the production settings' secrets (SPAR-TIR-01)."""
    return await make_key(db, prod_settings, "SPAR-TIR-01")
