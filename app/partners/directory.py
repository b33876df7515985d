"""The public coalition directory (partners, brands, stores), cached per process.

Every read first asks the database for the directory's version (one lookup by primary
key); the cached copy is served while the version is unchanged, and reloaded (three
queries) after any change to partners, brands or stores, whichever process made it: the
CLI, ``happy demo`` or another app worker bump the same row in the transaction of the
change. So no process ever serves a directory older than the last committed change, and
the database answers one tiny query per request instead of three. With a read replica
(HAPPY_DATABASE_REPLICA_URL) both the version and the reload come from the replica: the
directory is then as fresh as the replica (lag-tolerant by design, docs/scaling.md).
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field

from app.db import Database
from app.partners.service import Directory, directory_version, load_directory


@dataclass
class _Cache:
    directory: Directory | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


# One cache per database object (a process may serve several, as the tests do); keyed by
# identity (Database is an unhashable dataclass), checked through a weak reference so a
# reused id never hands one database's directory to another.
_caches: dict[int, tuple[weakref.ref[Database], _Cache]] = {}


def _cache_of(db: Database) -> _Cache:
    entry = _caches.get(id(db))
    if entry is None or entry[0]() is not db:
        for key in [k for k, (ref, _) in _caches.items() if ref() is None]:
            del _caches[key]
        entry = (weakref.ref(db), _Cache())
        _caches[id(db)] = entry
    return entry[1]


async def coalition_directory(db: Database) -> Directory:
    """The current directory: the cached copy while its version is the database's.

    Read from the replica when one is configured (a partner change may show a moment late;
    docs/scaling.md)."""
    cache = _cache_of(db)
    async with db.replica_session() as session:
        version = await directory_version(session)
        cached = cache.directory
        if cached is not None and cached.version == version:
            return cached
    async with cache.lock:  # one reload at a time; the others wait and reuse it
        cached = cache.directory
        if cached is not None and cached.version == version:
            return cached
        async with db.replica_session() as session:
            # Read the version again inside the reload: a change committed meanwhile is
            # either in this copy or makes the next request reload once more.
            fresh = await load_directory(session, await directory_version(session))
        cache.directory = fresh
        return fresh
