"""``happy serve``'s uvicorn configuration and the shutdown drain (issue 15)."""

from __future__ import annotations

import asyncio
import importlib.util

from app import db as app_db
from app.db import drain_after_commit
from cli.serve import WORKER_HEALTHCHECK_SECONDS, build_config


def test_serve_runs_uvloop_and_httptools_with_a_graceful_shutdown() -> None:
    config = build_config("127.0.0.1", 8000, 2, shutdown_timeout=17)
    assert (config.loop, config.http) == ("uvloop", "httptools")
    assert config.timeout_graceful_shutdown == 17
    # A worker still importing the app on a busy machine is not killed as hung.
    assert config.timeout_worker_healthcheck == WORKER_HEALTHCHECK_SECONDS >= 30
    # uvloop and httptools are installed (pinned dependencies), so uvicorn will not fail.
    assert importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools")


def _running(coro: object) -> asyncio.Future[None]:
    task: asyncio.Future[None] = asyncio.ensure_future(coro)  # type: ignore[arg-type]
    app_db._AFTER_COMMIT_TASKS.add(task)
    task.add_done_callback(app_db._AFTER_COMMIT_TASKS.discard)
    return task


async def test_shutdown_waits_for_after_commit_work_up_to_its_timeout() -> None:
    done: list[str] = []

    async def send_sms() -> None:
        await asyncio.sleep(0.05)
        done.append("sms")

    _running(send_sms())
    assert await drain_after_commit(5) == 0
    assert done == ["sms"]

    stuck = _running(asyncio.sleep(30))
    try:
        assert await drain_after_commit(0.05) == 1  # gives up at the deadline
    finally:
        stuck.cancel()
    assert await drain_after_commit(1) == 0
