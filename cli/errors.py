"""What the ``happy`` command says when something goes wrong: one line, never a traceback.

Every command raises; :func:`explain` (called by the one handler in :func:`cli.main`) turns
the exception into a :class:`CliError` with a message that says what was wrong and what to
do, and an exit code: 2 for a usage or configuration mistake, 1 for a failure.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Mapping
from typing import Any

from alembic.util import CommandError as AlembicCommandError
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from app.errors import DomainError, ErrorCode
from app.i18n import translate
from app.settings import SettingsError

USAGE = 2
FAILURE = 1

URL_EXAMPLES = (
    "sqlite+aiosqlite:///var/happy.db or postgresql+asyncpg://USER:PASSWORD@HOST:5432/DATABASE"
)


class CliError(Exception):
    """A failure the operator can act on: ``message`` is the whole story, on one line."""

    def __init__(self, message: str, *, exit_code: int = FAILURE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


class UsageError(CliError):
    """The command line itself is wrong (unknown option, bad value)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, exit_code=USAGE)


# (code, field) -> message; ``{name}`` is filled from the command's arguments, then from
# the error's params. Fields are the ones the services name in their errors.
_MESSAGES: Mapping[tuple[ErrorCode, str | None], str] = {
    (ErrorCode.NOT_FOUND, "store"): "no store {store}; see `happy store list`",
    (ErrorCode.NOT_FOUND, "partner"): (
        "no partner {partner}; partner codes are in `happy store list` (second column)"
    ),
    (ErrorCode.NOT_FOUND, "prefix"): "no API key {prefix}; see `happy partner key list`",
    (ErrorCode.INVALID_INPUT, "label"): "a key label is at most 80 characters",
    (ErrorCode.INVALID_INPUT, "rate"): (
        "an earn rate needs --points 0 or more, --per-amount 1 or more and a 3-letter currency"
    ),
    (ErrorCode.INVALID_INPUT, "multiplier"): (
        "a modifier needs a non-empty brand or category and a --multiplier of 0 or more"
    ),
    (ErrorCode.INVALID_INPUT, "level"): (
        "a reward level needs a level, --points, --vouchers and --value of 1 or more "
        "and a 3-letter --currency"
    ),
    (ErrorCode.INVALID_INPUT, "welcome_bonus_points"): "the welcome bonus cannot be negative",
    (ErrorCode.INVALID_INPUT, "points_expiry_months"): (
        "the points expiry cannot be negative (months)"
    ),
    (ErrorCode.INVALID_INPUT, "name"): "the programme name is not valid",
    (ErrorCode.INVALID_INPUT, "logoUrl"): (
        "--logo-url must be an https:// URL or a path on this server starting with /, "
        "500 characters at most, without spaces"
    ),
    (ErrorCode.INVALID_INPUT, "address"): (
        "--address must be plain text of 200 characters at most"
    ),
    (ErrorCode.INVALID_RATE, "rate"): (
        "the rate must be a positive number of {currency} per 1 EUR with at most 6 decimals, "
        "not {rate!r} (e.g. `happy fx set ALL 100.25 --from 2026-12-01`)"
    ),
    (ErrorCode.INVALID_RATE, "currency"): "EUR is the base currency: its rate is always 1",
    (ErrorCode.INVALID_INPUT, "redemption_confirmation_eur"): (
        "the redemption threshold must be an amount of EUR above 0 (e.g. 9.60), or `off`"
    ),
    # The operator's toolbox (issue 14)
    (ErrorCode.CONFLICT, "code"): (
        "the code {taken} is taken; see `happy partner list` and `happy store list`"
    ),
    (ErrorCode.INVALID_INPUT, "code"): "a code is 2 to 32 characters of A-Z, 0-9, - and _",
    (ErrorCode.INVALID_INPUT, "country"): "--country must be one of {allowed}",
    (ErrorCode.INVALID_INPUT, "partnerName"): "--name must be plain text, 1 to {maximum} "
    "characters",
    (ErrorCode.INVALID_INPUT, "storeName"): "--name must be plain text, 1 to {maximum} characters",
    (ErrorCode.INVALID_INPUT, "sector"): "--sector must be plain text, 1 to {maximum} characters",
    (ErrorCode.INVALID_INPUT, "city"): "--city must be plain text, 1 to {maximum} characters",
    (ErrorCode.INVALID_INPUT, "prefix"): "--prefix must be 4 to 6 digits",
    (ErrorCode.CONFLICT, "prefix"): (
        "--prefix {prefix} overlaps the digital cards' prefix {digital}; choose another"
    ),
    (ErrorCode.INVALID_INPUT, "count"): "--count must be 1 to {maximum}",
    (ErrorCode.INVALID_INPUT, "reason"): "--reason must be plain text of 1 to 200 characters",
    (ErrorCode.INVALID_INPUT, "points"): "an adjustment is 1 to {maximum} points either way",
    (ErrorCode.INVALID_INPUT, "limit"): "--limit must be 1 to {maximum}",
    (ErrorCode.NOT_FOUND, "member"): (
        "no active member found; name one by public id or card number "
        "(see `happy member find --phone ...`)"
    ),
    (ErrorCode.INSUFFICIENT_POINTS, "points"): (
        "the member has fewer than {needed} points available: a balance never goes below zero"
    ),
    (ErrorCode.BATCH_TOO_LARGE, "jsonLines"): (
        "a batch holds at most {maximum} receipts; split the file and import each part"
    ),
}


