"""Local and S3 storage; S3 runs against a moto server process over HTTP."""

from __future__ import annotations

import os
import time
import urllib.error
import urllib.request
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


# --- concurrent writers and cleanups of one folder (issue 9 item 7) ----------------------


def test_cleanup_leaves_a_concurrent_writers_temporary_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race behind the flaky wallet concurrency test, made deterministic: writer A has
    written its temporary file and is about to ``os.replace`` it when writer B cleans the
    folder (``_store_latest``: delete_folder, then put). B must not take A's file away."""
    import threading

    import wallet_passes.storage as storage_module

    storage = LocalStorage(tmp_path)
    storage.put("passes/S/old.pkpass", b"old", "application/vnd.apple.pkpass")
    written, cleaned = threading.Event(), threading.Event()
    real_replace = os.replace

    def replace_after_cleanup(source: str, target: object) -> None:
        written.set()  # A's temporary file is complete ...
        assert cleaned.wait(5)  # ... and B cleans the folder before A renames it
        real_replace(source, target)  # type: ignore[arg-type]

    monkeypatch.setattr(storage_module.os, "replace", replace_after_cleanup)
    errors: list[BaseException] = []

    def writer_a() -> None:
        try:
            storage.put("passes/S/new.pkpass", b"new", "application/vnd.apple.pkpass")
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=writer_a)
    thread.start()
    assert written.wait(5)
    assert storage.delete_folder("passes/S") == 1  # the old version; not A's temporary file
    cleaned.set()
    thread.join(5)
    assert errors == []
    assert storage.get("passes/S/new.pkpass") == b"new"
    assert storage.get("passes/S/old.pkpass") is None
    assert sorted(p.name for p in (tmp_path / "passes" / "S").iterdir()) == ["new.pkpass"]


def test_write_survives_its_folder_being_removed_under_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writer A made the folder; B's cleanup removes it (empty) before A creates its
    temporary file there: A makes the folder again instead of failing."""
    import tempfile

    import wallet_passes.storage as storage_module

    storage = LocalStorage(tmp_path)
    real_mkstemp = tempfile.mkstemp
    calls = []

    def mkstemp_after_cleanup(*args: object, **kwargs: object) -> tuple[int, str]:
        calls.append(1)
        if len(calls) == 1:
            assert storage.delete_folder("passes/S") == 0
            assert not (tmp_path / "passes" / "S").exists()
        return real_mkstemp(*args, **kwargs)  # type: ignore[call-overload, no-any-return]

    monkeypatch.setattr(storage_module.tempfile, "mkstemp", mkstemp_after_cleanup)
    storage.put("passes/S/new.pkpass", b"new", "application/vnd.apple.pkpass")
    assert len(calls) == 2
    assert storage.get("passes/S/new.pkpass") == b"new"


def test_cleanup_keeps_a_folder_that_gains_a_file_and_tolerates_vanished_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("passes/S/a.pkpass", b"a", "application/vnd.apple.pkpass")
    storage.put("passes/S/b.pkpass", b"b", "application/vnd.apple.pkpass")
    real_unlink = Path.unlink

    def unlink_racing(self: Path, missing_ok: bool = False) -> None:
        if self.name == "b.pkpass":
            real_unlink(self)  # a concurrent cleanup got there first ...
            storage.put("passes/S/c.pkpass", b"c", "application/vnd.apple.pkpass")  # ... + a put
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(Path, "unlink", unlink_racing)
    assert storage.delete_folder("passes/S") == 1  # a; b was gone; c arrived after listing
    monkeypatch.undo()
    assert storage.get("passes/S/c.pkpass") == b"c"
    assert storage.get("passes/S/a.pkpass") is None


def test_cleanup_removes_only_stale_temporary_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    folder = tmp_path / "passes" / "S"
    folder.mkdir(parents=True)
    fresh, stale = folder / ".tmp-fresh.part", folder / ".tmp-stale.part"
    fresh.write_bytes(b"being written")
    stale.write_bytes(b"left by a crash")
    long_ago = time.time() - 2 * 3600
    os.utime(stale, (long_ago, long_ago))
    assert storage.delete_folder("passes/S") == 0  # temporary files are not keys
    assert fresh.exists() and not stale.exists()
    fresh.unlink()
    assert storage.delete_folder("passes/S") == 0
    assert not folder.exists()


def test_many_threads_storing_and_cleaning_one_folder(tmp_path: Path) -> None:
    """What the Apple web service does when devices fetch a changing pass at once."""
    from concurrent.futures import ThreadPoolExecutor

    storage = LocalStorage(tmp_path)

    def store_latest(n: int) -> None:
        for round_ in range(30):
            storage.delete_folder("passes/S")
            storage.put(f"passes/S/v{n}-{round_}.pkpass", b"x" * 512, "application/octet-stream")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(store_latest, range(8)))  # re-raises any writer's error
    left = list((tmp_path / "passes" / "S").iterdir())
    assert left and all(p.suffix == ".pkpass" for p in left)  # no temporary file left behind
