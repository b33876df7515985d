"""Local and S3 storage; S3 runs against a moto server process over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from wallet_passes.storage import (
    InvalidStorageKey,
    LocalStorage,
    S3Storage,
    Storage,
    StorageError,
    content_type_for,
    make_storage,
)

UNSAFE_KEYS = ["", "../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", "a\\b", "a b", "x/"]


def test_local_round_trip(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "files")
    assert storage.get("qr/1.png") is None
    storage.put("qr/1.png", b"\x89PNG one", "image/png")
    storage.put("qr/1.png", b"\x89PNG two", "image/png")
    assert storage.get("qr/1.png") == b"\x89PNG two"
    assert [p.name for p in (tmp_path / "files" / "qr").iterdir()] == ["1.png"]  # no temp left
    storage.delete("qr/1.png")
    storage.delete("qr/1.png")
    assert storage.get("qr/1.png") is None


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_local_refuses_unsafe_keys(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(InvalidStorageKey):
        storage.put(key, b"x", "text/plain")
    with pytest.raises(InvalidStorageKey):
        storage.get(key)


def test_local_refuses_symlink_escape(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "root"
    root.mkdir()
    (root / "link").symlink_to(outside)
    with pytest.raises(InvalidStorageKey):
        LocalStorage(root).put("link/x.png", b"x", "image/png")
    assert not (outside / "x.png").exists()


def test_local_write_failure_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("a.png", b"old", "image/png")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        storage.put("a.png", b"new", "image/png")
    monkeypatch.undo()
    assert storage.get("a.png") == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_content_types() -> None:
    assert content_type_for("passes/x.pkpass") == "application/vnd.apple.pkpass"
    assert content_type_for("qr/x.svg") == "image/svg+xml"
    assert content_type_for("qr/x.PNG") == "image/png"
    assert content_type_for("x.bin") == "application/octet-stream"


def test_make_storage_kinds(tmp_path: Path) -> None:
    assert isinstance(make_storage("local", storage_dir=tmp_path), LocalStorage)
    with pytest.raises(StorageError):
        make_storage("ftp", storage_dir=tmp_path)
    with pytest.raises(StorageError):
        make_storage("s3", storage_dir=tmp_path, s3_bucket="")


# --- S3 through a real HTTP server (moto in its own process) --------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def moto_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(endpoint + "/moto-api/", timeout=1):
                    break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.fixture
def s3_storage(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> S3Storage:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    storage = make_storage(
        "s3",
        storage_dir=Path("unused"),
        s3_bucket="happy-files",
        s3_prefix="happy",
        s3_region="eu-central-1",
        s3_endpoint_url=moto_endpoint,
    )
    assert isinstance(storage, S3Storage)
    buckets = {b["Name"] for b in storage.client.list_buckets().get("Buckets", [])}
    if "happy-files" not in buckets:
        storage.client.create_bucket(
            Bucket="happy-files",
            CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
        )
    return storage


def test_s3_round_trip(s3_storage: S3Storage) -> None:
    assert s3_storage.prefix == "happy/"
    assert s3_storage.get("passes/m1.pkpass") is None
    s3_storage.put("passes/m1.pkpass", b"PK\x03\x04 pass", "application/vnd.apple.pkpass")
    assert s3_storage.get("passes/m1.pkpass") == b"PK\x03\x04 pass"
    head = s3_storage.client.head_object(Bucket="happy-files", Key="happy/passes/m1.pkpass")
    assert head["ContentType"] == "application/vnd.apple.pkpass"
    s3_storage.delete("passes/m1.pkpass")
    assert s3_storage.get("passes/m1.pkpass") is None


def test_s3_presigned_url_downloads(s3_storage: S3Storage) -> None:
    s3_storage.put("qr/1.png", b"\x89PNG", "image/png")
    url = s3_storage.presigned_url("qr/1.png", expires_in=60)
    assert "X-Amz-Signature" in url or "Signature=" in url
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.read() == b"\x89PNG"


def test_s3_refuses_unsafe_keys(s3_storage: S3Storage) -> None:
    with pytest.raises(InvalidStorageKey):
        s3_storage.put("../x", b"x", "text/plain")


def test_s3_other_errors_propagate(s3_storage: S3Storage) -> None:
    from botocore.exceptions import ClientError

    missing = S3Storage("no-such-bucket", "", "eu-central-1", client=s3_storage.client)
    with pytest.raises(ClientError):
        missing.get("x.png")


def test_pass_signer_loads_certificates_from_s3(s3_storage: S3Storage, tmp_path: Path) -> None:
    from wallet_passes.apple import PassSigner
    from wallet_passes.dev_certs import make_dev_chain

    chain = make_dev_chain(tmp_path, "pass.al.happy.card", "HAPPYDEV00")
    for path in (chain.pass_cert, chain.pass_key, chain.wwdr_cert):
        s3_storage.put(f"secrets/{path.name}", path.read_bytes(), "application/x-pem-file")
    signer = PassSigner.load(
        "s3://happy-files/happy/secrets/pass.pem",
        "s3://happy-files/happy/secrets/pass.key",
        "s3://happy-files/happy/secrets/wwdr.pem",
        s3_client=s3_storage.client,
    )
    assert signer.pass_type_id == "pass.al.happy.card"


def _fill_folders(storage: Storage) -> None:
    for key in ("passes/S1/a.pkpass", "passes/S1/b.pkpass", "passes/S10/c.pkpass", "qr/x.png"):
        storage.put(key, key.encode(), "application/octet-stream")


def _check_only_folder_removed(storage: Storage, removed: int) -> None:
    assert removed == 2
    assert storage.get("passes/S1/a.pkpass") is None
    assert storage.get("passes/S1/b.pkpass") is None
    # A sibling whose name starts the same, and other folders, stay.
    assert storage.get("passes/S10/c.pkpass") == b"passes/S10/c.pkpass"
    assert storage.get("qr/x.png") == b"qr/x.png"
    assert storage.delete_folder("passes/S1") == 0


def test_local_delete_folder(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    _fill_folders(storage)
    _check_only_folder_removed(storage, storage.delete_folder("passes/S1"))


def test_s3_delete_folder(s3_storage: S3Storage) -> None:
    _fill_folders(s3_storage)
    _check_only_folder_removed(s3_storage, s3_storage.delete_folder("passes/S1"))
