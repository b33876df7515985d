"""Wallet settings, development certificates, production refusals, the CLI, account deletion."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db import Database
from app.events.outbox import OutboxStatus
from app.settings import Settings, SettingsError, load_settings
from app.wallet.models import WalletDeviceRegistration
from app.wallet.runtime import WalletRuntime
from tests.helpers import Api
from tests.wallet.conftest import (
    DEVICE,
    PASS_TYPE,
    PUSH_TOKEN,
    apple,
    download_pass,
    member_id_of,
    outbox,
    pass_json,
    post_points,
)
from wallet_passes.apple import PassSigner

PROJECT = Path(__file__).resolve().parents[2]


def production(**changes: object) -> Settings:
    base = Settings(
        env="production",
        sms_backend="sns",
        jwt_secret="kZ3q9VtR1xW7mP0sL4yB8nC2dF6gH5jA-uE_oI",
        hash_secret="Qw8eR4tY2uI6oP0aS9dF3gH7jK1lZ5xC-vB_nM",
        graphiql=False,
        public_base_url="https://api.happy.al",
        apple_pass_cert="s3://secrets/pass.pem",
        apple_pass_key="s3://secrets/pass.key",
        apple_wwdr_cert="s3://secrets/wwdr.pem",
        apns_backend="http2",
        google_service_account_file="/etc/happy/google.json",
        google_wallet_backend="rest",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_production_with_real_wallet_configuration_is_accepted() -> None:
    production().validate()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"apple_pass_cert": ""}, "HAPPY_APPLE_PASS_CERT"),
        ({"apple_wwdr_cert": ""}, "HAPPY_APPLE_WWDR_CERT"),
        ({"apns_backend": "outbox"}, "HAPPY_APNS_BACKEND"),
        ({"google_service_account_file": ""}, "HAPPY_GOOGLE_SERVICE_ACCOUNT_FILE"),
        ({"google_wallet_backend": "outbox"}, "HAPPY_GOOGLE_WALLET_BACKEND"),
        ({"public_base_url": "http://api.happy.al"}, "HAPPY_PUBLIC_BASE_URL"),
    ],
)
def test_production_refuses_development_wallet(changes: dict[str, object], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        production(**changes).validate()


def test_production_never_makes_development_certificates(tmp_path: Path) -> None:
    runtime = WalletRuntime(production(apple_pass_cert="", wallet_dev_dir=tmp_path))
    with pytest.raises(RuntimeError):
        _ = runtime.signer
    assert list(tmp_path.iterdir()) == []


def test_wallet_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAPPY_PUBLIC_BASE_URL", "https://happy.example/")
    monkeypatch.setenv("HAPPY_APNS_OUTBOX", "/tmp/x/apns.jsonl")
    monkeypatch.setenv("HAPPY_GOOGLE_PROGRAM_LOGO_URL", "https://happy.example/logo.png")
    monkeypatch.setenv("HAPPY_WALLET_LINK_TTL_SECONDS", "120")
    settings = load_settings()
    assert settings.apple_web_service_url == "https://happy.example/wallet"
    assert settings.apns_outbox == Path("/tmp/x/apns.jsonl")
    assert settings.google_program_logo_url == "https://happy.example/logo.png"
    assert settings.wallet_link_ttl_seconds == 120


def test_development_chain_is_made_once(tmp_path: Path) -> None:
    settings = Settings(env="development", wallet_dev_dir=tmp_path / "wallet")
    signer = WalletRuntime(settings).signer
    assert signer.pass_type_id == settings.apple_pass_type_id
    first = (tmp_path / "wallet" / "pass.pem").read_bytes()
    again = WalletRuntime(settings).signer
    assert (tmp_path / "wallet" / "pass.pem").read_bytes() == first
    assert again.certificate == signer.certificate


def test_cli_dev_certs(tmp_path: Path) -> None:
    from cli import main

    assert main(["wallet", "dev-certs", "--out", str(tmp_path / "certs")]) == 0
    folder = tmp_path / "certs"
    signer = PassSigner.load(
        str(folder / "pass.pem"), str(folder / "pass.key"), str(folder / "wwdr.pem")
    )
    assert signer.pass_type_id == "pass.al.happy.card"
    assert oct((folder / "pass.key").stat().st_mode & 0o777) == "0o600"


def test_cli_dev_certs_refused_in_production(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from cli import main

    monkeypatch.setattr("cli.get_settings", lambda: production())
    assert main(["wallet", "dev-certs", "--out", str(tmp_path / "certs")]) == 2
    said = capsys.readouterr()
    assert "Traceback" not in said.err and len(said.err.strip().splitlines()) == 1
    assert said.err.startswith("happy: refusing: development certificates are not for production")
    assert not (tmp_path / "certs").exists()


async def test_cli_push_delivers_rows_queued_without_a_running_app(
    db: Database, settings: Settings, tmp_path: Path
) -> None:
    """Rows queued where nothing delivers after commit wait for ``happy wallet push``."""
    from app.main import create_app

    app = create_app(settings, db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        from tests.helpers import Api, Outbox

        api = Api(client, Outbox(settings.sms_outbox))
        _, data = await download_pass(api, client)
        document = pass_json(data)
        serial, token = document["serialNumber"], document["authenticationToken"]
        await client.post(
            f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}",
            json={"pushToken": PUSH_TOKEN},
            headers=apple(serial, token),
        )
    # A process that only queues (its delivery stopped before the rows were sent).
    db.events.deliver = None
    await post_points(db, await member_id_of(db), 40)
    assert {r.status for r in await outbox(db)} == {OutboxStatus.PENDING}

    env = {
        **os.environ,
        "HAPPY_ENV": "test",
        "HAPPY_DATABASE_URL": settings.database_url,
        "HAPPY_HASH_SECRET": settings.hash_secret,
        "HAPPY_JWT_SECRET": settings.jwt_secret,
        "HAPPY_WALLET_DEV_DIR": str(settings.wallet_dev_dir),
        "HAPPY_APNS_OUTBOX": str(tmp_path / "cli-apns.jsonl"),
        "HAPPY_GOOGLE_OUTBOX": str(tmp_path / "cli-google.jsonl"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        "wallet",
        "push",
        cwd=PROJECT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    assert "2 delivered" in out.decode(), out.decode()
    assert {r.status for r in await outbox(db)} == {OutboxStatus.DONE}
    pushes = [json.loads(line) for line in (tmp_path / "cli-apns.jsonl").read_text().splitlines()]
    assert [p["topic"] for p in pushes] == [PASS_TYPE]
    patches = [
        json.loads(line) for line in (tmp_path / "cli-google.jsonl").read_text().splitlines()
    ]
    assert patches[0]["method"] == "PATCH"
    assert patches[0]["json"]["loyaltyPoints"]["balance"] == {"int": 120}


async def test_account_deletion_forgets_devices(api: Api, client: httpx.AsyncClient, db: Database):
    session = await api.sign_up("+355691110077")
    token = session["accessToken"]
    body = await api.gql("query { me { card { appleWalletUrl } } }", token=token)
    url = body["data"]["me"]["card"]["appleWalletUrl"]
    data = (await client.get(url.removeprefix("https://happy.example"))).content
    document = pass_json(data)
    serial, auth = document["serialNumber"], document["authenticationToken"]
    registration = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}"
    assert (
        await client.post(registration, json={"pushToken": PUSH_TOKEN}, headers=apple(serial, auth))
    ).status_code == 201
    deleted = await api.gql("mutation { deleteAccount { deletedAt } }", token=token)
    assert "errors" not in deleted, deleted
    async with db.read_session() as s:
        assert await s.scalar(select(func.count(WalletDeviceRegistration.id))) == 0
    latest = await client.get(
        f"/wallet/v1/passes/{PASS_TYPE}/{serial}", headers=apple(serial, auth)
    )
    assert latest.status_code == 401
    assert (await client.get(url.removeprefix("https://happy.example"))).status_code == 404


async def test_runtime_closes_its_http_clients(settings: Settings) -> None:
    from app.wallet.google_client import GoogleRestClient

    runtime = WalletRuntime(replace(settings, google_wallet_backend="rest"))
    client = runtime.google
    assert isinstance(client, GoogleRestClient)
    await runtime.aclose()
    assert client._client.is_closed


def test_http2_backend_uses_the_pass_certificate(settings: Settings) -> None:
    import ssl

    from wallet_passes.apns import Http2ApnsSender

    runtime = WalletRuntime(replace(settings, apns_backend="http2"))
    sender = runtime.apns
    assert isinstance(sender, Http2ApnsSender)
    assert isinstance(sender.ssl_context, ssl.SSLContext)
    assert sender.host == "https://api.push.apple.com"
    assert sender.build_request(PUSH_TOKEN, PASS_TYPE).headers["apns-topic"] == PASS_TYPE
