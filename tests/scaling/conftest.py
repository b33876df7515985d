"""Fixtures for the scaling tests (issue 15): the POS door's coalition, till and member."""

from __future__ import annotations

from tests.pos.conftest import (  # noqa: F401 (the POS door's fixtures)
    cli_env,
    coalition,
    member,
    spar,
)
