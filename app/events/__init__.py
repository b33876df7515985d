"""Domain events: what happened in the core, for every capability that cares.

A service that changes something others react to (a balance, a member, a receipt, a
voucher) calls :func:`publish` with a typed event, inside its unit of work. It never
calls the capability that reacts: the ledger does not know the wallet exists.

Subscribers are registered once, where the app is assembled (``app/main.py``), on the
database's :class:`EventBus`, in one of two ways:

- **in the same transaction** (:meth:`EventBus.in_transaction`): the handler runs inside
  :func:`publish` with the publisher's session, so what it writes commits or rolls back
  with the change itself (the wallet pass update tag);
- **after commit, through the outbox** (:meth:`EventBus.after_commit`): :func:`publish`
  writes one ``outbox_messages`` row per subscriber in the same transaction, and
  :mod:`app.events.delivery` runs the handler after the commit, outside any
  transaction, retrying with back-off until it succeeds, also across restarts (APNs,
  Google Wallet, member messages). Such a handler must be safe to run twice. Rows with
  the same ``coalesce`` key are delivered once for the newest (the handler reads the
  current state, so the newest row covers the older ones).

docs/architecture.md shows how to add a subscriber.
"""

from __future__ import annotations

import dataclasses
import json
import typing
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from app import deferred
from app.events.outbox import OutboxMessage, OutboxStatus

BUS_KEY = "happy_event_bus"
# Set on a session that wrote outbox rows: its unit of work delivers after the commit.
OUTBOX_WRITTEN = "happy_outbox_written"

_EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True)
class Event:
    """Base of every domain event: a frozen record of plain values (ids, numbers, text,
    times), so it can wait in the outbox as JSON."""

    at: datetime

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        _EVENT_TYPES[cls.__name__] = cls

    @classmethod
    def event_name(cls) -> str:
        return cls.__name__


@dataclass(frozen=True)
class BalanceChanged(Event):
    """A ledger entry changed the member's available points."""

    member_id: int
    entry_id: int
    kind: str  # the ledger entry kind (earn, reversal, reward_claim, ...)
    delta: int
    balance: int
    # The member's lifetime points after the change (rows written before it was added
    # carry none).
    lifetime: int | None = None


@dataclass(frozen=True)
class MemberRegistered(Event):
    member_id: int
    channel: str


@dataclass(frozen=True)
class MemberProfileChanged(Event):
    """Name, language or other profile fields changed (wallet passes show the name)."""

    member_id: int
    fields: tuple[str, ...]


@dataclass(frozen=True)
class MemberDeleted(Event):
    member_id: int


@dataclass(frozen=True)
class ReceiptAccepted(Event):
    receipt_id: int
    member_id: int
    partner_id: int
    store_id: int
    points: int


@dataclass(frozen=True)
class ReceiptRefunded(Event):
    receipt_id: int
    member_id: int
    partner_id: int
    points_reversed: int
    points_uncollected: int


@dataclass(frozen=True)
class VoucherIssued(Event):
    """A reward claim issued vouchers to a member."""

    member_id: int
    claim_id: int
    voucher_ids: tuple[int, ...]


@dataclass(frozen=True)
class VoucherRedeemed(Event):
    voucher_id: int
    member_id: int
    partner_id: int
    store_id: int


@dataclass(frozen=True)
class TierChanged(Event):
    """A member moved to another tier (up on a receipt, down at the review)."""

    member_id: int
    tier: str  # the new tier's code ("" when no tiers are defined any more)
    tier_name: str
    previous: str


E = TypeVar("E", bound=Event)
InTransactionHandler = Callable[[AsyncSession, Any], Awaitable[None]]
AfterCommitHandler = Callable[[Any], Awaitable[None]]
Condition = Callable[[AsyncSession, Any], Awaitable[bool]]
CoalesceKey = Callable[[Any], str | None]


@dataclass(frozen=True)
class AfterCommitSubscriber:
    name: str
    handler: AfterCommitHandler
    coalesce: CoalesceKey | None = None
    when: Condition | None = None


