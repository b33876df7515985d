"""Apple .pkpass: structure, manifest, and a signature checked by the real openssl."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import zxingcpp
from cryptography import x509
from PIL import Image

from tests.helpers import OPENSSL, needs_openssl, openssl_verify
from wallet_passes import qr
from wallet_passes.apple import (
    PassColours,
    PassContent,
    PassError,
    PassLocation,
    PassSigner,
    build_pkpass,
    default_assets,
    load_pem_from,
)
from wallet_passes.dev_certs import DevChain, make_dev_chain

PASS_TYPE_ID = "pass.al.happy.card"  # as in conftest.py
TEAM_ID = "HAPPYDEV00"


def content(**overrides: object) -> PassContent:
    values: dict[str, object] = {
        "serial_number": "m-7f3a9c",
        "authentication_token": "tok_0123456789abcdef",
        "member_name": "Arbër Hoxha",
        "card_number": "2900000000017",
        "balance": 1280,
        "tier": "Gold",
        "web_service_url": "https://happy.example/wallet",
    }
    values.update(overrides)
    return PassContent(**values)  # type: ignore[arg-type]


def build(signer: PassSigner, **overrides: object) -> bytes:
    return build_pkpass(
        content(**overrides),
        signer,
        pass_type_id=PASS_TYPE_ID,
        team_id=TEAM_ID,
        organization_name="Happy",
    )


def unpack(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def manifest_matches(files: dict[str, bytes]) -> bool:
    manifest = json.loads(files["manifest.json"])
    listed = set(manifest)
    present = set(files) - {"manifest.json", "signature"}
    return listed == present and all(
        hashlib.sha1(files[name]).hexdigest() == digest for name, digest in manifest.items()
    )


@pytest.fixture(scope="module")
def pkpass(signer: PassSigner) -> bytes:
    return build(signer)


def test_archive_layout(pkpass: bytes) -> None:
    files = unpack(pkpass)
    assert {"pass.json", "manifest.json", "signature", "icon.png", "icon@2x.png"} <= set(files)
    assert all("/" not in name for name in files)  # everything at the zip root
    assert manifest_matches(files)


def test_pass_json_fields(pkpass: bytes) -> None:
    raw = unpack(pkpass)["pass.json"]
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")
    document = json.loads(raw)
    assert document["formatVersion"] == 1
    assert document["passTypeIdentifier"] == PASS_TYPE_ID
    assert document["teamIdentifier"] == TEAM_ID
    assert document["serialNumber"] == "m-7f3a9c"
    assert document["organizationName"] == "Happy"
    assert document["description"]
    assert document["webServiceURL"] == "https://happy.example/wallet"
    assert document["authenticationToken"] == "tok_0123456789abcdef"
    assert "barcode" not in document
    assert document["barcodes"] == [
        {
            "format": "PKBarcodeFormatQR",
            "message": "2900000000017",
            "messageEncoding": "iso-8859-1",
            "altText": "2900000000017",
        }
    ]
    card = document["storeCard"]
    (balance,) = card["primaryFields"]
    assert balance["key"] == "balance" and balance["value"] == 1280
    assert balance["changeMessage"] == "Balance now %@"
    secondary = {f["key"]: f for f in card["secondaryFields"]}
    assert secondary["tier"]["value"] == "Gold"
    assert secondary["member"]["value"] == "Arbër Hoxha"
    assert card["auxiliaryFields"][0]["value"] == "2900000000017"
    assert {f["key"] for f in card["backFields"]} >= {"terms", "card-back"}
    for colour in ("foregroundColor", "backgroundColor", "labelColor"):
        assert document[colour].startswith("rgb(")


def test_barcode_message_decodes(pkpass: bytes) -> None:
    message = json.loads(unpack(pkpass)["pass.json"])["barcodes"][0]["message"]
    image = Image.open(io.BytesIO(qr.qr_png(message)))
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [message]


def test_icons_have_apple_sizes() -> None:
    assets = default_assets()
    for name, size in {
        "icon.png": (29, 29),
        "icon@2x.png": (58, 58),
        "icon@3x.png": (87, 87),
        "logo.png": (160, 50),
        "logo@2x.png": (320, 100),
        "logo@3x.png": (480, 150),
    }.items():
        assert Image.open(io.BytesIO(assets[name])).size == size, name


@needs_openssl
def test_signature_verifies_with_openssl(
    pkpass: bytes, dev_chain: DevChain, tmp_path: Path
) -> None:
    files = unpack(pkpass)
    result = openssl_verify(tmp_path, files, dev_chain.root_cert)
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr


@needs_openssl
def test_signature_is_detached_with_signing_time(pkpass: bytes, tmp_path: Path) -> None:
    signature = tmp_path / "signature"
    signature.write_bytes(unpack(pkpass)["signature"])
    printed = subprocess.run(
        [str(OPENSSL), "cms", "-cmsout", "-print", "-inform", "DER", "-in", str(signature)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    assert "eContent: <ABSENT>" in printed
    assert "signingTime" in printed
    assert "sha256" in printed.lower()
    assert "Happy Development Worldwide Developer Relations CA" in printed  # WWDR included


@needs_openssl
def test_tampered_manifest_fails(pkpass: bytes, dev_chain: DevChain, tmp_path: Path) -> None:
    files = unpack(pkpass)
    files["manifest.json"] = files["manifest.json"].replace(b"}", b' ,"x": "0"}', 1)
    result = openssl_verify(tmp_path, files, dev_chain.root_cert)
    assert result.returncode != 0
    assert "Verification successful" not in result.stderr


@needs_openssl
def test_tampered_pass_json_with_recomputed_manifest_fails(
    pkpass: bytes, dev_chain: DevChain, tmp_path: Path
) -> None:
    files = unpack(pkpass)
    files["pass.json"] = files["pass.json"].replace(b"1280", b"999999")
    assert not manifest_matches(files)  # an unchanged manifest betrays the edit...
    manifest = json.loads(files["manifest.json"])
    manifest["pass.json"] = hashlib.sha1(files["pass.json"]).hexdigest()
    files["manifest.json"] = json.dumps(manifest, indent=2, sort_keys=True).encode()
    assert manifest_matches(files)
    result = openssl_verify(tmp_path, files, dev_chain.root_cert)  # ...a new one the signature
    assert result.returncode != 0


@needs_openssl
def test_other_root_does_not_verify(pkpass: bytes, tmp_path: Path) -> None:
    other = make_dev_chain(tmp_path / "other", PASS_TYPE_ID, TEAM_ID)
    result = openssl_verify(tmp_path / "check", unpack(pkpass), other.root_cert)
    assert result.returncode != 0


def test_deterministic_apart_from_signature(signer: PassSigner) -> None:
    first, second = unpack(build(signer)), unpack(build(signer))
    assert {k: v for k, v in first.items() if k != "signature"} == {
        k: v for k, v in second.items() if k != "signature"
    }
    changed = unpack(build(signer, balance=1300))
    assert changed["pass.json"] != first["pass.json"]


def test_locations_and_relevant_text(signer: PassSigner) -> None:
    document = json.loads(
        unpack(
            build(
                signer,
                locations=(
                    PassLocation(41.3275, 19.8187, "Spar Tirana: show your card"),
                    PassLocation(41.33, 19.82),
                ),
                relevant_text="Happy partner nearby",
            )
        )["pass.json"]
    )
    assert [loc.get("relevantText") for loc in document["locations"]] == [
        "Spar Tirana: show your card",
        "Happy partner nearby",
    ]


def test_without_web_service_omits_token(signer: PassSigner) -> None:
    document = json.loads(unpack(build(signer, web_service_url=None))["pass.json"])
    assert "webServiceURL" not in document and "authenticationToken" not in document


@pytest.mark.parametrize(
    "overrides",
    [
        {"authentication_token": "short"},
        {"authentication_token": "0123456789abcdef\n"},
        {"serial_number": ""},
        {"barcode_message": "Здраво"},
        {"locations": tuple(PassLocation(0, 0) for _ in range(11))},
    ],
)
def test_invalid_content_is_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(PassError):
        content(**overrides)


@pytest.mark.parametrize("colour", ["#ff0000", "rgb(256, 0, 0)", "rgb(1,2)", "red"])
def test_colours_must_be_rgb(colour: str) -> None:
    with pytest.raises(PassError):
        PassColours(background=colour)


def test_icon_is_required(signer: PassSigner) -> None:
    assets = dict(default_assets())
    del assets["icon.png"]
    with pytest.raises(PassError, match=r"icon\.png"):
        build_pkpass(
            content(),
            signer,
            pass_type_id=PASS_TYPE_ID,
            team_id=TEAM_ID,
            organization_name="Happy",
            assets=assets,
        )


@pytest.mark.parametrize("name", ["../evil.png", "/abs.png", "manifest.json", "a/b/c.png"])
def test_bad_asset_names_refused(signer: PassSigner, name: str) -> None:
    assets = {**default_assets(), name: b"x"}
    with pytest.raises(PassError):
        build_pkpass(
            content(),
            signer,
            pass_type_id=PASS_TYPE_ID,
            team_id=TEAM_ID,
            organization_name="Happy",
            assets=assets,
        )


def test_pass_type_id_must_match_certificate(signer: PassSigner) -> None:
    assert signer.pass_type_id == PASS_TYPE_ID
    assert signer.team_id == TEAM_ID
    with pytest.raises(PassError, match="pass type id"):
        build_pkpass(
            content(),
            signer,
            pass_type_id="pass.other.card",
            team_id=TEAM_ID,
            organization_name="Happy",
        )


def test_signer_refuses_wrong_wwdr_and_wrong_key(dev_chain: DevChain, tmp_path: Path) -> None:
    other = make_dev_chain(tmp_path, PASS_TYPE_ID, TEAM_ID)
    with pytest.raises(PassError, match="WWDR"):
        PassSigner.from_pem(
            dev_chain.pass_cert.read_bytes(),
            dev_chain.pass_key.read_bytes(),
            other.wwdr_cert.read_bytes(),
        )
    with pytest.raises(PassError, match="private key"):
        PassSigner.from_pem(
            dev_chain.pass_cert.read_bytes(),
            other.pass_key.read_bytes(),
            dev_chain.wwdr_cert.read_bytes(),
        )


def test_encrypted_key_and_load_from_paths(tmp_path: Path) -> None:
    chain = make_dev_chain(tmp_path, PASS_TYPE_ID, TEAM_ID, key_password=b"s3cret")
    assert b"ENCRYPTED" in chain.pass_key.read_bytes()
    assert chain.pass_key.stat().st_mode & 0o777 == 0o600
    signer = PassSigner.load(
        str(chain.pass_cert), str(chain.pass_key), str(chain.wwdr_cert), key_password="s3cret"
    )
    assert signer.pass_type_id == PASS_TYPE_ID
    with pytest.raises(PassError):
        PassSigner.load(str(chain.pass_cert), str(chain.pass_key), str(chain.wwdr_cert))


def test_dev_chain_shape(dev_chain: DevChain) -> None:
    root = x509.load_pem_x509_certificate(dev_chain.root_cert.read_bytes())
    wwdr = x509.load_pem_x509_certificate(dev_chain.wwdr_cert.read_bytes())
    leaf = x509.load_pem_x509_certificate(dev_chain.pass_cert.read_bytes())
    wwdr.verify_directly_issued_by(root)
    leaf.verify_directly_issued_by(wwdr)
    assert leaf.subject.rfc4514_string().startswith(f"C=AL,O=Happy (development),OU={TEAM_ID}")
    assert f"CN=Pass Type ID: {PASS_TYPE_ID}" in leaf.subject.rfc4514_string()
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca


def test_load_pem_from_s3_uses_client() -> None:
    class FakeBody:
        def read(self) -> bytes:
            return b"PEM"

    class FakeS3:
        def __init__(self) -> None:
            self.calls: list[tuple[str, str]] = []

        def get_object(self, *, Bucket: str, Key: str) -> dict[str, object]:
            self.calls.append((Bucket, Key))
            return {"Body": FakeBody()}

    client = FakeS3()
    assert load_pem_from("s3://certs/apple/pass.pem", client) == b"PEM"
    assert client.calls == [("certs", "apple/pass.pem")]
    for bad in ("", "s3://bucket-only", "s3:///key"):
        with pytest.raises(PassError):
            load_pem_from(bad, client)
