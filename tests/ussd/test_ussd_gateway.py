"""Who may call the USSD callback: configured gateways only; the phone number as sent."""

from __future__ import annotations

import httpx
import pytest

from app import clock
from app.db import Database
from app.runtime import build_runtime
from app.settings import Settings
from auth import ussd_gateways
from tests.conftest import with_settings
from tests.ussd.conftest import Handset, registered


async def test_missing_or_wrong_token_gets_401_without_menu_text(client: httpx.AsyncClient) -> None:
    for token in (None, "wrong", "hug_0123456789_nope", "x" * 500):
        response = await Handset(client, token=token, session_id="S1").post("")
        assert response.status_code == 401
        assert response.text == ""
        assert "CON" not in response.text


async def test_token_as_query_parameter(client: httpx.AsyncClient, settings: Settings) -> None:
    handset = Handset(client, token=None, session_id="S2")
    data = {"sessionId": "S2", "serviceCode": "*505#", "phoneNumber": "+355691112233", "text": ""}
    response = await client.post(f"/ussd/callback?token={settings.ussd_gateway_token}", data=data)
    assert response.status_code == 200 and response.text.startswith("CON ")
    assert (await handset.post("")).status_code == 401


async def test_tokens_made_by_the_operator_work_until_revoked(
    client: httpx.AsyncClient, db: Database, settings: Settings
) -> None:
    keys = build_runtime(settings).keys
    async with db.unit_of_work() as session:
        issued = await ussd_gateways.create_gateway(
            session, keys, label="aggregator", now=clock.now()
        )
    handset = Handset(client, token=issued.token)
    assert (await handset.dial()).startswith("CON ")
    async with db.unit_of_work() as session:
        assert await ussd_gateways.revoke_gateway(session, prefix=issued.prefix, now=clock.now())
    assert (await handset.post("")).status_code == 401
    async with db.read_session() as session:
        [gateway] = await ussd_gateways.list_gateways(session)
    assert gateway.revoked_at is not None and gateway.last_used_at is not None


async def test_without_any_configured_gateway_nobody_is_served(
    db: Database, settings: Settings
) -> None:
    from app.main import create_app

    app = create_app(with_settings(settings, ussd_gateway_token=""), db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        assert (await Handset(c, token="", session_id="S3").post("")).status_code == 401


async def test_allow_list_of_source_addresses(db: Database, settings: Settings) -> None:
    from app.main import create_app

    app = create_app(with_settings(settings, ussd_allowed_ips=("198.51.100.0/24",)), db)
    for peer, status in (("203.0.113.10", 401), ("198.51.100.7", 200)):
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await Handset(c, session_id=f"S-{peer}").post("")
            assert response.status_code == status
            assert (response.text == "") == (status == 401)


async def test_phone_numbers_are_normalised_and_checked(handset: Handset, db: Database) -> None:
    handset.phone = "00355 69 111 2233"
    await handset.walk("1")
    handset.phone = "+355691112233"
    assert "1 Piket" in await handset.walk()  # the same member
    handset.phone = "+381641234567"  # Serbia: not an allowed region
    response = await handset.post("")
    assert response.text.startswith("END Numrat nga ky shtet nuk mund")
    handset.phone = "12"
    assert (await handset.post("")).text.startswith("END ")


async def test_malformed_callbacks(client: httpx.AsyncClient, settings: Settings) -> None:
    auth = {"Authorization": f"Bearer {settings.ussd_gateway_token}"}
    as_json = await client.post("/ussd/callback", json={"sessionId": "x"}, headers=auth)
    assert as_json.status_code == 400 and as_json.text.startswith("END ")
    no_session = await client.post(
        "/ussd/callback", data={"phoneNumber": "+355691112233", "text": ""}, headers=auth
    )
    assert no_session.status_code == 400
    long_text = await Handset(client, session_id="S4").post("1*" * 150)
    assert long_text.status_code == 200 and long_text.text.startswith("END ")


async def test_a_session_id_cannot_change_number(handset: Handset) -> None:
    await handset.dial()
    handset.phone = "+355692223344"
    response = await handset.post("1")
    assert response.text.startswith("END Seanca nuk eshte e vlefshme.")


async def test_control_characters_and_odd_digits_are_refused_cleanly(
    handset: Handset, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """A NUL in the session id never reaches the database; a superscript digit is just an
    invalid choice (no traceback either way)."""
    handset.session_id = "odd-1"
    refused = await handset.post("", sessionId="f5\x00")
    assert refused.status_code == 400 and refused.text.startswith("END")
    await registered(handset, db)
    reply = await handset.walk("4", "²")
    assert reply.startswith("CON")
    assert "Traceback" not in caplog.text and "ERROR" not in [r.levelname for r in caplog.records]
