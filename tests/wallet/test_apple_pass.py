"""The Apple pass the service serves, checked with openssl, and Apple's web service walk."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.db import Database
from app.events.outbox import OutboxStatus
from app.wallet import files
from app.wallet.delivery import APPLE_PUSH, GOOGLE_UPDATE
from app.wallet.models import WalletDeviceRegistration
from tests.helpers import Api, needs_openssl, openssl_verify
from tests.wallet.conftest import (
    DEVICE,
    PASS_TYPE,
    PUSH_TOKEN,
    apple,
    download_pass,
    local_path,
    member_card,
    member_id_of,
    outbox,
    pass_json,
    post_points,
    unzip,
)
from wallet_passes.apns import ApnsResult, RecordingApnsSender


@needs_openssl
async def test_served_pass_verifies_with_openssl(
    api: Api, client: httpx.AsyncClient, settings, tmp_path: Path
):
    me, data = await download_pass(api, client)
    files = unzip(data)
    manifest = json.loads(files["manifest.json"])
    assert set(manifest) == set(files) - {"manifest.json", "signature"}
    for name, digest in manifest.items():
        assert hashlib.sha1(files[name]).hexdigest() == digest, name
    root = settings.wallet_dev_dir / "root.pem"
    result = openssl_verify(tmp_path / "ok", files, root)
    assert result.returncode == 0, result.stderr

    changed = dict(files)
    changed["manifest.json"] = files["manifest.json"].replace(b'"icon.png": "', b'"icon.png": "0')
    assert openssl_verify(tmp_path / "bad", changed, root).returncode != 0

    document = json.loads(files["pass.json"])
    number = me["card"]["number"]
    assert document["formatVersion"] == 1
    assert document["passTypeIdentifier"] == PASS_TYPE
    assert document["teamIdentifier"] == settings.apple_team_id
    assert document["webServiceURL"] == "https://happy.example/wallet"
    assert len(document["authenticationToken"]) >= 16
    serial = document["serialNumber"]
    assert number not in serial and me["id"] not in serial
    assert document["barcodes"][0]["format"] == "PKBarcodeFormatQR"
    assert document["barcodes"][0]["message"] == number
    assert document["barcodes"][0]["messageEncoding"] == "iso-8859-1"
    fields = {f["key"]: f for f in document["storeCard"]["primaryFields"]}
    fields.update({f["key"]: f for f in document["storeCard"]["secondaryFields"]})
    fields.update({f["key"]: f for f in document["storeCard"]["auxiliaryFields"]})
    assert fields["balance"]["value"] == 80 == me["balance"]["available"]
    assert fields["card"]["value"] == number
    assert fields["tier"]["value"] == "Member"
    assert fields["member"]["value"] == "Happy"  # no name given yet
    # The member signed up in Albanian (the programme's default): labels follow.
    assert document["description"] == "Karta Happy e besnikërisë"
    assert fields["balance"]["label"] == "PIKË"
    assert fields["balance"]["changeMessage"] == "Bilanci tani %@"


async def test_pass_is_cached_by_content_version(api: Api, client: httpx.AsyncClient, settings):
    me, first = await download_pass(api, client)
    [stored] = list((settings.storage_dir / "passes").glob("*/*.pkpass"))
    assert stored.read_bytes() == first
    stored.write_bytes(b"PK-cached")
    key = f"passes/{stored.parent.name}/{stored.name}"
    assert files._recent.get(key) == first  # also kept in memory
    files._recent.items.clear()
    again = await client.get(local_path(me["card"]["appleWalletUrl"]))
    assert again.content == b"PK-cached"  # served from storage, not signed again


async def test_apple_web_service_sequence(
    api: Api, client: httpx.AsyncClient, app, db: Database, frozen_now
):
    """Register -> points change -> serials updated -> 200 new pass -> 304 -> unregister."""
    frozen_now[0] = frozen_now[0].replace(microsecond=0)
    _, data = await download_pass(api, client)
    document = pass_json(data)
    serial, token = document["serialNumber"], document["authenticationToken"]
    registration = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}"
    listing = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}"
    latest = f"/wallet/v1/passes/{PASS_TYPE}/{serial}"
    sender = app.state.runtime.wallet.apns
    assert isinstance(sender, RecordingApnsSender)

    # 1. Register (201 new, 200 again); wrong or missing token: 401.
    body = {"pushToken": PUSH_TOKEN}
    assert (await client.post(registration, json=body)).status_code == 401
    assert (
        await client.post(registration, json=body, headers=apple(serial, "x" * 64))
    ).status_code == 401
    assert (
        await client.post(registration, json=body, headers=apple(serial, token))
    ).status_code == 201
    assert (
        await client.post(registration, json=body, headers=apple(serial, token))
    ).status_code == 200

    first = await client.get(listing)
    assert first.status_code == 200
    assert first.json()["serialNumbers"] == [serial]
    tag = first.json()["lastUpdated"]
    assert isinstance(tag, str)
    assert (await client.get(listing, params={"passesUpdatedSince": tag})).status_code == 204

    pass_response = await client.get(latest, headers=apple(serial, token))
    assert pass_response.status_code == 200
    last_modified = pass_response.headers["last-modified"]

    # 2. Points change (a receipt credited through the ledger), a second later.
    frozen_now[0] = frozen_now[0] + timedelta(seconds=1)
    await post_points(db, await member_id_of(db), 250)
    assert [(p.push_token, p.topic) for p in sender.pushes] == [(PUSH_TOKEN, PASS_TYPE)]
    rows = await outbox(db)
    assert [(r.subscriber, r.status) for r in rows] == [
        (APPLE_PUSH, OutboxStatus.DONE),
        (GOOGLE_UPDATE, OutboxStatus.DONE),
    ]
    assert json.loads(rows[1].payload)["balance"] == 330
    google = app.state.runtime.wallet.google
    assert google.requests[-1].method == "PATCH"
    assert google.requests[-1].json["loyaltyPoints"]["balance"] == {"int": 330}

    # 3. Serials updated since the tag.
    updated = await client.get(listing, params={"passesUpdatedSince": tag})
    assert updated.status_code == 200
    assert updated.json()["serialNumbers"] == [serial]
    new_tag = updated.json()["lastUpdated"]
    assert int(new_tag) > int(tag)

    # 4. The latest pass: 200 with the new balance (If-Modified-Since the old version).
    fresh = await client.get(
        latest, headers={**apple(serial, token), "If-Modified-Since": last_modified}
    )
    assert fresh.status_code == 200
    assert fresh.headers["content-type"] == "application/vnd.apple.pkpass"
    fresh_doc = pass_json(fresh.content)
    assert fresh_doc["storeCard"]["primaryFields"][0]["value"] == 330
    assert fresh_doc["serialNumber"] == serial and fresh_doc["authenticationToken"] == token
    assert parsedate_to_datetime(fresh.headers["last-modified"]) > parsedate_to_datetime(
        last_modified
    )

    # 5. Unchanged since: 304.
    unchanged = await client.get(
        latest,
        headers={**apple(serial, token), "If-Modified-Since": fresh.headers["last-modified"]},
    )
    assert unchanged.status_code == 304
    assert (await client.get(latest)).status_code == 401
    assert (await client.get(latest, headers=apple(serial, "y" * 64))).status_code == 401

    # 6. Unregister; no more pushes for this device.
    assert (await client.delete(registration)).status_code == 401
    assert (await client.delete(registration, headers=apple(serial, token))).status_code == 200
    assert (await client.get(listing)).status_code == 204
    await post_points(db, await member_id_of(db), -30)
    assert len(sender.pushes) == 1

    # Logs endpoint.
    assert (await client.post("/wallet/v1/log", json={"logs": ["hello"]})).status_code == 200


async def test_same_second_changes_still_move_last_modified(
    api: Api, client: httpx.AsyncClient, db: Database, frozen_now
):
    frozen_now[0] = frozen_now[0].replace(microsecond=0)
    _, data = await download_pass(api, client)
    document = pass_json(data)
    serial, token = document["serialNumber"], document["authenticationToken"]
    latest = f"/wallet/v1/passes/{PASS_TYPE}/{serial}"
    seen = (await client.get(latest, headers=apple(serial, token))).headers["last-modified"]
    await post_points(db, await member_id_of(db), 5)  # same second as the download
    response = await client.get(latest, headers={**apple(serial, token), "If-Modified-Since": seen})
    assert response.status_code == 200
    assert pass_json(response.content)["storeCard"]["primaryFields"][0]["value"] == 85


async def test_apns_410_removes_the_registration(
    api: Api, client: httpx.AsyncClient, app, db: Database
):
    _, data = await download_pass(api, client)
    document = pass_json(data)
    serial, token = document["serialNumber"], document["authenticationToken"]
    registration = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}"
    response = await client.post(
        registration, json={"pushToken": PUSH_TOKEN}, headers=apple(serial, token)
    )
    assert response.status_code == 201

    class GoneSender:
        def __init__(self) -> None:
            self.calls = 0

        async def send(self, push_token: str, topic: str) -> ApnsResult:
            self.calls += 1
            return ApnsResult(push_token=push_token, status=410, reason="Unregistered")

    gone = GoneSender()
    app.state.runtime.wallet.__dict__["apns"] = gone  # cached_property slot
    await post_points(db, await member_id_of(db), 10)
    assert gone.calls == 1
    async with db.read_session() as session:
        assert (await session.scalar(select(func.count(WalletDeviceRegistration.id)))) == 0
    rows = await outbox(db)
    # The device is gone: its registrations are removed and the push counts as delivered.
    assert rows[-2].subscriber == APPLE_PUSH and rows[-2].status == OutboxStatus.DONE


async def test_failed_push_stays_in_outbox_and_cli_retries(
    api: Api, client: httpx.AsyncClient, app, db: Database
):
    _, data = await download_pass(api, client)
    document = pass_json(data)
    serial, token = document["serialNumber"], document["authenticationToken"]
    registration = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}"
    await client.post(registration, json={"pushToken": PUSH_TOKEN}, headers=apple(serial, token))

    class FlakySender:
        def __init__(self) -> None:
            self.fail = True
            self.sent = 0

        async def send(self, push_token: str, topic: str) -> ApnsResult:
            if self.fail:
                raise ConnectionError("APNs unreachable")
            self.sent += 1
            return ApnsResult(push_token=push_token, status=200)

    flaky = FlakySender()
    app.state.runtime.wallet.__dict__["apns"] = flaky
    await post_points(db, await member_id_of(db), 10)
    rows = await outbox(db)
    apns_row = next(r for r in rows if r.subscriber == APPLE_PUSH)
    assert apns_row.status == OutboxStatus.PENDING
    assert apns_row.attempts == 1
    assert "APNs unreachable" in (apns_row.last_error or "")

    flaky.fail = False
    report = await app.state.delivery.run_once(now=apns_row.next_attempt_at)
    assert report.done == 1 and flaky.sent == 1
    assert (
        next(r for r in await outbox(db) if r.subscriber == APPLE_PUSH).status == OutboxStatus.DONE
    )


async def test_no_pass_no_outbox(api: Api, db: Database):
    await api.sign_up("+355691110009")  # welcome bonus posted, but no wallet pass yet
    assert await outbox(db) == []


async def test_bad_registration_requests(api: Api, client: httpx.AsyncClient):
    _, data = await download_pass(api, client)
    document = pass_json(data)
    serial, token = document["serialNumber"], document["authenticationToken"]
    base = f"/wallet/v1/devices/{DEVICE}/registrations"
    headers = apple(serial, token)
    assert (
        await client.post(
            f"{base}/pass.other.type/{serial}", json={"pushToken": PUSH_TOKEN}, headers=headers
        )
    ).status_code == 401
    assert (
        await client.post(f"{base}/{PASS_TYPE}/{serial}", content=b"{", headers=headers)
    ).status_code == 400
    assert (
        await client.post(
            f"{base}/{PASS_TYPE}/{serial}", json={"pushToken": "not hex"}, headers=headers
        )
    ).status_code == 400
    assert (await client.get(f"{base}/pass.other.type")).status_code == 204
    assert (await client.post("/wallet/v1/log", content=b"x" * 70000)).status_code == 413


async def test_name_change_updates_the_pass(
    api: Api, client: httpx.AsyncClient, app, db: Database, frozen_now
):
    frozen_now[0] = frozen_now[0].replace(microsecond=0)
    session = await api.sign_up("+355691110055")
    token = session["accessToken"]
    body = await api.gql("query { me { card { appleWalletUrl } } }", token=token)
    data = (await client.get(local_path(body["data"]["me"]["card"]["appleWalletUrl"]))).content
    document = pass_json(data)
    serial, auth = document["serialNumber"], document["authenticationToken"]
    registration = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}"
    await client.post(registration, json={"pushToken": PUSH_TOKEN}, headers=apple(serial, auth))
    listing = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}"
    tag = (await client.get(listing)).json()["lastUpdated"]

    changed = await api.gql(
        'mutation { updateProfile(input: {firstName: "Arbër", lastName: "Hoxha"}) { __typename } }',
        token=token,
    )
    assert changed["data"]["updateProfile"]["__typename"] == "Member", changed
    assert len(app.state.runtime.wallet.apns.pushes) == 1
    assert app.state.runtime.wallet.google.requests[-1].json["accountName"] == "Arbër Hoxha"
    updated = await client.get(listing, params={"passesUpdatedSince": tag})
    assert updated.json()["serialNumbers"] == [serial]
    latest = await client.get(
        f"/wallet/v1/passes/{PASS_TYPE}/{serial}", headers=apple(serial, auth)
    )
    fields = pass_json(latest.content)["storeCard"]["secondaryFields"]
    assert {f["key"]: f["value"] for f in fields}["member"] == "Arbër Hoxha"

    # A change that the pass does not show (city) does not touch it.
    await api.gql('mutation { updateProfile(input: {city: "Tirana"}) { __typename } }', token=token)
    assert len(app.state.runtime.wallet.apns.pushes) == 1


async def test_only_the_latest_pass_is_kept_and_deletion_removes_it(
    api: Api, client: httpx.AsyncClient, db: Database, settings
):
    token, me = await member_card(api)
    first = await client.get(local_path(me["card"]["appleWalletUrl"]))
    serial = pass_json(first.content)["serialNumber"]
    folder = settings.storage_dir / "passes" / serial
    assert len(list(folder.glob("*.pkpass"))) == 1
    member_id = await member_id_of(db)
    await post_points(db, member_id, 25)
    second = await client.get(local_path(me["card"]["appleWalletUrl"]))
    assert pass_json(second.content) != pass_json(first.content)
    # The older version (with the older balance) is gone: one file per pass.
    [stored] = list(folder.glob("*.pkpass"))
    assert stored.read_bytes() == second.content

    # A device registers, then the member deletes the account.
    registration = f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}"
    pass_token = pass_json(second.content)["authenticationToken"]
    body = {"pushToken": PUSH_TOKEN}
    assert (
        await client.post(registration, json=body, headers=apple(serial, pass_token))
    ).status_code == 201
    deleted = await api.gql("mutation { deleteAccount { deletedAt } }", token=token)
    assert deleted["data"]["deleteAccount"]["deletedAt"]
    # The stored pass (name, card number, balance) is erased with the account ...
    assert not folder.exists()
    assert not [k for k in files._recent.items if k.startswith(f"passes/{serial}/")]
    # ... and the device can neither fetch it nor register for it again.
    latest = f"/wallet/v1/passes/{PASS_TYPE}/{serial}"
    assert (await client.get(latest, headers=apple(serial, pass_token))).status_code == 401
    again = await client.post(registration, json=body, headers=apple(serial, pass_token))
    assert again.status_code == 401
    async with db.read_session() as session:
        count = select(func.count()).select_from(WalletDeviceRegistration)
        assert (await session.execute(count)).scalar_one() == 0
