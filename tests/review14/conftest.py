from tests.pos.conftest import cli_env

__all__ = ["cli_env"]
