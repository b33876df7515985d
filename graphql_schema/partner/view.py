"""The HTTP side of the partner door (``POST /partner/graphql``)."""

from __future__ import annotations

from typing import Any

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app.db import Database
from app.runtime import Runtime
from graphql_schema.partner.context import PartnerContext


class PartnerGraphQL(GraphQL[PartnerContext, None]):
    def __init__(self, schema: strawberry.Schema, db: Database, runtime: Runtime) -> None:
        super().__init__(
            schema,
            graphql_ide=None,
            allow_queries_via_get=False,
            subscription_protocols=(),
        )
        self.db = db
        self.runtime = runtime

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> PartnerContext:
        assert isinstance(request, Request)
        kwargs: dict[str, Any] = PartnerContext.base_kwargs(
            request, response if isinstance(response, Response) else None, self.db, self.runtime
        )
        return PartnerContext(**kwargs)
