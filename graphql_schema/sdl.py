"""Committed SDL snapshots: one ``<door>.graphql`` file per schema, next to this module.

``happy schema export`` rewrites them; a test fails when the code drifts from them, so a
change of the public API is always a visible change in review.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import strawberry

from app.settings import Settings
from graphql_schema.kiosk.schema import build_kiosk_schema
from graphql_schema.member.schema import build_member_schema
from graphql_schema.partner.schema import build_partner_schema

SNAPSHOT_DIR = Path(__file__).parent

SCHEMAS: dict[str, Callable[[Settings], strawberry.Schema]] = {
    "kiosk": build_kiosk_schema,
    "member": build_member_schema,
    "partner": build_partner_schema,
}


def snapshot_path(name: str) -> Path:
    return SNAPSHOT_DIR / f"{name}.graphql"


def render(name: str, settings: Settings) -> str:
    return SCHEMAS[name](settings).as_str().rstrip("\n") + "\n"


def export(settings: Settings) -> list[Path]:
    """Write every snapshot; returns the files written."""
    written = []
    for name in SCHEMAS:
        path = snapshot_path(name)
        path.write_text(render(name, settings), encoding="utf-8")
        written.append(path)
    return written


def drifted(settings: Settings) -> list[str]:
    """Names of the schemas whose code differs from the committed snapshot."""
    return [
        name
        for name in SCHEMAS
        if not snapshot_path(name).exists()
        or snapshot_path(name).read_text(encoding="utf-8") != render(name, settings)
    ]
