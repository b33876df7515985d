"""Fraud limit fixtures: the demo coalition, tills, a member and the operator's CLI."""

from __future__ import annotations

from tests.pos.conftest import (  # noqa: F401  (fixtures)
    cli_env,
    coalition,
    member,
    neptun,
    spar,
)
