"""Where generated files (QR images, passes) are kept: local disk or S3.

Keys are relative paths such as ``qr/1234567890128.png``: segments of letters, digits,
``.``, ``_``, ``-`` separated by ``/``, never ``.``/``..`` or absolute, so a key can't
escape the storage root. The interface is synchronous (boto3 is); async callers run it in a
worker thread (``anyio.to_thread.run_sync``).
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

_SEGMENT = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}")
MAX_KEY_LENGTH = 512


class StorageError(RuntimeError):
    """A storage operation failed or was refused."""


class InvalidStorageKey(StorageError, ValueError):
    """A key that is not a safe relative path."""


def check_key(key: str) -> str:
    """``key`` if it is a safe relative path, else ``InvalidStorageKey``."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidStorageKey("storage key must be 1-512 characters")
    for segment in key.split("/"):
        if not _SEGMENT.fullmatch(segment) or segment in {".", ".."}:
            raise InvalidStorageKey(f"unsafe storage key {key!r}")
    return key


class Storage(Protocol):
    """A flat store of immutable-ish blobs by key."""

    def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store ``data`` under ``key`` (replacing atomically)."""
        ...

    def get(self, key: str) -> bytes | None:
        """The bytes under ``key``, or None if there are none."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` (no error if it is absent)."""
        ...

    def delete_folder(self, folder: str) -> int:
        """Remove every key under ``folder/``; returns how many were removed."""
        ...


_TEMP_PREFIX = ".tmp-"
_TEMP_SUFFIX = ".part"
# A writer's temporary file older than this was left by a crashed process: a folder cleanup
# may remove it. Younger ones belong to a writer still at work and are never touched.
STALE_TEMP_SECONDS = 3600
_PUT_ATTEMPTS = 10


def _is_temporary(path: Path) -> bool:
    # Keys never start with "." (see _SEGMENT), so a temporary file is never mistaken for a key.
    return path.name.startswith(_TEMP_PREFIX) and path.name.endswith(_TEMP_SUFFIX)


class LocalStorage:
    """Files under ``root``; writes go to a temporary file then ``os.replace``.

    Several writers (threads, worker processes) may store into and clean up one folder at
    the same time (two devices fetching a changed pass): each writer has its own temporary
    file (``mkstemp``), a folder cleanup never removes a temporary file still being written,
    and a folder removed under a writer's feet is made again and the write retried.
    """

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    def path_for(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if not path.is_relative_to(self.root):  # defence in depth (symlinks)
            raise InvalidStorageKey(f"unsafe storage key {key!r}")
        return path

    def put(self, key: str, data: bytes, content_type: str) -> None:
        # content_type is not kept on disk: whoever serves a local file derives it from the
        # key's extension (content_type_for).
        path = self.path_for(key)
        for attempt in range(_PUT_ATTEMPTS):
            try:
                self._write(path, data)
                return
            except (FileNotFoundError, FileExistsError):
                # A concurrent delete_folder removed the (then empty) folder during our
                # mkdir (FileExistsError: it existed, then was gone) or before mkstemp:
                # make it again and write again.
                if attempt == _PUT_ATTEMPTS - 1:
                    raise

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=_TEMP_PREFIX, suffix=_TEMP_SUFFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def get(self, key: str) -> bytes | None:
        path = self.path_for(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            return None

    def delete(self, key: str) -> None:
        self.path_for(key).unlink(missing_ok=True)

    def delete_folder(self, folder: str) -> int:
        """Remove every key under ``folder/`` (and the folder when nothing else is left).

        Safe beside concurrent writers and cleanups of the same folder: another writer's
        temporary file is left alone (unless stale), files or folders already removed by
        someone else are skipped, and a folder that gained a file meanwhile is kept.
        """
        directory = self.path_for(folder.rstrip("/"))
        paths = _listing(directory)
        if paths is None:
            return 0
        removed = 0
        stale_before = time.time() - STALE_TEMP_SECONDS
        for path in paths:
            try:
                if path.is_dir():
                    _remove_empty_dir(path)
                elif _is_temporary(path):
                    if path.stat().st_mtime < stale_before:
                        path.unlink(missing_ok=True)
                else:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # removed meanwhile by a concurrent cleanup (or its writer)
        _remove_empty_dir(directory)
        return removed


def _listing(directory: Path) -> list[Path] | None:
    """Everything under ``directory``, deepest first; None if it is not (or no longer) a
    folder. A listing broken by a concurrent cleanup is taken again."""
    for _attempt in range(_PUT_ATTEMPTS):
        if not directory.is_dir():
            return None
        try:
            return sorted(directory.rglob("*"), reverse=True)
        except FileNotFoundError:
            continue
    return None


def _remove_empty_dir(directory: Path) -> None:
    """``rmdir`` unless the folder is gone already or not empty (a writer is using it)."""
    try:
        directory.rmdir()
    except FileNotFoundError:
        pass
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST):
            raise


class S3Storage:
    """Objects ``<prefix><key>`` in an S3 bucket, through boto3."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        endpoint_url: str | None = None,
        *,
        client: Any = None,
    ) -> None:
        if not bucket:
            raise StorageError("S3 storage needs a bucket")
        if prefix and not prefix.endswith("/"):
            prefix += "/"
        if prefix:
            check_key(prefix.rstrip("/"))
        self.bucket = bucket
        self.prefix = prefix
        if client is None:
            import boto3  # imported lazily: boto3 is slow to import and only S3 needs it

            client = boto3.client(
                "s3", region_name=region or None, endpoint_url=endpoint_url or None
            )
        self.client = client

    def object_key(self, key: str) -> str:
        return self.prefix + check_key(key)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self.object_key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                return None
            raise
        data: bytes = response["Body"].read()
        return data

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

    def delete_folder(self, folder: str) -> int:
        prefix = self.object_key(folder.rstrip("/")) + "/"
        removed = 0
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
                removed += len(keys)
        return removed

    def presigned_url(self, key: str, expires_in: int = 300) -> str:
        """A time-limited GET URL for ``key``, to hand large files to clients directly."""
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self.object_key(key)},
            ExpiresIn=expires_in,
        )
        return url


_CONTENT_TYPES = {
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".pkpass": "application/vnd.apple.pkpass",
    ".json": "application/json",
}


def content_type_for(key: str) -> str:
    """The content type of a stored file, from its key's extension."""
    return _CONTENT_TYPES.get(Path(key).suffix.lower(), "application/octet-stream")


def make_storage(
    kind: str,
    *,
    storage_dir: Path,
    s3_bucket: str = "",
    s3_prefix: str = "",
    s3_region: str = "",
    s3_endpoint_url: str = "",
) -> Storage:
    """The storage named by the ``storage`` setting: ``local`` or ``s3``."""
    if kind == "local":
        return LocalStorage(storage_dir)
    if kind == "s3":
        return S3Storage(s3_bucket, s3_prefix, s3_region or None, s3_endpoint_url or None)
    raise StorageError(f"unknown storage kind {kind!r} (local or s3)")
