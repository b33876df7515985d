"""Review of issue 15 (reviewer review15): regression tests for bugs found on main in the
deferred writes (app/deferred.py) and the tier check by lifetime points."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from sqlalchemy import Table, func, insert, select

from app import clock, deferred
from app.db import Database
from app.events.outbox import OutboxMessage, OutboxStatus
from app.members.models import Member
from app.tiers import service as tiers
from app.tiers.models import MemberTier
from tests.pos.conftest import happy


async def test_the_nightly_review_moving_thousands_of_members_down_commits(
    coalition: None, db: Database, cli_env: None
) -> None:
    """`happy tiers review` runs in ONE unit of work and publishes a TierChanged per moved
    member: every outbox row of the transaction now joins ONE multi-row INSERT at commit
    (app/deferred.py). 10 columns a row: from 3,277 rows the statement has more than
    32,767 bind parameters, which asyncpg (PostgreSQL's protocol) refuses, so the whole
    review rolls back, every night, and nobody ever moves down. Before the change each
    publish flushed its own rows."""
    count = 3_300
    now = clock.now()
    async with db.unit_of_work() as session:
        found = await tiers.list_tiers(session)
        top = found[-1]
        members = cast(Table, Member.__table__)
        ids = (
            await session.scalars(
                insert(members).returning(members.c.id),
                [
                    {
                        "public_id": f"review15-{n:05d}",
                        "phone_e164": None,
                        "status": "active",
                        "language": "sq",
                        "registration_channel": "app",
                        "created_at": now - timedelta(days=800),
                        "updated_at": now - timedelta(days=800),
                    }
                    for n in range(count)
                ],
            )
        ).all()
        await session.execute(
            insert(cast(Table, MemberTier.__table__)),
            [
                {
                    "member_id": member_id,
                    "tier_id": top.id,
                    "since": now - timedelta(days=400),
                    "kept_until": now - timedelta(days=1),
                    "updated_at": now - timedelta(days=400),
                }
                for member_id in ids
            ],
        )
    assert await happy(["tiers", "review"]) == 0
    async with db.read_session() as session:
        left = await session.scalar(select(func.count()).select_from(MemberTier))
        queued = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert left == 0  # everyone moved down to the base tier
    assert queued is not None and queued >= count  # a tier message each


async def test_a_write_deferred_before_two_nested_savepoints_survives_the_inner_release(
    db: Database,
) -> None:
    """A write deferred at the outermost level must go out when the TRANSACTION commits.
    But ``before_commit`` also fires when a savepoint is released, and app/deferred.py then
    sends every waiting write into that savepoint: released inside an outer savepoint that
    is then rolled back (a refused batch line, a USSD step, a card-number retry), the
    writes of the transaction are undone with it and never sent again (popped)."""
    async with db.unit_of_work() as session:
        await deferred.write(session, insert(OUTBOX), [_outbox_row("outer")])
        try:
            async with session.begin_nested():  # e.g. one line of a batch
                async with session.begin_nested():  # e.g. a card number drawn again
                    pass
                raise RuntimeError("the line is refused: its savepoint rolls back")
        except RuntimeError:
            pass
    async with db.read_session() as session:
        sent = list(await session.scalars(select(OutboxMessage.subscriber)))
    assert sent == ["outer"]


OUTBOX = cast(Table, OutboxMessage.__table__)


def _outbox_row(subscriber: str) -> dict[str, object]:
    now = clock.now()
    return {
        "subscriber": subscriber,
        "event_type": "test",
        "payload": "{}",
        "coalesce_key": None,
        "status": OutboxStatus.DONE,
        "attempts": 0,
        "last_error": None,
        "created_at": now,
        "next_attempt_at": now,
        "done_at": now,
    }
