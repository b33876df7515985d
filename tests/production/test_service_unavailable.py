"""A dropped or refused database connection is SERVICE_UNAVAILABLE (503, Retry-After), never an
internal error; the same request sent again is safe; the pool recovers by itself."""

from __future__ import annotations

import asyncio
import errno
import logging
import sqlite3
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from app.db import Database, create_database, is_transport_failure
from app.errors import InvalidInput
from app.ledger.models import EntryKind, PointsEntry
from app.main import create_app
from app.receipts import service as receipts_service
from app.receipts.models import Receipt
from app.settings import Settings
from tests.conftest import TEST_DATABASE_URL, requires_postgres, with_settings
from tests.helpers import REQUEST_OTP, Api
from tests.pos.conftest import SUBMIT, Member, Pos, receipt

UNREACHABLE_URL = "postgresql+asyncpg://postgres@127.0.0.1:1/happy_nowhere"


# --- what counts as a transport failure ---------------------------------------------------


class _SqlState(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"sqlstate {sqlstate}")
        self.sqlstate = sqlstate


def _wrapped(orig: BaseException, *, invalidated: bool = False) -> sa_exc.DBAPIError:
    return sa_exc.DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "failure",
    [
        ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"),
        ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
        TimeoutError("timed out"),
        OSError(errno.EHOSTUNREACH, "No route to host"),
        _wrapped(Exception("terminating connection"), invalidated=True),
        sa_exc.TimeoutError("QueuePool limit of size 10 overflow 20 reached"),
        sa_exc.OperationalError("BEGIN", {}, sqlite3.OperationalError("database is locked")),
        sa_exc.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        _wrapped(_SqlState("57P01")),  # admin shutdown (pg_terminate_backend)
        _wrapped(_SqlState("08006")),  # connection failure
        _wrapped(_SqlState("40001")),  # serialization failure
        _wrapped(_SqlState("53300")),  # too many connections
    ],
)
def test_transport_failures(failure: BaseException) -> None:
    assert is_transport_failure(failure)
    try:
        raise RuntimeError("while submitting") from failure
    except RuntimeError as outer:
        assert is_transport_failure(outer)  # found through the cause chain


@pytest.mark.parametrize(
    "failure",
    [
        ValueError("bad"),
        FileNotFoundError(errno.ENOENT, "No such file"),
        InvalidInput(field="x"),
        sa_exc.IntegrityError("INSERT", {}, Exception("unique")),
        sa_exc.OperationalError("SELECT", {}, sqlite3.OperationalError("no such table: x")),
        _wrapped(_SqlState("23505")),  # unique violation
        _wrapped(_SqlState("42P01")),  # undefined table
        _wrapped(Exception("whatever"), invalidated=False),
    ],
)
def test_not_transport_failures(failure: BaseException) -> None:
    assert not is_transport_failure(failure)


# --- through the doors --------------------------------------------------------------------


def _assert_unavailable(response: httpx.Response, retry_after: int = 2) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == str(retry_after)
    body: dict[str, Any] = response.json()
    codes = [e["extensions"]["code"] for e in body["errors"]]
    assert codes and set(codes) == {"SERVICE_UNAVAILABLE"}, body
    assert all(e["extensions"]["retryAfterSeconds"] == retry_after for e in body["errors"])
    return body


