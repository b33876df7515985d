"""Apple Wallet store cards (``.pkpass``): pass.json, manifest, detached PKCS#7 signature.

The rules that implementations get wrong are in ``shared/notes/wallet-passes.md``; the ones
this module enforces: ``barcodes`` (array) with iso-8859-1 message encoding, a manifest with
the SHA-1 of every file, a detached DER signature over manifest.json made with SHA-256 and
*with* signed attributes (signing time), the WWDR intermediate that issued the pass
certificate, files at the zip root, pass.json in UTF-8 without a byte-order mark, icon.png.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

REQUIRED_ASSETS = ("icon.png",)
DEFAULT_ASSET_NAMES = (
    "icon.png",
    "icon@2x.png",
    "icon@3x.png",
    "logo.png",
    "logo@2x.png",
    "logo@3x.png",
)
MIN_AUTHENTICATION_TOKEN = 16
# Zip entries get a fixed timestamp so the archive depends only on its content.
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_RGB = re.compile(r"rgb\(\s*\d{1,3}\s*,\s*\d{1,3}\s*,\s*\d{1,3}\s*\)")
_ASSET_NAME = re.compile(r"(?:[a-z]{2,3}(?:[-_][A-Za-z]{2,4})?\.lproj/)?[A-Za-z0-9@._-]+")
_RESERVED = {"pass.json", "manifest.json", "signature"}
_UID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")


class PassError(ValueError):
    """The pass content or signing material is unusable."""


class S3Getter(Protocol):
    """The part of a boto3 S3 client that ``load_pem_from`` uses."""

    def get_object(self, *, Bucket: str, Key: str) -> Mapping[str, Any]: ...


def load_pem_from(source: str, s3_client: S3Getter | None = None) -> bytes:
    """Bytes of a PEM file given as a local path or ``s3://bucket/key``."""
    if not source:
        raise PassError("no certificate or key source configured")
    if source.startswith("s3://"):
        bucket, _, key = source[len("s3://") :].partition("/")
        if not bucket or not key:
            raise PassError(f"S3 source must be s3://bucket/key, got {source!r}")
        if s3_client is None:
            import boto3  # only needed for S3 sources

            s3_client = boto3.client("s3")
        body = s3_client.get_object(Bucket=bucket, Key=key)["Body"]
        data: bytes = body.read()
        return data
    return Path(source).expanduser().read_bytes()


@dataclass(frozen=True)
class PassColours:
    """Colours as CSS ``rgb(r, g, b)`` strings (the only form Wallet accepts)."""

    foreground: str = "rgb(255, 255, 255)"
    background: str = "rgb(242, 113, 28)"
    label: str = "rgb(255, 236, 179)"

    def __post_init__(self) -> None:
        for name in ("foreground", "background", "label"):
            value = getattr(self, name)
            if not _RGB.fullmatch(value) or any(
                int(part) > 255 for part in re.findall(r"\d+", value)
            ):
                raise PassError(f"{name} colour must be rgb(r, g, b), got {value!r}")


@dataclass(frozen=True)
class PassLabels:
    """Field labels and texts in the member's language (English by default)."""

    description: str = "Happy loyalty card"
    logo_text: str = "Happy"
    balance: str = "POINTS"
    balance_change: str = "Balance now %@"
    tier: str = "TIER"
    tier_change: str = "Tier now %@"
    member: str = "MEMBER"
    card_number: str = "CARD"
    terms_label: str = "Terms"
    terms: str = "Points are valid for 12 months from the day they were earned."
    contact_label: str = "Help"
    contact: str = ""


@dataclass(frozen=True)
class PassLocation:
    """A store where the pass shows on the lock screen, with its ``relevantText``."""

    latitude: float
    longitude: float
    relevant_text: str | None = None  # falls back to PassContent.relevant_text


