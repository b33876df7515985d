"""Settlement tests reuse the POS door's fixtures (``happy`` commands against the test db)."""

from tests.pos.conftest import cli_env

__all__ = ["cli_env"]
