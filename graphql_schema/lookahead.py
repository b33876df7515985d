"""What a query asks for below the current field: read only what will be shown."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from strawberry.types.nodes import SelectedField, Selection


def asks_for(info: Any, *path: str) -> bool:
    """Whether the query selects ``path`` (GraphQL field names) below the resolved field,
    through fragments and inline fragments too. ``@skip``/``@include`` are not evaluated:
    a field they leave out counts as asked for (reading it anyway is only wasted work)."""
    return any(_asks_for(field.selections, path) for field in info.selected_fields)


def _asks_for(selections: Sequence[Selection], path: Sequence[str]) -> bool:
    for selection in selections:
        if isinstance(selection, SelectedField):
            if selection.name == path[0] and (
                len(path) == 1 or _asks_for(selection.selections, path[1:])
            ):
                return True
        elif _asks_for(selection.selections, path):  # a fragment: same level
            return True
    return False
