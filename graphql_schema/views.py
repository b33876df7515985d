"""The HTTP side of each GraphQL door: strawberry's ASGI view with that door's context."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import strawberry
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from app.db import Database
from app.runtime import Runtime
from graphql_schema.context import MemberContext, RequestContext
from graphql_schema.partner.context import PartnerContext

ContextT = TypeVar("ContextT", bound=RequestContext)


class DoorGraphQL(GraphQL[ContextT, None], Generic[ContextT]):
    """One door: its schema, its context class; no subscriptions."""

    def __init__(
        self,
        schema: strawberry.Schema,
        db: Database,
        runtime: Runtime,
        *,
        context_class: type[ContextT],
        graphiql: bool = False,
        allow_get: bool = False,
    ) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=allow_get,
            subscription_protocols=(),
        )
        self.db = db
        self.runtime = runtime
        self.context_class = context_class

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ContextT:
        assert isinstance(request, Request)
        kwargs: dict[str, Any] = RequestContext.base_kwargs(
            request, response if isinstance(response, Response) else None, self.db, self.runtime
        )
        return self.context_class(**kwargs)


def member_door(schema: strawberry.Schema, db: Database, runtime: Runtime) -> DoorGraphQL[Any]:
    """``/graphql``: queries also over GET (graphql-over-http), GraphiQL in development."""
    return DoorGraphQL(
        schema,
        db,
        runtime,
        context_class=MemberContext,
        graphiql=runtime.settings.graphiql,
        allow_get=True,
    )


def partner_door(schema: strawberry.Schema, db: Database, runtime: Runtime) -> DoorGraphQL[Any]:
    """``/partner/graphql``: POST only (keys never travel in URLs), no GraphiQL."""
    return DoorGraphQL(schema, db, runtime, context_class=PartnerContext)
