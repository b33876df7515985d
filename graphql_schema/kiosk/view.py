"""The HTTP side of the kiosk door."""

from __future__ import annotations

from typing import Any

import strawberry

from app.db import Database
from app.runtime import Runtime
from graphql_schema.kiosk.context import KioskContext
from graphql_schema.views import DoorGraphQL


def kiosk_door(schema: strawberry.Schema, db: Database, runtime: Runtime) -> DoorGraphQL[Any]:
    """``/kiosk/graphql``: POST only (device tokens never travel in URLs), no GraphiQL."""
    return DoorGraphQL(schema, db, runtime, context_class=KioskContext)
