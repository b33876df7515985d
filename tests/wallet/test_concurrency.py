"""Concurrent balance changes for one member: one consistent update tag and outbox."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import httpx
from sqlalchemy import select

from app import clock
from app.db import Database
from app.events.outbox import OutboxStatus
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.wallet.delivery import APPLE_PUSH, GOOGLE_UPDATE
from app.wallet.models import WalletPass
from tests.conftest import requires_postgres
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
)

CHANGES = 8


@requires_postgres
async def test_concurrent_balance_changes_keep_tag_and_outbox_consistent(
    api: Api, client: httpx.AsyncClient, app, db: Database, frozen_now
):
    frozen_now[0] = frozen_now[0].replace(microsecond=0)
    _, data = await download_pass(api, client)
    document = pass_json(data)
    serial, token = document["serialNumber"], document["authenticationToken"]
    response = await client.post(
        f"/wallet/v1/devices/{DEVICE}/registrations/{PASS_TYPE}/{serial}",
        json={"pushToken": PUSH_TOKEN},
        headers=apple(serial, token),
    )
    assert response.status_code == 201
    member_id = await member_id_of(db)
    async with db.read_session() as session:
        before = await session.scalar(select(WalletPass).where(WalletPass.serial_number == serial))
    assert before is not None

    async def change(points: int) -> None:
        async with db.unit_of_work() as session:
            await ledger.post(
                session,
                member_id=member_id,
                kind=EntryKind.EARN,
                delta=points,
                now=clock.now(),  # every change in the same second: the tag must still move
            )

    async def fetch_pass() -> int:
        response = await client.get(
            f"/wallet/v1/passes/{PASS_TYPE}/{serial}", headers=apple(serial, token)
        )
        return response.status_code

    results = await asyncio.gather(
        *(change(10 + i) for i in range(CHANGES)), *(fetch_pass() for _ in range(4))
    )
    assert results[CHANGES:] == [200] * 4
    expected_balance = 80 + sum(10 + i for i in range(CHANGES))

    async with db.read_session() as session:
        after = await session.scalar(select(WalletPass).where(WalletPass.serial_number == serial))
    assert after is not None
    assert after.version == before.version + CHANGES
    assert after.updated_at == before.updated_at + timedelta(seconds=CHANGES)

    rows = await outbox(db)
    apns = [r for r in rows if r.subscriber == APPLE_PUSH]
    google = [r for r in rows if r.subscriber == GOOGLE_UPDATE]
    assert len(apns) == CHANGES and len(google) == CHANGES
    for group in (apns, google):
        statuses = [r.status for r in group]
        assert set(statuses) <= {OutboxStatus.DONE, OutboxStatus.SUPERSEDED}, statuses
    # Balances recorded in row order are the running balance, strictly increasing.
    balances = [json.loads(r.payload)["balance"] for r in google]
    assert balances == sorted(balances) and balances[-1] == expected_balance

    # Every delivered row was delivered exactly once (coalesced rows not at all); the last
    # PATCH carries the final balance (handlers read the current state).
    sender = app.state.runtime.wallet.apns
    assert len(sender.pushes) == sum(r.status == OutboxStatus.DONE for r in apns) >= 1
    patches = app.state.runtime.wallet.google.requests
    assert len(patches) == sum(r.status == OutboxStatus.DONE for r in google) >= 1
    assert patches[-1].json["loyaltyPoints"]["balance"] == {"int": expected_balance}

    latest = await client.get(
        f"/wallet/v1/passes/{PASS_TYPE}/{serial}", headers=apple(serial, token)
    )
    assert pass_json(latest.content)["storeCard"]["primaryFields"][0]["value"] == expected_balance
