"""The committed SDL is the public contract: code and snapshot must agree."""

from __future__ import annotations

import pytest

from app.settings import Settings
from graphql_schema import sdl


@pytest.mark.parametrize("name", sorted(sdl.SCHEMAS))
def test_schema_matches_committed_snapshot(name: str, settings: Settings) -> None:
    path = sdl.snapshot_path(name)
    assert path.exists(), f"{path} is missing: run `make schema`"
    assert path.read_text(encoding="utf-8") == sdl.render(name, settings), (
        f"the {name} schema drifted from {path.name}: run `make schema` and review the diff"
    )


def test_drift_is_detected(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdl, "render", lambda name, s: "type Query { changed: Int }\n")
    assert sdl.drifted(settings) == sorted(sdl.SCHEMAS)
