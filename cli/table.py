"""Plain tables for listings: a header line, then tab-separated rows (easy to cut/awk)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def print_table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    print("\t".join(header))
    for row in rows:
        print("\t".join("" if cell is None else str(cell) for cell in row))
