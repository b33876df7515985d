"""Review of issue 15 (reviewer review15): the partner door's fixtures."""

from tests.pos.conftest import cli_env, coalition, member, spar  # noqa: F401
