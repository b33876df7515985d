"""``happy ...`` in this process on the test database, for the directory tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.db import Database
from app.settings import Settings, get_settings
from cli import main


@dataclass
class Said:
    code: int
    out: str
    err: str


Operator = Callable[..., Awaitable[Said]]


@pytest.fixture
def operator(
    settings: Settings, db: Database, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> Iterator[Operator]:
    monkeypatch.setenv("HAPPY_ENV", "test")
    monkeypatch.setenv("HAPPY_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HAPPY_JWT_SECRET", settings.jwt_secret)
    monkeypatch.setenv("HAPPY_HASH_SECRET", settings.hash_secret)
    get_settings.cache_clear()

    async def run(*argv: str) -> Said:
        capsys.readouterr()
        code = await asyncio.to_thread(main, list(argv))
        said = capsys.readouterr()
        return Said(code, said.out, said.err)

    yield run
    get_settings.cache_clear()