@dataclass(frozen=True)
class PassContent:
    """Everything that varies between members' store cards.

    ``serial_number`` and ``authentication_token`` must never change for a given pass: iOS
    identifies the pass by them when it asks the web service for updates.
    """

    serial_number: str
    authentication_token: str
    member_name: str
    card_number: str
    balance: int
    tier: str
    web_service_url: str | None
    barcode_message: str | None = None  # defaults to the card number
    colours: PassColours = field(default_factory=PassColours)
    labels: PassLabels = field(default_factory=PassLabels)
    locations: tuple[PassLocation, ...] = ()
    relevant_text: str | None = None  # lock-screen text for locations without their own
    sharing_prohibited: bool = True

    def __post_init__(self) -> None:
        if not self.serial_number or len(self.serial_number) > 128:
            raise PassError("serial_number must be 1-128 characters")
        token = self.authentication_token
        if len(token) < MIN_AUTHENTICATION_TOKEN or not token.isascii() or not token.isprintable():
            raise PassError("authentication_token must be at least 16 printable ASCII characters")
        if not self.card_number:
            raise PassError("card_number is required")
        try:
            self.message.encode("iso-8859-1")
        except UnicodeEncodeError as exc:
            raise PassError("barcode message must be representable in ISO-8859-1") from exc
        if len(self.locations) > 10:
            raise PassError("Wallet uses at most 10 locations")

    @property
    def message(self) -> str:
        return self.barcode_message if self.barcode_message is not None else self.card_number


@dataclass(frozen=True)
class PassSigner:
    """Pass type certificate, its private key and the WWDR intermediate that issued it."""

    certificate: x509.Certificate
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    wwdr_certificate: x509.Certificate

    @classmethod
    def from_pem(
        cls,
        certificate_pem: bytes,
        private_key_pem: bytes,
        wwdr_pem: bytes,
        *,
        key_password: bytes | None = None,
    ) -> PassSigner:
        """Load and cross-check the signing material (raises ``PassError`` on a mismatch)."""
        try:
            certificate = x509.load_pem_x509_certificate(certificate_pem)
            wwdr = x509.load_pem_x509_certificate(wwdr_pem)
            key = serialization.load_pem_private_key(private_key_pem, password=key_password)
        except (ValueError, TypeError) as exc:
            raise PassError(f"unreadable pass certificate, key or WWDR certificate: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise PassError("the pass key must be RSA or EC")
        spki = serialization.PublicFormat.SubjectPublicKeyInfo
        der = serialization.Encoding.DER
        if key.public_key().public_bytes(der, spki) != certificate.public_key().public_bytes(
            der, spki
        ):
            raise PassError("the private key does not belong to the pass certificate")
        try:
            certificate.verify_directly_issued_by(wwdr)
        except (ValueError, TypeError, InvalidSignature) as exc:
            raise PassError(
                "the WWDR certificate did not issue the pass certificate "
                "(new pass certificates are issued by WWDR G4)"
            ) from exc
        return cls(certificate=certificate, private_key=key, wwdr_certificate=wwdr)

    @classmethod
    def load(
        cls,
        certificate_source: str,
        private_key_source: str,
        wwdr_source: str,
        *,
        key_password: str = "",
        s3_client: S3Getter | None = None,
    ) -> PassSigner:
        """Load from paths or ``s3://`` URLs (the ``apple_*`` settings)."""
        return cls.from_pem(
            load_pem_from(certificate_source, s3_client),
            load_pem_from(private_key_source, s3_client),
            load_pem_from(wwdr_source, s3_client),
            key_password=key_password.encode("utf-8") if key_password else None,
        )

    @property
    def pass_type_id(self) -> str | None:
        """The pass type identifier in the certificate's UID (as Apple issues them)."""
        values = self.certificate.subject.get_attributes_for_oid(_UID)
        return str(values[0].value) if values else None

    @property
    def team_id(self) -> str | None:
        values = self.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        return str(values[0].value) if values else None

    def not_valid_after(self) -> datetime:
        return min(self.certificate.not_valid_after_utc, self.wwdr_certificate.not_valid_after_utc)

    def sign(self, manifest: bytes) -> bytes:
        """Detached DER PKCS#7 signature of ``manifest`` (SHA-256, with signing time)."""
        return (
            pkcs7.PKCS7SignatureBuilder()
            .set_data(manifest)
            .add_signer(self.certificate, self.private_key, hashes.SHA256())
            .add_certificate(self.wwdr_certificate)
            # Binary: no LF -> CRLF rewriting. Never NoAttributes: iOS needs the signing time.
            .sign(
                serialization.Encoding.DER,
                [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary],
            )
        )


@lru_cache(maxsize=1)
def default_assets() -> Mapping[str, bytes]:
    """The icon and logo images shipped in ``wallet_passes/assets``."""
    folder = Path(__file__).resolve().parent / "assets"
    return {name: (folder / name).read_bytes() for name in DEFAULT_ASSET_NAMES}


def _field(key: str, label: str, value: str | int, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, **extra}


def pass_json(
    content: PassContent, *, pass_type_id: str, team_id: str, organization_name: str
) -> dict[str, Any]:
    """The pass.json dictionary of a store card."""
    labels = content.labels
    back_fields = [
        _field("member-back", labels.member, content.member_name),
        _field("card-back", labels.card_number, content.card_number),
        _field("terms", labels.terms_label, labels.terms),
    ]
    if labels.contact:
        back_fields.append(_field("contact", labels.contact_label, labels.contact))
    document: dict[str, Any] = {
        "formatVersion": 1,
        "passTypeIdentifier": pass_type_id,
        "serialNumber": content.serial_number,
        "teamIdentifier": team_id,
        "organizationName": organization_name,
        "description": labels.description,
        "logoText": labels.logo_text,
        "foregroundColor": content.colours.foreground,
        "backgroundColor": content.colours.background,
        "labelColor": content.colours.label,
        "sharingProhibited": content.sharing_prohibited,
        "barcodes": [
            {
                "format": "PKBarcodeFormatQR",
                "message": content.message,
                "messageEncoding": "iso-8859-1",
                "altText": content.card_number,
            }
        ],
        "storeCard": {
            "primaryFields": [
                _field(
                    "balance",
                    labels.balance,
                    content.balance,
                    changeMessage=labels.balance_change,
                    numberStyle="PKNumberStyleDecimal",
                )
            ],
            "secondaryFields": [
                _field("member", labels.member, content.member_name),
                _field(
                    "tier",
                    labels.tier,
                    content.tier,
                    changeMessage=labels.tier_change,
                    textAlignment="PKTextAlignmentRight",
                ),
            ],
            "auxiliaryFields": [_field("card", labels.card_number, content.card_number)],
            "backFields": back_fields,
        },
    }
    if content.web_service_url is not None:
        document["webServiceURL"] = content.web_service_url
        document["authenticationToken"] = content.authentication_token
    if content.locations:
        locations = []
        for location in content.locations:
            entry: dict[str, Any] = {"latitude": location.latitude, "longitude": location.longitude}
            text = location.relevant_text or content.relevant_text
            if text:
                entry["relevantText"] = text
            locations.append(entry)
        document["locations"] = locations
    return document


def _zip(files: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            # PNGs are already compressed; deflating them again only costs time.
            stored = name.endswith(".png")
            info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name])
    return buffer.getvalue()


