"""Fraud limits: hard limits refuse, soft limits warn; both leave an alert for the operator.

Limits are programme data (:class:`FraudLimit`, ``happy limit set``). A receipt or a
redemption is checked by one call, in its own transaction (:func:`check_receipt`,
:func:`check_redemption`):

* **Counting is one statement.** Every counter the activity touches (its member's day,
  its cashier's day, its store's day, its member's hour) is incremented by one
  ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` over all of them at once. On
  PostgreSQL the upsert takes the counter rows' locks, so concurrent receipts of one
  subject are serialised there and each sees the total including everyone before it: of 20
  concurrent receipts exactly those within a hard limit pass, and a day's total never
  exceeds it. Counters are locked in one order (sorted keys) before the points account.
* **A hard breach** raises :class:`LimitExceeded`: the whole transaction rolls back, the
  counter increment with it (a refused receipt uses no headroom), and the alert is written
  afterwards in a short transaction of its own (``DomainError.after_rollback``, run by the
  unit of work, or by a batch after the line's savepoint).
* **A soft breach** lets the activity through, records the alert in the same transaction
  and returns :class:`LimitWarning` values the door renders in the caller's language.
* **Alerts do not flood:** one open alert per (limit, subject, period); later breaches
  count on it (``breaches``, ``refused``, the highest value seen, the last time).
* **Nothing configured costs nothing.** The rules are cached per process and keyed by
  ``programmes.limits_version``, which every change of a limit replaces; the receipt path
  reads the programme row anyway, so without limits (an empty version) no statement runs,
  and with unchanged limits only the counting one.

Periods: days are calendar days in the programme's time zone, hours are UTC hours, both
of the moment the activity is processed (not the receipt's ``issuedAt``, which a till
could backdate to spread points over past days).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Table, bindparam, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from app import deferred
from app.callers import StoreCaller
from app.errors import ErrorCode, InvalidInput, LimitExceeded, NotFound
from app.fraud.models import FraudAlert, FraudCounter, FraudLimit, LimitKind, Severity
from app.partners.models import Partner, Store
from app.programme.models import Programme
from app.programme.service import current_programme, update_programme

RECEIPT_KINDS = frozenset(
    {
        LimitKind.POINTS_PER_RECEIPT,
        LimitKind.POINTS_PER_MEMBER_DAY,
        LimitKind.POINTS_PER_CASHIER_DAY,
        LimitKind.POINTS_PER_STORE_DAY,
        LimitKind.RECEIPTS_PER_CARD_HOUR,
    }
)
REDEMPTION_KINDS = frozenset({LimitKind.REDEMPTIONS_PER_MEMBER_DAY})
_ORDER = {kind: n for n, kind in enumerate(LimitKind)}
_WARNINGS_KEY = "happy_fraud_warnings"


@dataclass(frozen=True)
class LimitRule:
    """A limit as the checks use it (cached per process)."""

    id: int
    kind: LimitKind
    severity: Severity
    value: int
    partner_id: int | None
    store_id: int | None

    def applies_to(self, partner_id: int, store_id: int) -> bool:
        return (self.partner_id is None or self.partner_id == partner_id) and (
            self.store_id is None or self.store_id == store_id
        )

    @property
    def scope(self) -> str:
        """Where the limit counts: "programme", "partner:<id>" or "store:<id>"."""
        if self.store_id is not None:
            return f"store:{self.store_id}"
        if self.partner_id is not None:
            return f"partner:{self.partner_id}"
        return "programme"

    @property
    def scope_kind(self) -> str:
        """ "programme", "partner" or "store" (how messages name the limit)."""
        return self.scope.split(":", 1)[0]


@dataclass(frozen=True)
class LimitWarning:
    """A soft limit the activity went over: ``kind`` reached ``value``, above ``limit``."""

    code: ClassVar[ErrorCode] = ErrorCode.LIMIT_WARNING
    kind: str
    limit: int
    value: int
    scope: str = "programme"  # whose limit: "programme", "partner" or "store"

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code.value,
            "kind": self.kind,
            "limit": self.limit,
            "value": self.value,
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> LimitWarning:
        return cls(
            kind=str(stored["kind"]),
            limit=int(stored["limit"]),
            value=int(stored["value"]),
            scope=str(stored.get("scope", "programme")),
        )


@dataclass(frozen=True)
class Activity:
    """What is checked: one receipt (``points`` credited) or one voucher redemption."""

    member_id: int
    partner_id: int
    store_id: int
    cashier_id: str | None
    points: int
    kinds: frozenset[LimitKind]
    reference: str  # receipt:<partner>:<receipt id>, voucher:<id>:<receipt id>


@dataclass(frozen=True)
class _Breach:
    rule: LimitRule
    observed: int
    subject: str
    period: str


# --- the rules, cached per process -------------------------------------------------------

_cached: tuple[str, tuple[LimitRule, ...]] | None = None


async def rules_in_force(session: AsyncSession, programme: Programme) -> tuple[LimitRule, ...]:
    """Every limit, from this process's copy while ``programme.limits_version`` is the one
    it was loaded at (no statement), else loaded again (one)."""
    global _cached
    version = programme.limits_version
    if not version:
        return ()
    if _cached is not None and _cached[0] == version:
        return _cached[1]
    rows = (await session.execute(select(FraudLimit).order_by(FraudLimit.id))).scalars()
    rules = tuple(
        LimitRule(
            id=row.id,
            kind=LimitKind(row.kind),
            severity=Severity(row.severity),
            value=row.value,
            partner_id=row.partner_id,
            store_id=row.store_id,
        )
        for row in rows
    )
    _cached = (version, rules)
    return rules


# --- checking a receipt or a redemption ------------------------------------------------------


async def check_receipt(
    session: AsyncSession,
    programme: Programme,
    caller: StoreCaller,
    *,
    member_id: int,
    cashier_id: str | None,
    points: int,
    reference: str,
    now: datetime,
) -> tuple[LimitWarning, ...]:
    """Count a receipt crediting ``points`` against every limit that applies; raise
    :class:`LimitExceeded` past a hard one, return warnings past soft ones."""
    activity = Activity(
        member_id=member_id,
        partner_id=caller.partner_id,
        store_id=caller.store_id,
        cashier_id=cashier_id,
        points=points,
        kinds=RECEIPT_KINDS,
        reference=reference,
    )
    return await _check(session, programme, activity, now)


async def check_redemption(
    session: AsyncSession,
    caller: StoreCaller,
    *,
    member_id: int,
    reference: str,
    now: datetime,
    programme: Programme | None = None,
) -> tuple[LimitWarning, ...]:
    """Count a voucher redemption (redemptions per member per day). The warnings are also
    kept on the session for the door (:func:`warnings_on`). The limits in force are those
    of ``programme`` as read now (the redemption passes the row it read: no extra
    statement; read here when not given), never the per-process cache."""
    if programme is None:
        programme = await current_programme(session)
    activity = Activity(
        member_id=member_id,
        partner_id=caller.partner_id,
        store_id=caller.store_id,
        cashier_id=None,
        points=0,
        kinds=REDEMPTION_KINDS,
        reference=reference,
    )
    warnings = await _check(session, programme, activity, now)
    session.info[_WARNINGS_KEY] = warnings
    return warnings


def warnings_on(session: AsyncSession) -> tuple[LimitWarning, ...]:
    """The soft-limit warnings of the redemption just checked in this session (taken)."""
    found: tuple[LimitWarning, ...] = session.info.pop(_WARNINGS_KEY, ())
    return found


def _subject(kind: LimitKind, activity: Activity) -> str:
    """Who is counted (and named on an alert). A receipt without a cashier id counts
    against its store's "no cashier" subject, so leaving the id out does not dodge a
    cashier limit."""
    if kind is LimitKind.POINTS_PER_CASHIER_DAY:
        if activity.cashier_id is None:
            return f"nocashier:store:{activity.store_id}"
        return f"cashier:{activity.partner_id}:{activity.cashier_id}"
    if kind is LimitKind.POINTS_PER_STORE_DAY:
        return f"store:{activity.store_id}"
    return f"member:{activity.member_id}"


def _counter_subject(subject: str, scope: str) -> str:
    """The counter's key for a limit of ``scope``: each scope counts apart, so a partner's
    or a store's limit counts only activity inside it, never what the member (cashier)
    earned elsewhere in the coalition. A programme-wide limit's counter carries no prefix
    (counters kept before scopes were keyed so); a scoped one ``partner:<id>/`` or
    ``store:<id>/``."""
    return subject if scope == "programme" else f"{scope}/{subject}"


def _period(kind: LimitKind, now: datetime, zone: ZoneInfo) -> str:
    if kind is LimitKind.RECEIPTS_PER_CARD_HOUR:
        return now.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H")
    return now.astimezone(zone).date().isoformat()


def _amount(kind: LimitKind, activity: Activity) -> int:
    if kind in (LimitKind.RECEIPTS_PER_CARD_HOUR, LimitKind.REDEMPTIONS_PER_MEMBER_DAY):
        return 1
    return activity.points


_COUNTER_COLUMNS = ("kind", "subject", "period", "value")


def _count_on_postgresql() -> Any:
    table = cast(Table, FraudCounter.__table__)
    arrays = [
        bindparam(f"counter_{c}", type_=postgresql.ARRAY(deferred.array_item_type(table.c[c])))
        for c in _COUNTER_COLUMNS
    ]
    rows = func.unnest(*arrays).table_valued(*_COUNTER_COLUMNS).render_derived()
    insert = postgresql.insert(table).from_select(
        list(_COUNTER_COLUMNS), select(*(rows.c[c] for c in _COUNTER_COLUMNS))
    )
    return insert.on_conflict_do_update(
        index_elements=["kind", "subject", "period"],
        set_={"value": table.c.value + insert.excluded.value},
    ).returning(table.c.kind, table.c.subject, table.c.value)


_COUNT_ON_POSTGRESQL = _count_on_postgresql()


def _insert(session: AsyncSession, table: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


async def _check(
    session: AsyncSession, programme: Programme, activity: Activity, now: datetime
) -> tuple[LimitWarning, ...]:
    rules = [
        rule
        for rule in await rules_in_force(session, programme)
        if rule.kind in activity.kinds and rule.applies_to(activity.partner_id, activity.store_id)
    ]
    if not rules:
        return ()
    zone = ZoneInfo(programme.timezone)
    # One counter per (kind, scope): the programme's, a partner's and a store's limit of
    # one kind count apart; a soft and a hard limit of one kind and scope share it.
    observed: dict[tuple[LimitKind, str], int] = {}
    where: dict[tuple[LimitKind, str], tuple[str, str]] = {}
    by_subject: dict[tuple[str, str], tuple[LimitKind, str]] = {}
    increments: list[dict[str, Any]] = []
    for key in sorted(
        {(rule.kind, rule.scope) for rule in rules}, key=lambda k: (_ORDER[k[0]], k[1])
    ):
        kind, scope = key
        subject = _subject(kind, activity)
        period = _period(kind, now, zone)
        where[key] = (subject, period)  # the alert names the subject; its limit, the scope
        if kind is LimitKind.POINTS_PER_RECEIPT:
            observed[key] = activity.points
            continue
        amount = _amount(kind, activity)
        if amount > 0:  # nothing added: nothing can be newly crossed
            subject = _counter_subject(subject, scope)
            by_subject[(kind.value, subject)] = key
            increments.append(
                {"kind": kind.value, "subject": subject, "period": period, "value": amount}
            )
    if increments:
        # One statement for every counter, in one lock order (sorted keys).
        increments.sort(key=lambda row: (row["kind"], row["subject"], row["period"]))
        table = FraudCounter.__table__
        if session.get_bind().dialect.name == "postgresql":
            # One array per column (unnest): the same statement whatever the number of
            # counters, so it is compiled once, not on every receipt.
            stmt, parameters = (
                _COUNT_ON_POSTGRESQL,
                {f"counter_{c}": [row[c] for row in increments] for c in _COUNTER_COLUMNS},
            )
        else:
            insert = _insert(session, table).values(increments)
            stmt = insert.on_conflict_do_update(
                index_elements=["kind", "subject", "period"],
                set_={"value": table.c.value + insert.excluded.value},
            ).returning(table.c.kind, table.c.subject, table.c.value)
            parameters = {}
        for kind_value, subject, value in (await session.execute(stmt, parameters)).all():
            observed[by_subject[(kind_value, subject)]] = int(value)
    breaches = [
        _Breach(rule, observed[(rule.kind, rule.scope)], *where[(rule.kind, rule.scope)])
        for rule in rules
        if (rule.kind, rule.scope) in observed and observed[(rule.kind, rule.scope)] > rule.value
    ]
    if not breaches:
        return ()
    breaches.sort(key=lambda b: (b.rule.severity is not Severity.HARD, _ORDER[b.rule.kind]))
    hard = [b for b in breaches if b.rule.severity is Severity.HARD]
    if hard:
        first = hard[0]

        async def record(session: AsyncSession) -> None:
            await _record_alerts(session, hard, activity, now, refused=True)

        raise LimitExceeded(
            kind=first.rule.kind.value,
            limit=first.rule.value,
            attempted=first.observed,
            scope=first.rule.scope_kind,
            after_rollback=record,
        )
    await _record_alerts(session, breaches, activity, now, refused=False)
    return tuple(
        LimitWarning(
            kind=b.rule.kind.value, limit=b.rule.value, value=b.observed, scope=b.rule.scope_kind
        )
        for b in breaches
    )


async def _record_alerts(
    session: AsyncSession,
    breaches: Sequence[_Breach],
    activity: Activity,
    now: datetime,
    *,
    refused: bool,
) -> None:
    """One open alert per (limit, subject, period): inserted, or counted on (one statement)."""
    table = FraudAlert.__table__
    rows = [
        {
            "limit_id": b.rule.id,
            "kind": b.rule.kind.value,
            "severity": b.rule.severity.value,
            "limit_value": b.rule.value,
            "subject": b.subject,
            "period": b.period,
            "observed": b.observed,
            "breaches": 1,
            "refused": 1 if refused else 0,
            "partner_id": activity.partner_id,
            "store_id": activity.store_id,
            "cashier_id": activity.cashier_id,
            "member_id": activity.member_id,
            "reference": activity.reference,
            "first_at": now,
            "last_at": now,
            "acknowledged_at": None,
            "acknowledged_by": None,
        }
        for b in breaches
    ]
    insert = _insert(session, table).values(rows)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=["limit_id", "subject", "period"],
            index_where=table.c.acknowledged_at.is_(None),
            set_={
                "breaches": table.c.breaches + 1,
                "refused": table.c.refused + insert.excluded.refused,
                "last_at": insert.excluded.last_at,
                "observed": case(
                    (insert.excluded.observed > table.c.observed, insert.excluded.observed),
                    else_=table.c.observed,
                ),
            },
        )
    )


# --- the operator: limits ---------------------------------------------------------------------


@dataclass(frozen=True)
class LimitView:
    id: int
    kind: str
    severity: str
    value: int
    scope: str  # "programme", "partner SPAR", "store SPAR-TIR-01"


def _kind(text: str) -> LimitKind:
    try:
        return LimitKind(text)
    except ValueError:
        raise InvalidInput(field="kind", kinds=", ".join(k.value for k in LimitKind)) from None


def _severity(text: str) -> Severity:
    try:
        return Severity(text)
    except ValueError:
        raise InvalidInput(field="severity") from None


async def _scope(
    session: AsyncSession, partner_code: str | None, store_code: str | None
) -> tuple[str, int | None, int | None]:
    if partner_code is not None and store_code is not None:
        raise InvalidInput(field="scope")
    if partner_code is not None:
        partner = (
            await session.execute(select(Partner).where(Partner.code == partner_code))
        ).scalar_one_or_none()
        if partner is None:
            raise NotFound(field="partner", partner=partner_code)
        return f"partner:{partner.id}", partner.id, None
    if store_code is not None:
        store = (
            await session.execute(select(Store).where(Store.code == store_code))
        ).scalar_one_or_none()
        if store is None:
            raise NotFound(field="store", store=store_code)
        return f"store:{store.id}", None, store.id
    return "", None, None


async def _limits_changed(session: AsyncSession) -> None:
    # Through the programme service: it marks the transaction as changing programme data, so
    # this process's cached programme row is dropped now and after the commit (other
    # processes see the new version within the cache's bound, app/programme_cache.py).
    await update_programme(session, limits_version=uuid.uuid4().hex)


async def set_limit(
    session: AsyncSession,
    *,
    kind: str,
    severity: str,
    value: int,
    partner_code: str | None = None,
    store_code: str | None = None,
    now: datetime,
) -> LimitView:
    """Create or change the ``severity`` limit on ``kind`` for the programme, one partner or
    one store. Every process uses it from its next receipt on."""
    limit_kind, limit_severity = _kind(kind), _severity(severity)
    if value < 1:
        raise InvalidInput(field="value")
    scope, partner_id, store_id = await _scope(session, partner_code, store_code)
    row = (
        await session.execute(
            select(FraudLimit).where(
                FraudLimit.kind == limit_kind.value,
                FraudLimit.severity == limit_severity.value,
                FraudLimit.scope == scope,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = FraudLimit(
            kind=limit_kind.value,
            severity=limit_severity.value,
            scope=scope,
            partner_id=partner_id,
            store_id=store_id,
            created_at=now,
        )
        session.add(row)
    row.value = value
    row.updated_at = now
    await _limits_changed(session)
    await session.flush()
    return (await list_limits(session, ids=[row.id]))[0]


async def remove_limit(
    session: AsyncSession,
    *,
    kind: str,
    severity: str,
    partner_code: str | None = None,
    store_code: str | None = None,
) -> None:
    """Remove a limit (its alerts stay)."""
    limit_kind, limit_severity = _kind(kind), _severity(severity)
    scope, _, _ = await _scope(session, partner_code, store_code)
    row = (
        await session.execute(
            select(FraudLimit).where(
                FraudLimit.kind == limit_kind.value,
                FraudLimit.severity == limit_severity.value,
                FraudLimit.scope == scope,
            )
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(field="limit")
    await session.delete(row)
    await _limits_changed(session)
    await session.flush()


async def list_limits(session: AsyncSession, ids: Iterable[int] | None = None) -> list[LimitView]:
    """Every limit (or those of ``ids``), by kind then severity, with its scope by code."""
    stmt = (
        select(FraudLimit, Partner.code, Store.code)
        .outerjoin(Partner, Partner.id == FraudLimit.partner_id)
        .outerjoin(Store, Store.id == FraudLimit.store_id)
    )
    if ids is not None:
        stmt = stmt.where(FraudLimit.id.in_(list(ids)))
    found = []
    for row, partner_code, store_code in (await session.execute(stmt)).all():
        scope = (
            f"partner {partner_code}"
            if partner_code is not None
            else f"store {store_code}"
            if store_code is not None
            else "programme"
        )
        found.append(LimitView(row.id, row.kind, row.severity, row.value, scope))
    found.sort(key=lambda v: (_ORDER[LimitKind(v.kind)], v.severity, v.scope))
    return found


# --- the operator: alerts ---------------------------------------------------------------------


@dataclass(frozen=True)
class AlertView:
    alert: FraudAlert
    store_code: str | None
    partner_code: str | None


async def list_alerts(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    store_code: str | None = None,
    cashier_id: str | None = None,
    open_only: bool = False,
    limit: int = 200,
) -> list[AlertView]:
    """Alerts last breached at or after ``since``, newest first; for one store (code) or one
    cashier id, open ones only if asked."""
    stmt = (
        select(FraudAlert, Store.code, Partner.code)
        .outerjoin(Store, Store.id == FraudAlert.store_id)
        .outerjoin(Partner, Partner.id == FraudAlert.partner_id)
    )
    if since is not None:
        stmt = stmt.where(FraudAlert.last_at >= since)
    if store_code is not None:
        if (
            await session.execute(select(Store.id).where(Store.code == store_code))
        ).scalar_one_or_none() is None:
            raise NotFound(field="store", store=store_code)
        stmt = stmt.where(Store.code == store_code)
    if cashier_id is not None:
        stmt = stmt.where(FraudAlert.cashier_id == cashier_id)
    if open_only:
        stmt = stmt.where(FraudAlert.acknowledged_at.is_(None))
    stmt = stmt.order_by(FraudAlert.last_at.desc(), FraudAlert.id.desc()).limit(limit)
    return [
        AlertView(alert, store, partner) for alert, store, partner in (await session.execute(stmt))
    ]


async def acknowledge_alert(
    session: AsyncSession, alert_id: int, *, operator: str, now: datetime
) -> tuple[FraudAlert, bool]:
    """Mark an alert as seen by ``operator``; the next breach in the same period opens a new
    one. Returns the alert and whether this call acknowledged it (False: it already was)."""
    alert = (
        await session.execute(select(FraudAlert).where(FraudAlert.id == alert_id).with_for_update())
    ).scalar_one_or_none()
    if alert is None:
        raise NotFound(field="alert", alert=alert_id)
    if alert.acknowledged_at is not None:
        return alert, False
    alert.acknowledged_at = now
    alert.acknowledged_by = operator[:80]
    await session.flush()
    return alert, True


# --- the demo --------------------------------------------------------------------------------

# Far above a normal demo day (about one point per euro, at most triple on promoted brands),
# so only a deliberate test crosses them: (kind, severity, value).
DEMO_LIMITS: tuple[tuple[LimitKind, Severity, int], ...] = (
    (LimitKind.POINTS_PER_RECEIPT, Severity.SOFT, 5_000),
    (LimitKind.POINTS_PER_RECEIPT, Severity.HARD, 10_000),
    (LimitKind.POINTS_PER_MEMBER_DAY, Severity.SOFT, 10_000),
    (LimitKind.POINTS_PER_MEMBER_DAY, Severity.HARD, 20_000),
    (LimitKind.POINTS_PER_CASHIER_DAY, Severity.SOFT, 30_000),
    (LimitKind.POINTS_PER_STORE_DAY, Severity.SOFT, 300_000),
    (LimitKind.RECEIPTS_PER_CARD_HOUR, Severity.SOFT, 20),
    (LimitKind.RECEIPTS_PER_CARD_HOUR, Severity.HARD, 100),
    (LimitKind.REDEMPTIONS_PER_MEMBER_DAY, Severity.SOFT, 6),
    (LimitKind.REDEMPTIONS_PER_MEMBER_DAY, Severity.HARD, 12),
)


async def ensure_demo_limits(session: AsyncSession, now: datetime) -> int:
    """The demo's programme-wide limits where none of that kind and severity is set (an
    operator's own values are kept). The number added."""
    existing = set(
        (
            await session.execute(
                select(FraudLimit.kind, FraudLimit.severity).where(FraudLimit.scope == "")
            )
        ).all()
    )
    added = 0
    for kind, severity, value in DEMO_LIMITS:
        if (kind.value, severity.value) not in existing:
            await set_limit(session, kind=kind, severity=severity, value=value, now=now)
            added += 1
    return added
