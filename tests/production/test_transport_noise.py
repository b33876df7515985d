"""Review of issue 16: database drops fill the log with WARNINGs, not ERROR tracebacks."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from app.db import Database, log_loop_exception
from app.events.delivery import Delivery
from app.main import create_app
from app.settings import Settings


def _levels(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records]


async def test_unretrieved_connection_lost_is_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    lost = ConnectionError("unexpected connection_lost() call")
    log_loop_exception(loop, {"message": "Future exception was never retrieved", "exception": lost})
    assert any(
        level == logging.WARNING and "connection_lost" in message
        for level, message in _levels(caplog)
    )
    assert not any(level >= logging.ERROR for level, _ in _levels(caplog))
    caplog.clear()
    log_loop_exception(
        loop, {"message": "Task exception was never retrieved", "exception": ValueError("bug")}
    )
    assert any(level >= logging.ERROR for level, _ in _levels(caplog))  # real errors stay


async def test_the_app_installs_the_handler_while_it_runs(settings: Settings, db: Database) -> None:
    loop = asyncio.get_running_loop()
    before = loop.get_exception_handler()
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        assert loop.get_exception_handler() is log_loop_exception
    assert loop.get_exception_handler() is before


async def test_outbox_poll_during_a_drop_is_a_warning(
    db: Database, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivery = Delivery(db, db.events, in_background=False)
    calls = 0

    async def drain(*_args: Any, **_kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("unexpected connection_lost() call")
        raise asyncio.CancelledError

    monkeypatch.setattr(delivery, "drain", drain)
    with pytest.raises(asyncio.CancelledError):
        await delivery.poll(0)
    assert any(
        level == logging.WARNING and "database unavailable" in message
        for level, message in _levels(caplog)
    )
    assert not any(level >= logging.ERROR for level, _ in _levels(caplog))
