"""Hardening tests: the demo coalition and tills from the POS fixtures, and a guard that
no client mistake leaves an ERROR line (with its traceback) in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from tests.pos.conftest import coalition, member, neptun, spar  # noqa: F401


@pytest.fixture(autouse=True)
def no_error_logged(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test here sends bad input: none of it may be logged as an ERROR."""
    caplog.set_level(logging.INFO)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [f"{r.name}: {r.getMessage()}" for r in errors]
