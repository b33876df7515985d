"""Generated passes and QR images in S3 (a moto server process over HTTP)."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from app.settings import Settings
from app.wallet import files
from tests.helpers import Api
from tests.wallet.conftest import local_path, member_card
from wallet_passes.storage import S3Storage


@pytest.fixture
def settings(settings: Settings, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return replace(
        settings,
        storage="s3",
        s3_bucket="happy-wallet-files",
        s3_prefix="happy/",
        s3_region="eu-central-1",
        s3_endpoint_url=moto_endpoint,
    )


async def test_pass_and_qr_are_stored_in_s3(api: Api, client: httpx.AsyncClient, app, settings):
    storage = app.state.runtime.wallet.storage
    assert isinstance(storage, S3Storage)
    buckets = {b["Name"] for b in storage.client.list_buckets().get("Buckets", [])}
    if settings.s3_bucket not in buckets:
        storage.client.create_bucket(
            Bucket=settings.s3_bucket,
            CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
        )
    _, me = await member_card(api)
    downloaded = await client.get(local_path(me["card"]["appleWalletUrl"]))
    assert downloaded.status_code == 200
    png = await client.get(local_path(me["card"]["qrPngUrl"]))
    assert png.status_code == 200

    listing = storage.client.list_objects_v2(Bucket=settings.s3_bucket, Prefix="happy/")
    keys = sorted(o["Key"] for o in listing.get("Contents", []))
    passes = [k for k in keys if k.startswith("happy/passes/") and k.endswith(".pkpass")]
    images = [k for k in keys if k.startswith("happy/qr/") and k.endswith(".png")]
    assert len(passes) == 1 and len(images) == 1, keys
    stored = storage.client.get_object(Bucket=settings.s3_bucket, Key=passes[0])
    assert stored["ContentType"] == "application/vnd.apple.pkpass"
    assert stored["Body"].read() == downloaded.content
    assert me["card"]["number"] not in " ".join(keys)

    # A second download is served from S3, not built again.
    storage.put(passes[0].removeprefix("happy/"), b"PK-cached", "application/vnd.apple.pkpass")
    files._recent.items.clear()
    again = await client.get(local_path(me["card"]["appleWalletUrl"]))
    assert again.content == b"PK-cached"
