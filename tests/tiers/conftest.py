"""Tier tests use the partner door's fixtures (demo coalition, a Spar till, a member)."""

from tests.pos.conftest import cli_env, coalition, member, spar  # noqa: F401
