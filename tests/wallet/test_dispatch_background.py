"""Network backends deliver after the response, recording backends inline."""

from __future__ import annotations

import asyncio

import pytest

from app.db import Database
from app.events.delivery import DeliveryReport
from app.main import assemble
from app.runtime import build_runtime
from app.settings import Settings
from tests.conftest import with_settings


@pytest.mark.parametrize(("apns", "background"), [("outbox", False), ("http2", True)])
async def test_kick_waits_only_for_recording_backends(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, apns: str, background: bool
) -> None:
    changed = with_settings(settings, apns_backend=apns)
    dispatcher = assemble(db, changed, build_runtime(changed))
    release = asyncio.Event()
    delivered: list[bool] = []

    async def slow_drain() -> DeliveryReport:
        await release.wait()
        delivered.append(True)
        return DeliveryReport()

    monkeypatch.setattr(dispatcher, "drain", slow_drain)
    kick = asyncio.create_task(dispatcher.kick())
    await asyncio.sleep(0.01)
    assert kick.done() is background  # a network backend never holds the request
    release.set()
    await kick
    for _ in range(100):
        if delivered:
            break
        await asyncio.sleep(0.01)
    assert delivered == [True]