def build_pkpass(
    content: PassContent,
    signer: PassSigner,
    *,
    pass_type_id: str,
    team_id: str,
    organization_name: str,
    assets: Mapping[str, bytes] | None = None,
) -> bytes:
    """The signed ``.pkpass`` archive (bytes) of a store card.

    ``assets`` maps file names at the archive root (or in ``xx.lproj/``) to bytes; by default
    the package's icon and logo images. Apart from the signing time in the signature, the
    output depends only on the arguments.
    """
    if signer.pass_type_id is not None and signer.pass_type_id != pass_type_id:
        raise PassError(
            f"pass type id {pass_type_id!r} differs from the certificate's {signer.pass_type_id!r}"
        )
    if signer.team_id is not None and signer.team_id != team_id:
        raise PassError(f"team id {team_id!r} differs from the certificate's {signer.team_id!r}")
    files: dict[str, bytes] = dict(default_assets() if assets is None else assets)
    for name in files:
        if name in _RESERVED or not _ASSET_NAME.fullmatch(name) or ".." in name:
            raise PassError(f"invalid asset name {name!r}")
    for name in REQUIRED_ASSETS:
        if name not in files:
            raise PassError(f"{name} is required, iOS silently rejects a pass without it")
    document = pass_json(
        content, pass_type_id=pass_type_id, team_id=team_id, organization_name=organization_name
    )
    # Plain UTF-8 (json.dumps never writes a byte-order mark), non-ASCII kept readable.
    files["pass.json"] = json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True).encode(
        "utf-8"
    )
    manifest = json.dumps(
        {name: hashlib.sha1(data).hexdigest() for name, data in sorted(files.items())},  # noqa: S324  (the format requires SHA-1)
        indent=2,
        sort_keys=True,
    ).encode("utf-8")
    files["manifest.json"] = manifest
    files["signature"] = signer.sign(manifest)
    return _zip(files)
