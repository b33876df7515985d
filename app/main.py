"""The Starlette application: mounts every door, static pages and health checks."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from app.client_address import ClientAddressMiddleware
from app.db import Database, create_database
from app.log import configure_logging
from app.middleware import RequestIdMiddleware, ServiceUnavailableMiddleware
from app.runtime import Runtime, build_runtime
from app.security_headers import SecurityHeadersMiddleware
from app.settings import Settings, get_settings, load_settings
from app.wallet.routes import wallet_routes
from app.wallet.runtime import WalletRuntime
from app.web import microsite_routes
from graphql_schema.member.schema import build_member_schema
from graphql_schema.partner.schema import build_partner_schema
from graphql_schema.views import member_door, partner_door

log = logging.getLogger(__name__)


def preflight(settings: Settings) -> None:
    """Refuse to start on an unusable configuration, naming every problem in one message
    (in production also what the wallet files turn out to be: development or placeholder)."""
    found = WalletRuntime(settings).production_problems() if settings.is_production else []
    settings.validate(extra_problems=found)


def create_app(settings: Settings | None = None, db: Database | None = None) -> Starlette:
    """Build the application. Tests pass their own settings and database."""
    settings = settings or get_settings()
    preflight(settings)
    database = db or create_database(settings)
    runtime: Runtime = build_runtime(settings)
    member_view = member_door(build_member_schema(settings), database, runtime)
    partner_view = partner_door(build_partner_schema(settings), database, runtime)

    async def healthz(_request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> JSONResponse:
        try:
            async with database.read_session() as session:
                await session.execute(text("SELECT 1"))
        except Exception:
            log.exception("readiness check failed")
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "up"})

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await runtime.wallet.aclose()
        if db is None:
            await database.dispose()

    app = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            Route("/graphql", member_view, methods=["GET", "POST"]),
            Route("/partner/graphql", partner_view, methods=["POST"]),
            *wallet_routes(database, runtime),
            *microsite_routes(),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(
        ServiceUnavailableMiddleware, settings.service_unavailable_retry_after_seconds
    )
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(ClientAddressMiddleware, settings.trusted_proxy_networks())
    app.add_middleware(
        SecurityHeadersMiddleware,
        graphiql=settings.graphiql,
        https_only=settings.is_production,
    )
    app.state.db = database
    app.state.runtime = runtime
    app.state.settings = settings
    return app


def asgi_app() -> Starlette:
    """Entry point for ``uvicorn --factory app.main:asgi_app``."""
    # Production checks run once, in create_app, so every problem is named in one message.
    settings = load_settings(check_production=False)
    configure_logging(settings.log_level)
    return create_app(settings)
