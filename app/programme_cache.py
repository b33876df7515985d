"""Programme data cached per process: earn rules, reward levels, tiers, programme settings.

These change a few times a year (an operator's CLI command, ``happy demo``) and are read
on every receipt, every reward screen and every USSD menu. Each process keeps what it read
for at most ``STALE_AFTER_SECONDS`` and then reads it again, so:

- a change made in *this* process (a CLI command in the same process, a test) is seen at
  once: every write of programme data calls :func:`changed` in its transaction, which
  empties this process's caches then and again after the commit (a read that raced the
  commit cannot keep the old copy);
- a change made in *another* process (the CLI on the server, another worker, another app
  replica) is seen within ``STALE_AFTER_SECONDS`` (docs/decisions.md, "hotpath").

A transaction that changed programme data reads it from the database, never from the cache
(it must see its own change, and must not publish an uncommitted one). Cached values are
plain values or detached copies: callers read them, never add them to a session.

Caches are kept per database (per connection pool): a process that talks to several
databases (the tests) never mixes them.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import class_mapper

from app.db import on_commit

# The staleness bound for changes made by another process (seconds).
STALE_AFTER_SECONDS = 5.0

_clock = time.monotonic  # replaced by tests that move time

T = TypeVar("T")
M = TypeVar("M")
_WROTE = "happy_programme_data_changed"
_generation = 0
_caches: weakref.WeakKeyDictionary[Any, dict[Hashable, tuple[int, float, Any]]] = (
    weakref.WeakKeyDictionary()
)


def _bump() -> None:
    global _generation
    _generation += 1


async def _bump_after_commit() -> None:
    _bump()


def changed(session: AsyncSession) -> None:
    """Record that ``session``'s transaction changes programme data: this process's caches
    are emptied now and after the commit, and ``session`` reads past them."""
    _bump()
    if not session.info.get(_WROTE):
        session.info[_WROTE] = True
        on_commit(session, _bump_after_commit)


def _cache_of(session: AsyncSession) -> dict[Hashable, tuple[int, float, Any]]:
    bind = session.get_bind()
    pool = bind.pool if isinstance(bind, Engine) else bind.engine.pool
    cache = _caches.get(pool)
    if cache is None:
        cache = _caches[pool] = {}
    return cache


async def cached(session: AsyncSession, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
    """``load()``'s value for ``key``, kept for this process up to ``STALE_AFTER_SECONDS``
    (or until :func:`changed`). ``load`` reads through ``session`` and returns a value safe
    to share between requests (immutable, or detached copies)."""
    if session.info.get(_WROTE):
        return await load()
    cache = _cache_of(session)
    now = _clock()
    entry = cache.get(key)
    if entry is not None and entry[0] == _generation and now - entry[1] < STALE_AFTER_SECONDS:
        value: T = entry[2]
        return value
    generation = _generation  # a change during the load leaves the entry already stale
    value = await load()
    if not session.info.get(_WROTE):
        cache[key] = (generation, now, value)
    return value


def detached_copy(instance: M) -> M:
    """A copy of the ORM object ``instance`` with its column values, in no session (what a
    cache may hand to every request: reading it never touches a session)."""
    mapper = class_mapper(type(instance))
    copy: M = mapper.class_manager.new_instance()
    copy.__dict__.update({attr.key: getattr(instance, attr.key) for attr in mapper.column_attrs})
    return copy


def forget_all() -> None:
    """Empty every cache of this process (tests; a command that changed data by hand)."""
    _bump()