class EventBus:
    """Who reacts to which event. One per database; filled by the assembly."""

    def __init__(self) -> None:
        self._in_transaction: dict[type[Event], list[InTransactionHandler]] = defaultdict(list)
        self._after_commit: dict[type[Event], list[AfterCommitSubscriber]] = defaultdict(list)
        self._by_name: dict[str, AfterCommitSubscriber] = {}
        # Set by the assembly: called once a unit of work that wrote outbox rows has
        # committed (without it, rows wait for the next poll or ``happy outbox deliver``).
        self.deliver: Callable[[], Awaitable[None]] | None = None

    def in_transaction(
        self, event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]
    ) -> None:
        """Run ``handler(session, event)`` inside the publisher's transaction."""
        self._in_transaction[event_type].append(handler)

    def after_commit(
        self,
        event_type: type[E],
        name: str,
        handler: Callable[[E], Awaitable[None]],
        *,
        coalesce: Callable[[E], str | None] | None = None,
        when: Callable[[AsyncSession, E], Awaitable[bool]] | None = None,
    ) -> None:
        """Run ``handler(event)`` after commit through the outbox, as subscriber ``name``
        (stable: it is stored with every row). ``when`` (run in the transaction) can skip
        the row; rows with the same ``coalesce(event)`` key are delivered once."""
        subscriber = self._by_name.get(name)
        if subscriber is None:
            subscriber = AfterCommitSubscriber(name, handler, coalesce, when)
            self._by_name[name] = subscriber
        elif subscriber.handler != handler:
            raise ValueError(f"subscriber name {name!r} is taken by another handler")
        self._after_commit[event_type].append(subscriber)

    def subscriber(self, name: str) -> AfterCommitSubscriber | None:
        return self._by_name.get(name)

    def clear(self) -> None:
        self._in_transaction.clear()
        self._after_commit.clear()
        self._by_name.clear()
        self.deliver = None


def bus_of(session: AsyncSession) -> EventBus:
    bus = session.info.get(BUS_KEY)
    if not isinstance(bus, EventBus):
        raise RuntimeError("this session has no event bus: open it with Database")
    return bus


async def publish(session: AsyncSession, event: Event) -> None:
    """Record ``event`` in the session's transaction: run the in-transaction handlers now
    and queue one outbox row per after-commit subscriber."""
    bus = bus_of(session)
    for handler in bus._in_transaction.get(type(event), ()):
        await handler(session, event)
    rows = []
    for subscriber in bus._after_commit.get(type(event), ()):
        if subscriber.when is not None and not await subscriber.when(session, event):
            continue
        rows.append(
            {
                "subscriber": subscriber.name,
                "event_type": event.event_name(),
                "payload": to_json(event),
                "coalesce_key": subscriber.coalesce(event) if subscriber.coalesce else None,
                "status": OutboxStatus.PENDING,
                "attempts": 0,
                "last_error": None,
                "created_at": event.at,
                "next_attempt_at": event.at,
                "done_at": None,
            }
        )
    if rows:
        # Nothing in the publishing transaction reads its outbox rows: they go out with
        # its other deferred writes, in one statement at commit (app/deferred.py).
        await deferred.write(session, insert(cast(Table, OutboxMessage.__table__)), rows)
        session.info[OUTBOX_WRITTEN] = True


# --- the outbox's JSON ------------------------------------------------------------------


def to_json(event: Event) -> str:
    data: dict[str, Any] = {}
    for field in dataclasses.fields(event):
        value = getattr(event, field.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        data[field.name] = value
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def from_json(event_type: str, payload: str) -> Event:
    """The event back from an outbox row (``KeyError`` for an unknown event type)."""
    cls = _EVENT_TYPES[event_type]
    hints = typing.get_type_hints(cls)
    data = json.loads(payload)
    values: dict[str, Any] = {}
    for field in dataclasses.fields(cls):
        if field.name not in data and field.default is not dataclasses.MISSING:
            continue  # a field added since the row was written: its default
        value = data[field.name]
        hint = hints[field.name]
        if hint is datetime:
            value = datetime.fromisoformat(value)
        elif typing.get_origin(hint) is tuple:
            value = tuple(value)
        values[field.name] = value
    return cls(**values)
