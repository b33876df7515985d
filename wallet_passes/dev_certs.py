"""A development certificate chain shaped like Apple's, for building and verifying passes
without an Apple developer account.

root CA (self-signed) -> "WWDR-like" intermediate -> pass type certificate (UID = pass type
id, OU = team id, CN "Pass Type ID: ...", as Apple issues them). Passes signed with it verify
with ``openssl cms -verify -CAfile root.pem`` but are, rightly, refused by a real iPhone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_UID = x509.ObjectIdentifier("0.9.2342.19200300.100.1.1")


@dataclass(frozen=True)
class DevChain:
    """Paths of the PEM files written by ``make_dev_chain``."""

    root_cert: Path
    wwdr_cert: Path
    pass_cert: Path
    pass_key: Path


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(*attributes: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in attributes])


def _certificate(
    *,
    subject: x509.Name,
    issuer: x509.Name,
    public_key: rsa.RSAPublicKey,
    signing_key: rsa.RSAPrivateKey,
    issuer_key: rsa.RSAPublicKey,
    now: datetime,
    days: int,
    ca_path_length: int | None,
    is_ca: bool,
    leaf_usages: bool = False,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=ca_path_length), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key), critical=False
        )
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    if leaf_usages:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        ).add_extension(
            # The pass certificate is also the TLS client certificate for APNs.
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
    return builder.sign(signing_key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, mode: int) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(temporary, path)


def make_dev_chain(
    out_dir: Path,
    pass_type_id: str,
    team_id: str,
    *,
    organization_name: str = "Happy (development)",
    key_password: bytes | None = None,
    now: datetime | None = None,
    days: int = 825,
) -> DevChain:
    """Write root.pem, wwdr.pem, pass.pem and pass.key (0600) to ``out_dir``."""
    if not pass_type_id.startswith("pass."):
        raise ValueError("a pass type identifier starts with 'pass.'")
    now = now or datetime.now(UTC)
    out_dir.mkdir(parents=True, exist_ok=True)
    root_key, wwdr_key, pass_key = _key(), _key(), _key()
    root_name = _name(
        (NameOID.COUNTRY_NAME, "AL"),
        (NameOID.ORGANIZATION_NAME, "Happy Development Root"),
        (NameOID.COMMON_NAME, "Happy Development Root CA"),
    )
    wwdr_name = _name(
        (NameOID.COUNTRY_NAME, "AL"),
        (NameOID.ORGANIZATION_NAME, "Happy Development Root"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, "G4"),
        (NameOID.COMMON_NAME, "Happy Development Worldwide Developer Relations CA"),
    )
    pass_name = _name(
        (_UID, pass_type_id),
        (NameOID.COMMON_NAME, f"Pass Type ID: {pass_type_id}"),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, team_id),
        (NameOID.ORGANIZATION_NAME, organization_name),
        (NameOID.COUNTRY_NAME, "AL"),
    )
    root = _certificate(
        subject=root_name,
        issuer=root_name,
        public_key=root_key.public_key(),
        signing_key=root_key,
        issuer_key=root_key.public_key(),
        now=now,
        days=days + 365,
        ca_path_length=1,
        is_ca=True,
    )
    wwdr = _certificate(
        subject=wwdr_name,
        issuer=root_name,
        public_key=wwdr_key.public_key(),
        signing_key=root_key,
        issuer_key=root_key.public_key(),
        now=now,
        days=days + 180,
        ca_path_length=0,
        is_ca=True,
    )
    leaf = _certificate(
        subject=pass_name,
        issuer=wwdr_name,
        public_key=pass_key.public_key(),
        signing_key=wwdr_key,
        issuer_key=wwdr_key.public_key(),
        now=now,
        days=days,
        ca_path_length=None,
        is_ca=False,
        leaf_usages=True,
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(key_password)
        if key_password
        else serialization.NoEncryption()
    )
    chain = DevChain(
        root_cert=out_dir / "root.pem",
        wwdr_cert=out_dir / "wwdr.pem",
        pass_cert=out_dir / "pass.pem",
        pass_key=out_dir / "pass.key",
    )
    _write(chain.root_cert, _pem(root), 0o644)
    _write(chain.wwdr_cert, _pem(wwdr), 0o644)
    _write(chain.pass_cert, _pem(leaf), 0o644)
    _write(
        chain.pass_key,
        pass_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
        ),
        0o600,
    )
    return chain
