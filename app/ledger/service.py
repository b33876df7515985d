"""Posting points: every balance change is one ledger entry in the same transaction.

The cached balance in ``points_accounts`` is changed with a guarded
``UPDATE ... RETURNING`` (the row lock on PostgreSQL serialises postings of one member;
the ``available >= amount`` guard makes an overdraft impossible), and the entry records
the balance after it. Credits open a lot that expires; debits consume lots oldest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    bindparam,
    case,
    column,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app import events
from app.errors import InsufficientPoints, InvalidInput
from app.ledger.models import (
    EARNING_KINDS,
    EntryKind,
    PointsAccount,
    PointsConsumption,
    PointsEntry,
    PointsLot,
)


@dataclass(frozen=True)
class Balance:
    available: int
    pending: int
    lifetime: int


async def open_account(session: AsyncSession, member_id: int, now: datetime) -> None:
    """The member's empty points account (once, at registration)."""
    session.add(
        PointsAccount(member_id=member_id, available=0, pending=0, lifetime=0, updated_at=now)
    )
    await session.flush()


async def get_balance(session: AsyncSession, member_id: int) -> Balance:
    account = await session.get(PointsAccount, member_id)
    if account is None:
        return Balance(0, 0, 0)
    return Balance(account.available, account.pending, account.lifetime)


async def find_entry(session: AsyncSession, idempotency_key: str) -> PointsEntry | None:
    stmt = select(PointsEntry).where(PointsEntry.idempotency_key == idempotency_key)
    return (await session.execute(stmt)).scalar_one_or_none()


async def post(
    session: AsyncSession,
    *,
    member_id: int,
    kind: EntryKind,
    delta: int,
    now: datetime,
    expires_at: datetime | None = None,
    reference_type: str | None = None,
    reference_id: str | None = None,
    description: str | None = None,
    idempotency_key: str | None = None,
    consume_first_lot_of: int | None = None,
    funded_by: int | None = None,
) -> PointsEntry:
    """Post ``delta`` points (positive credit, negative debit) and return the entry.

    A credit opens a lot funded by the partner ``funded_by`` (``None``: the programme).
    A debit needs enough available points (:class:`InsufficientPoints` otherwise) and
    consumes lots oldest first, recording which lots it took from; with
    ``consume_first_lot_of`` (an entry id) it first takes from the lot that entry opened
    (a refund takes back the receipt's own points, not the member's oldest).

    Statements: a credit on PostgreSQL is one (the account update, the entry and the lot
    as data-modifying CTEs); elsewhere, and for debits, the guarded account update, the
    entry's ``INSERT ... RETURNING``, then the lot's insert (credit) or one locking select
    of the lots, one executemany update and one executemany insert of the consumptions
    (debit).
    """
    if delta == 0:
        raise InvalidInput(field="points")
    accounts = cast(Table, PointsAccount.__table__)
    values: dict[str, object] = {"available": accounts.c.available + delta, "updated_at": now}
    stmt = update(accounts).where(accounts.c.member_id == member_id)
    if delta > 0 and kind in EARNING_KINDS:
        values["lifetime"] = accounts.c.lifetime + delta
    if delta < 0:
        stmt = stmt.where(accounts.c.available >= -delta)
    entry_values: dict[str, object] = {
        "member_id": member_id,
        "kind": kind,
        "delta": delta,
        "reference_type": reference_type,
        "reference_id": reference_id,
        "description": description,
        "idempotency_key": idempotency_key,
        "created_at": now,
        "expires_at": expires_at if delta > 0 else None,
    }
    lot_values: dict[str, object] = {
        "member_id": member_id,
        "points": delta,
        "remaining": delta,
        "earned_at": now,
        # Credits without an expiry (adjustments) sort last when consumed.
        "expires_at": expires_at or datetime.max.replace(tzinfo=now.tzinfo),
        "funded_by_partner_id": funded_by,
    }
    if delta > 0 and session.get_bind().dialect.name == "postgresql":
        entry, lifetime = await _credit_in_one_statement(
            session, stmt.values(**values), entry_values, lot_values
        )
    else:
        entry, lifetime = await _post_in_steps(
            session, stmt.values(**values), entry_values, lot_values, consume_first_lot_of
        )
    await events.publish(
        session,
        events.BalanceChanged(
            at=now,
            member_id=member_id,
            entry_id=entry.id,
            kind=kind.value,
            delta=delta,
            balance=entry.balance_after,
            lifetime=lifetime,
        ),
    )
    return entry


