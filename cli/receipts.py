"""``happy receipts import``: a till's offline batch, one JSON receipt per line.

The file is read line by line, twice, in constant memory: a first pass checks that it is
UTF-8 text (a byte-order mark is fine) with at most ``MAX_BATCH_LINES`` receipts, stopping
at the first problem, so a wrong file is reported once and nothing is written; the second
pass feeds the lines to the core one at a time.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from app import clock
from app.db import Database
from app.receipts.service import MAX_BATCH_LINES
from app.settings import Settings
from cli.context import run
from cli.errors import CliError

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
# A receipt has at most 500 lines: far below 1 MiB of JSON. Longer is not a batch file.
MAX_LINE_BYTES = 1 << 20


def open_batch(path: Path) -> IO[bytes]:
    """The batch file opened for reading, or one clear line about why it cannot be."""
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise CliError(f"no file {path}; give the path of a JSON-lines batch") from None
    except IsADirectoryError:
        raise CliError(f"{path} is a folder; give the path of a JSON-lines batch file") from None
    except PermissionError:
        raise CliError(f"cannot read {path}: permission denied") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None


def batch_lines(handle: IO[bytes], path: Path) -> Iterator[str]:
    """The lines of a UTF-8 batch (without line ends), read one at a time.

    Raises :class:`CliError` at the first line that shows the file is not a UTF-8 text
    batch: binary, UTF-16, another encoding, or a line longer than ``MAX_LINE_BYTES``."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if number == 1:
            if raw.startswith(UTF16_BOMS):
                raise CliError(f"{path} is UTF-16 text; save it as UTF-8 and import it again")
            raw = raw.removeprefix(UTF8_BOM)
        if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
            raise CliError(
                f"{path} line {number} is longer than {MAX_LINE_BYTES // (1 << 20)} MiB: "
                "not a receipt batch (one JSON receipt per line)"
            )
        if b"\x00" in raw:
            raise CliError(
                f"{path} is a binary file (line {number}), not a JSON-lines receipt batch"
            )
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            if _looks_binary(raw + handle.read(4096)):
                raise CliError(f"{path} is a binary file, not a JSON-lines receipt batch") from None
            raise CliError(
                f"{path} is not UTF-8 text (line {number}, byte {exc.start + 1} of the line); "
                "save it as UTF-8 and import it again"
            ) from None
        yield text.rstrip("\r\n")


def _looks_binary(sample: bytes) -> bool:
    """NUL bytes, or many control bytes that no text file has (tab and line ends aside)."""
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return b"\x00" in sample or controls * 20 > len(sample)


def check_batch(path: Path) -> int:
    """First pass: the number of receipts (non-blank lines); stops at the first problem."""
    receipts = 0
    with open_batch(path) as handle:
        for text in batch_lines(handle, path):
            if text.strip():
                receipts += 1
                if receipts > MAX_BATCH_LINES:
                    raise CliError(
                        f"{path} holds more than {MAX_BATCH_LINES} receipts; split it "
                        f"(e.g. `split -l {MAX_BATCH_LINES} {path} part-`) and import each part"
                    )
    return receipts


def cmd_receipts_import(args: argparse.Namespace, settings: Settings) -> int:
    from app.callers import Channel
    from app.partners.service import find_store, store_caller
    from app.receipts.service import import_lines
    from app.runtime import build_runtime

    path = Path(args.file)
    if check_batch(path) == 0:
        print(f"no receipts in {path}: nothing imported", file=sys.stderr)
        return 0
    runtime = build_runtime(settings)

    async def work(db: Database) -> int:
        with open_batch(path) as handle:
            async with db.unit_of_work() as session:
                found = await find_store(session, args.store)
                if found is None:
                    raise CliError(f"no store {args.store}; see `happy store list`")
                store, _partner = found
                # The operator acts for the store; its own limits count against "operator".
                caller = await store_caller(
                    session, store.id, channel=Channel.OPERATOR, limit_key="operator"
                )
                if caller is None:
                    raise CliError(
                        f"store {args.store} or its partner is inactive: receipts can't be "
                        "imported for it"
                    )
                reports = await import_lines(
                    session, runtime, caller, batch_lines(handle, path), now=clock.now()
                )
        for report in reports:
            print(
                json.dumps(
                    {
                        "line": report.line,
                        "receiptId": report.receipt_id,
                        "status": report.status,
                        "reason": report.reason,
                        "pointsEarned": report.points_earned,
                    }
                )
            )
        counts = {
            s: sum(1 for r in reports if r.status == s)
            for s in ("accepted", "duplicate", "rejected")
        }
        print(
            f"{counts['accepted']} accepted, {counts['duplicate']} duplicate, "
            f"{counts['rejected']} rejected",
            file=sys.stderr,
        )
        # Non-zero when a line needs attention, so a scheduled upload can alert.
        return 1 if counts["rejected"] else 0

    return run(settings, work)


def register(sub: Any) -> None:
    receipts = sub.add_parser("receipts", help="receipts").add_subparsers(
        dest="receipts_command", required=True, metavar="COMMAND"
    )
    imp = receipts.add_parser(
        "import",
        help="offline batch: JSON lines, per-line report",
        description="Import a till's offline receipts: a UTF-8 file with one submitReceipt "
        f"input (JSON) per line, at most {MAX_BATCH_LINES}. Prints one JSON report per "
        "line; exits 1 if any line was rejected.",
    )
    imp.add_argument("file", help="the JSON-lines file (UTF-8, a byte-order mark is fine)")
    imp.add_argument(
        "--store", required=True, metavar="CODE", help="store code (see `happy store list`)"
    )
    imp.set_defaults(handler=cmd_receipts_import)
