"""The HTTP side of each GraphQL door: strawberry's ASGI view with that door's context.

Every refusal of the HTTP layer is a GraphQL-over-HTTP error body
(``{"errors": [{"message", "extensions": {"code": "BAD_REQUEST"}}]}``, JSON), never
strawberry's plain text: a body that is not JSON or not an object, a batch, an unsupported
content type, a GET parameter nesting deeper than ``HAPPY_MAX_JSON_DEPTH`` (Python's JSON
parser would recurse until a RecursionError) and an ``operationName`` that is not clean
text (a lone surrogate could not be encoded in the answer that echoes it).
"""

from __future__ import annotations

import json
from typing import Any, Generic, TypeVar

import strawberry
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http.types import QueryParams

from app.db import Database
from app.log import current_request_id
from app.request_guard import json_depth
from app.runtime import Runtime
from app.text import is_clean_text
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response: Response = await self.run(Request(scope=scope, receive=receive))
        except HTTPException as refused:
            response = bad_request(refused.status_code, refused.reason)
        await response(scope, receive, send)

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list):  # a list is a batch: refused as such
            raise HTTPException(400, "The request body must be a JSON object.")
        if isinstance(parsed, dict):
            _check_operation_name(parsed.get("operationName"))
        return parsed

    def parse_query_params(self, params: QueryParams) -> dict[str, Any]:
        limit = self.runtime.settings.max_json_depth
        for name in ("variables", "extensions"):
            value = params.get(name)
            if isinstance(value, str) and json_depth(value.encode("utf-8", "replace")) > limit:
                raise HTTPException(
                    400, f"The '{name}' parameter nests deeper than {limit} levels."
                )
        parsed = super().parse_query_params(params)
        _check_operation_name(parsed.get("operationName"))
        return parsed

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> ContextT:
        assert isinstance(request, Request)
        kwargs: dict[str, Any] = RequestContext.base_kwargs(
            request, response if isinstance(response, Response) else None, self.db, self.runtime
        )
        return self.context_class(**kwargs)


def _check_operation_name(name: object) -> None:
    if name is None:
        return
    if not isinstance(name, str) or not is_clean_text(name):
        raise HTTPException(400, "The operationName must be a name (clean text).")


def bad_request(status: int, message: str) -> Response:
    """A GraphQL-over-HTTP error body for a refusal of the HTTP layer."""
    code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(status, "BAD_REQUEST")
    extensions: dict[str, Any] = {"code": code}
    request_id = current_request_id()
    if request_id:
        extensions["requestId"] = request_id
    body = json.dumps({"errors": [{"message": message, "extensions": extensions}]})
    return Response(body, status_code=status, media_type="application/json")


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