async def _credit_in_one_statement(
    session: AsyncSession,
    account_update: Any,
    entry_values: dict[str, object],
    lot_values: dict[str, object],
) -> tuple[PointsEntry, int]:
    """PostgreSQL: the account update, the entry and its lot as ONE statement (data-
    modifying CTEs: each step reads the row the one before returned), one round trip
    instead of three; the same rows as :func:`_post_in_steps`."""
    accounts = cast(Table, PointsAccount.__table__)
    entries = cast(Table, PointsEntry.__table__)
    lots = cast(Table, PointsLot.__table__)
    account = account_update.returning(accounts.c.available, accounts.c.lifetime).cte("account")
    entry_columns = [*entry_values, "balance_after"]
    entry = (
        insert(entries)
        .from_select(
            entry_columns,
            select(
                *(literal(v, entries.c[k].type) for k, v in entry_values.items()),
                account.c.available,
            ),
        )
        .returning(*entries.c)
        .cte("entry")
    )
    lot = insert(lots).from_select(
        [*lot_values, "entry_id"],
        select(*(literal(v, lots.c[k].type) for k, v in lot_values.items()), entry.c.id),
    )
    lifetime = select(account.c.lifetime).scalar_subquery().label("account_lifetime")
    stmt = select(*entry.c, lifetime).add_cte(lot.cte("lot"))
    found = (
        await session.execute(
            select(PointsEntry, column("account_lifetime", BigInteger)).from_statement(stmt)
        )
    ).one_or_none()
    if found is None:
        raise InsufficientPoints(field="points", needed=0)  # no account: nothing posted
    return found[0], int(found[1])


async def _post_in_steps(
    session: AsyncSession,
    account_update: Any,
    entry_values: dict[str, object],
    lot_values: dict[str, object],
    consume_first_lot_of: int | None,
) -> tuple[PointsEntry, int]:
    """The guarded account update, the entry's ``INSERT ... RETURNING``, then the lot's
    insert (credit) or the lots' consumption (debit)."""
    accounts = cast(Table, PointsAccount.__table__)
    delta = cast(int, entry_values["delta"])
    member_id = cast(int, entry_values["member_id"])
    result = await session.execute(
        account_update.returning(accounts.c.available, accounts.c.lifetime)
    )
    account = result.one_or_none()
    if account is None:
        raise InsufficientPoints(field="points", needed=-delta)
    balance_after, lifetime = account

    entry = (
        await session.scalars(
            insert(PointsEntry)
            .values(**entry_values, balance_after=balance_after)
            .returning(PointsEntry)
        )
    ).one()
    if delta > 0:
        await session.execute(
            insert(cast(Table, PointsLot.__table__)).values(**lot_values, entry_id=entry.id)
        )
    else:
        await _consume_lots(session, member_id, entry.id, -delta, first_lot_of=consume_first_lot_of)
    return entry, int(lifetime)


async def _consume_lots(
    session: AsyncSession,
    member_id: int,
    entry_id: int,
    points: int,
    *,
    first_lot_of: int | None = None,
) -> None:
    """Take ``points`` from the member's lots (the ``first_lot_of`` entry's lot first, then
    oldest first) and record each take as a consumption of ``entry_id``."""
    lots = cast(Table, PointsLot.__table__)
    order: list[ColumnElement[Any]] = [lots.c.expires_at, lots.c.id]
    if first_lot_of is not None:
        order.insert(0, case((lots.c.entry_id == first_lot_of, 0), else_=1))
    rows = (
        await session.execute(
            select(lots.c.id, lots.c.remaining)
            .where(lots.c.member_id == member_id, lots.c.remaining > 0)
            .order_by(*order)
            .with_for_update()
        )
    ).all()
    taken: list[tuple[int, int, int]] = []  # lot id, points taken, remaining after
    for lot_id, remaining in rows:
        if points == 0:
            break
        take = min(int(remaining), points)
        taken.append((int(lot_id), take, int(remaining) - take))
        points -= take
    if points > 0:
        # The account said there were enough points; the lots disagree (never expected:
        # ``happy ledger check`` would report it). Refuse rather than under-record.
        raise InsufficientPoints(field="points", needed=points)
    if not taken:
        return
    # Executemany, keyed by the primary key: one round trip whatever the number of lots.
    await session.execute(
        update(lots).where(lots.c.id == bindparam("lot_id")).values(remaining=bindparam("left")),
        [{"lot_id": lot_id, "left": left} for lot_id, _, left in taken],
    )
    await session.execute(
        insert(cast(Table, PointsConsumption.__table__)),
        [{"entry_id": entry_id, "lot_id": lot_id, "points": take} for lot_id, take, _ in taken],
    )


