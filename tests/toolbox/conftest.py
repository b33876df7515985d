"""Fixtures for the operator's toolbox: the demo coalition, tills, kiosks, members, and
``happy`` run in-process as the operator would (its own event loop, in a thread)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from sqlalchemy import select

import cli
from app.db import Database
from app.members.models import Member as MemberModel
from tests.kiosk.conftest import KioskClient, enrolled_kiosk  # noqa: F401
from tests.pos.conftest import (  # noqa: F401 (fixtures)
    Member,
    Pos,
    cli_env,
    coalition,
    give_points,
    ledger_check_after_module,
    make_key,
    member,
    neptun,
    receipt,
    sign_up,
    spar,
)


@dataclass
class Said:
    code: int
    out: str
    err: str


@pytest.fixture
def happy(cli_env: None, capsys: pytest.CaptureFixture[str]):  # type: ignore[no-untyped-def]  # noqa: F811
    """``await happy("store", "list")`` -> exit code, stdout, stderr."""

    async def run(*argv: str) -> Said:
        capsys.readouterr()
        code = await asyncio.to_thread(cli.main, list(argv))
        said = capsys.readouterr()
        return Said(code, said.out, said.err)

    return run


async def public_id(db: Database, member_id: int) -> str:
    async with db.read_session() as session:
        found = await session.scalar(
            select(MemberModel.public_id).where(MemberModel.id == member_id)
        )
    assert found is not None
    return found