async def test_a_connection_dropped_during_submit_receipt_is_retryable(
    spar: Pos,
    member: Member,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    real = receipts_service.submit_receipt

    async def dropped(*args: Any, **kwargs: Any) -> Any:
        raise _wrapped(ConnectionResetError(errno.ECONNRESET, "reset"), invalidated=True)

    monkeypatch.setattr(receipts_service, "submit_receipt", dropped)
    body = receipt("OUTAGE-1", member.card)
    with caplog.at_level(logging.INFO):
        response = await spar.client.post(
            "/partner/graphql",
            json={"query": SUBMIT, "variables": {"input": body}},
            headers={"Authorization": f"Bearer {spar.key}", "Accept-Language": "en"},
        )
    answer = _assert_unavailable(response)
    assert answer["errors"][0]["message"].startswith("The service is briefly unavailable.")
    assert answer["errors"][0]["path"] == ["submitReceipt"]
    assert "INTERNAL_SERVER_ERROR" not in response.text
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("database unavailable" in r.getMessage() for r in caplog.records)

    monkeypatch.setattr(receipts_service, "submit_receipt", real)
    first = await spar.submit(body)  # the till sends the same receipt again
    assert first["__typename"] == "ReceiptAccepted"
    assert await spar.submit(body) == first


@pytest.fixture
async def unreachable(settings: Settings, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its database behind a closed port (connection refused on every use)."""
    broken_settings = with_settings(settings, database_url=UNREACHABLE_URL)
    broken = create_database(broken_settings)
    app = create_app(broken_settings, broken)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.10", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c
    finally:
        await broken.dispose()


async def test_member_door_with_the_database_down(unreachable: httpx.AsyncClient) -> None:
    response = await unreachable.post(
        "/graphql", json={"query": REQUEST_OTP, "variables": {"phone": "+355691234567"}}
    )
    _assert_unavailable(response)


async def test_partner_door_with_the_database_down(
    spar: Pos, unreachable: httpx.AsyncClient
) -> None:
    response = await unreachable.post(
        "/partner/graphql",
        json={"query": "{ store { code } }"},
        headers={"Authorization": f"Bearer {spar.key}"},  # a real key, its lookup fails
    )
    _assert_unavailable(response)


async def test_plain_routes_with_the_database_down(unreachable: httpx.AsyncClient) -> None:
    response = await unreachable.get(
        "/wallet/v1/devices/a1b2c3d4e5f6/registrations/pass.al.happy.card"
    )
    body = _assert_unavailable(response)
    assert body["errors"][0]["extensions"]["requestId"] == response.headers["x-request-id"]
    assert (await unreachable.get("/readyz")).status_code == 503
    assert (await unreachable.get("/healthz")).status_code == 200


async def test_unexpected_errors_are_still_internal(
    spar: Pos, member: Member, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise ZeroDivisionError

    monkeypatch.setattr(receipts_service, "submit_receipt", broken)
    response = await spar.client.post(
        "/partner/graphql",
        json={"query": SUBMIT, "variables": {"input": receipt("BUG-1", member.card)}},
        headers={"Authorization": f"Bearer {spar.key}"},
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "retry-after" not in response.headers


# --- PostgreSQL: the server ends the app's connections mid-load ----------------------------


async def _terminate_app_connections(stop: asyncio.Event, interval: float) -> int:
    """From a connection of its own, end every other session on the test database every
    ``interval`` seconds until ``stop``; returns how many sessions were ended."""
    engine = create_async_engine(TEST_DATABASE_URL, isolation_level="AUTOCOMMIT")
    ended = 0
    try:
        async with engine.connect() as conn:
            while not stop.is_set():
                rows = await conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                ended += sum(1 for (done,) in rows if done)
                await asyncio.sleep(interval)
    finally:
        await engine.dispose()
    return ended


@requires_postgres
async def test_connections_ended_mid_load_lose_nothing_and_credit_nothing_twice(
    spar: Pos, member: Member, db: Database, api: Api
) -> None:
    bodies = [receipt(f"KILL-{i:03d}", member.card) for i in range(60)]

    async def send(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = await spar.client.post(
            "/partner/graphql",
            json={"query": SUBMIT, "variables": {"input": body}},
            headers={"Authorization": f"Bearer {spar.key}"},
        )
        return response.status_code, response.json()

    def kind(status: int, answer: dict[str, Any]) -> str:
        if "errors" in answer:
            codes = {e["extensions"]["code"] for e in answer["errors"]}
            assert codes == {"SERVICE_UNAVAILABLE"}, answer  # never INTERNAL_SERVER_ERROR
            assert status == 503
            return "SERVICE_UNAVAILABLE"
        assert status == 200
        typename: str = answer["data"]["submitReceipt"]["__typename"]
        return typename

    async def load() -> list[tuple[int, dict[str, Any]]]:
        """Waves of 15 concurrent tills, so connections are ended between and during them."""
        answers: list[tuple[int, dict[str, Any]]] = []
        for start in range(0, len(bodies), 15):
            answers += await asyncio.gather(*(send(b) for b in bodies[start : start + 15]))
        return answers

    stop = asyncio.Event()
    killer = asyncio.create_task(_terminate_app_connections(stop, interval=0.5))
    try:
        first_round = await load()
    finally:
        stop.set()
        ended = await killer
    kinds = Counter(kind(status, answer) for status, answer in first_round)
    assert ended > 0
    assert set(kinds) <= {"ReceiptAccepted", "SERVICE_UNAVAILABLE"}, kinds
    assert kinds["SERVICE_UNAVAILABLE"] > 0, "the load never met a dropped connection"

    # Every till retries what was unavailable, with the same receipt id, until it is through.
    accepted: dict[str, dict[str, Any]] = {
        body["receiptId"]: answer["data"]["submitReceipt"]
        for body, (_, answer) in zip(bodies, first_round, strict=True)
        if "errors" not in answer
    }
    pending = [b for b in bodies if b["receiptId"] not in accepted]
    for _ in range(5):
        if not pending:
            break
        again = await asyncio.gather(*(send(b) for b in pending))
        for body, (status, answer) in zip(pending, again, strict=True):
            if kind(status, answer) == "ReceiptAccepted":
                accepted[body["receiptId"]] = answer["data"]["submitReceipt"]
        pending = [b for b in pending if b["receiptId"] not in accepted]
    assert pending == []
    assert {a["pointsEarned"] for a in accepted.values()} == {11}

    # Each receipt is stored once and credited once; the balance is the sum.
    async with db.read_session() as session:
        stored = (await session.execute(select(func.count()).select_from(Receipt))).scalar_one()
        earns = (
            await session.execute(
                select(PointsEntry.reference_id, func.count())
                .where(PointsEntry.kind == EntryKind.EARN)
                .group_by(PointsEntry.reference_id)
            )
        ).all()
    assert stored == len(bodies)
    assert len(earns) == len(bodies) and {count for _, count in earns} == {1}
    me = await api.me(member.token)
    assert me["balance"]["available"] == 80 + 11 * len(bodies)

    # The pool recovered by itself: the app serves normally afterwards.
    status, answer = await send(receipt("AFTER-1", member.card))
    assert (status, answer["data"]["submitReceipt"]["__typename"]) == (200, "ReceiptAccepted")
    # (tests/conftest.py checks the whole ledger after the test)
