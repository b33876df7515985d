"""The operator audit log: one entry per operator command that changes data.

Append-only: this module only inserts and reads (on PostgreSQL a trigger refuses UPDATE
and DELETE, migration 0013). Arguments are stored as a JSON object with secrets redacted
by the caller (the CLI's dispatcher, ``cli.audit``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InvalidInput
from app.support.models import OperatorAuditEntry

MAX_LIST = 1000


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    operator: str
    command: str
    arguments: dict[str, Any]
    outcome: str


async def record(
    session: AsyncSession,
    *,
    operator: str,
    command: str,
    arguments: Mapping[str, Any],
    outcome: str,
    now: datetime,
) -> None:
    """Append one entry (texts cut to their columns, never refused)."""
    session.add(
        OperatorAuditEntry(
            at=now,
            operator=operator[:80],
            command=command[:80],
            arguments=json.dumps(dict(arguments), sort_keys=True, default=str),
            outcome=outcome[:300],
        )
    )
    await session.flush()


async def list_entries(
    session: AsyncSession,
    *,
    since: datetime | None = None,
    operator: str | None = None,
    limit: int = 50,
) -> list[AuditEntry]:
    """The newest entries first, optionally since a moment and by one operator."""
    if not 1 <= limit <= MAX_LIST:
        raise InvalidInput(field="limit", maximum=MAX_LIST)
    stmt = select(OperatorAuditEntry)
    if since is not None:
        stmt = stmt.where(OperatorAuditEntry.at >= since)
    if operator is not None:
        stmt = stmt.where(OperatorAuditEntry.operator == operator)
    stmt = stmt.order_by(OperatorAuditEntry.at.desc(), OperatorAuditEntry.id.desc()).limit(limit)
    return [
        AuditEntry(
            id=row.id,
            at=row.at,
            operator=row.operator,
            command=row.command,
            arguments=json.loads(row.arguments),
            outcome=row.outcome,
        )
        for row in await session.scalars(stmt)
    ]