async def expired_of_lot(session: AsyncSession, entry_id: int) -> int:
    """Points of the lot opened by entry ``entry_id`` that expired (EXPIRY entries)."""
    lot_id = (
        await session.execute(select(PointsLot.id).where(PointsLot.entry_id == entry_id))
    ).scalar_one_or_none()
    if lot_id is None:
        return 0
    total = (
        await session.execute(
            select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(
                PointsEntry.kind == EntryKind.EXPIRY,
                PointsEntry.reference_type == "points_lot",
                PointsEntry.reference_id == str(lot_id),
            )
        )
    ).scalar_one()
    return -int(total)


@dataclass(frozen=True)
class Discrepancy:
    member_id: int
    cached: int
    ledger: int
    lots: int


@dataclass(frozen=True)
class LotDiscrepancy:
    """A lot whose points minus what debits consumed of it is not what it has left."""

    member_id: int
    lot_id: int
    points: int
    consumed: int
    remaining: int


async def find_discrepancies(session: AsyncSession) -> list[Discrepancy | LotDiscrepancy]:
    """Members whose cached balance differs from the sum of their entries or their lots,
    and lots whose ``points - sum(consumed) != remaining``."""
    entries = (
        select(PointsEntry.member_id, func.coalesce(func.sum(PointsEntry.delta), 0).label("total"))
        .group_by(PointsEntry.member_id)
        .subquery()
    )
    lots = (
        select(PointsLot.member_id, func.coalesce(func.sum(PointsLot.remaining), 0).label("total"))
        .group_by(PointsLot.member_id)
        .subquery()
    )
    stmt = (
        select(
            PointsAccount.member_id,
            PointsAccount.available,
            func.coalesce(entries.c.total, 0),
            func.coalesce(lots.c.total, 0),
        )
        .outerjoin(entries, entries.c.member_id == PointsAccount.member_id)
        .outerjoin(lots, lots.c.member_id == PointsAccount.member_id)
        .order_by(PointsAccount.member_id)
    )
    found: list[Discrepancy | LotDiscrepancy] = []
    for member_id, cached, ledger, lot_total in (await session.execute(stmt)).all():
        if cached != ledger or cached != lot_total:
            found.append(Discrepancy(member_id, int(cached), int(ledger), int(lot_total)))
    orphans = (
        select(PointsEntry.member_id)
        .where(PointsEntry.member_id.not_in(select(PointsAccount.member_id)))
        .distinct()
    )
    for (member_id,) in (await session.execute(orphans)).all():
        found.append(Discrepancy(member_id, 0, -1, -1))
    consumed = (
        select(
            PointsConsumption.lot_id,
            func.coalesce(func.sum(PointsConsumption.points), 0).label("total"),
        )
        .group_by(PointsConsumption.lot_id)
        .subquery()
    )
    used = func.coalesce(consumed.c.total, 0)
    lots_off = (
        select(PointsLot.member_id, PointsLot.id, PointsLot.points, used, PointsLot.remaining)
        .outerjoin(consumed, consumed.c.lot_id == PointsLot.id)
        .where(PointsLot.points - used != PointsLot.remaining)
        .order_by(PointsLot.id)
    )
    for member_id, lot_id, points, used_points, remaining in await session.execute(lots_off):
        found.append(
            LotDiscrepancy(member_id, lot_id, int(points), int(used_points), int(remaining))
        )
    return found


async def list_entries(
    session: AsyncSession, member_id: int, *, before_id: int | None, limit: int
) -> list[PointsEntry]:
    """A member's entries, newest first, keyset-paginated by id."""
    stmt = select(PointsEntry).where(PointsEntry.member_id == member_id)
    if before_id is not None:
        stmt = stmt.where(PointsEntry.id < before_id)
    stmt = stmt.order_by(PointsEntry.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def accounts_of(session: AsyncSession, member_ids: Sequence[int]) -> dict[int, PointsAccount]:
    """The points accounts of these members by member id (members without one left out)."""
    stmt = select(PointsAccount).where(PointsAccount.member_id.in_(member_ids))
    return {account.member_id: account for account in (await session.scalars(stmt))}