def describe_domain_error(exc: DomainError, args: argparse.Namespace | None) -> str:
    """The operator's message for an expected failure raised by a core service."""
    values: dict[str, Any] = {**(vars(args) if args is not None else {}), **exc.params}
    template = _MESSAGES.get((exc.code, exc.field))
    if template is not None:
        try:
            return template.format(**values)
        except (KeyError, IndexError):
            pass
    text = translate(exc.code.value, "en", **exc.params).rstrip(".")
    where = f" ({exc.field})" if exc.field else ""
    return f"{text}{where} [{exc.code.value}]"


def masked_url(url: str) -> str:
    """The database URL without its password, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _missing_tables(exc: BaseException) -> bool:
    text = str(exc).lower()
    return ("no such table" in text) or ("relation" in text and "does not exist" in text)


def explain(
    exc: BaseException, args: argparse.Namespace | None, database_url: str | None
) -> CliError:
    """Turn any exception a command raised into one line and an exit code."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, DomainError):
        return CliError(describe_domain_error(exc, args))
    if isinstance(exc, SettingsError):
        return CliError(f"configuration: {exc}", exit_code=USAGE)
    if isinstance(exc, sa_exc.ArgumentError | sa_exc.NoSuchModuleError) or (
        isinstance(exc, sa_exc.InvalidRequestError) and "async" in str(exc)
    ):
        return bad_database_url(database_url, _first_line(exc))
    if isinstance(exc, ModuleNotFoundError) and database_url is not None:
        return bad_database_url(database_url, f"no driver {exc.name!r} installed")
    if isinstance(exc, sa_exc.DBAPIError) and _missing_tables(exc):
        return CliError(
            "the database has no Happy tables yet (or is behind the code); "
            "run `happy db upgrade` first"
        )
    if isinstance(exc, AlembicCommandError):
        return CliError(f"database migration: {_first_line(exc)}", exit_code=USAGE)
    if isinstance(exc, OverflowError):
        return CliError(f"a number is too large ({_first_line(exc)})", exit_code=USAGE)
    if isinstance(exc, OSError) and exc.filename is not None:
        # A file the command reads or writes, not the database.
        reason = exc.strerror or _first_line(exc)
        return CliError(f"cannot use {exc.filename}: {reason}")
    if isinstance(exc, sa_exc.DBAPIError | ConnectionError | TimeoutError | socket.gaierror) and (
        database_url
    ):
        return unreachable_database(database_url, exc)
    if isinstance(exc, OSError) and database_url:  # a socket failure without a file name
        return unreachable_database(database_url, exc)
    return CliError(
        f"unexpected error: {type(exc).__name__}: {_first_line(exc)}; "
        "run again with `happy --traceback ...` and report it"
    )


def bad_database_url(database_url: str | None, reason: str) -> CliError:
    shown = masked_url(database_url or "")
    return CliError(
        f"HAPPY_DATABASE_URL {shown} is not a usable database URL ({reason}); use {URL_EXAMPLES}",
        exit_code=USAGE,
    )


def unreachable_database(database_url: str, exc: BaseException) -> CliError:
    return CliError(
        f"cannot open the database at {masked_url(database_url)} ({_first_line(exc)}); "
        "check HAPPY_DATABASE_URL and that the database server is running"
    )
