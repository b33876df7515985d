"""The assembly: the one place that knows everything.

It wires the event subscribers onto the database (:func:`assemble`: every process that
writes, the server and the CLI, goes through it) and mounts every door, the static pages
and the health checks (:func:`create_app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from app.client_address import ClientAddressMiddleware
from app.db import Database, create_database, drain_after_commit, log_loop_exception
from app.events import (
    BalanceChanged,
    MemberDeleted,
    MemberRegistered,
    ReceiptAccepted,
    TierChanged,
    VoucherIssued,
)
from app.events.delivery import Delivery
from app.log import configure_logging
from app.messages import service as messages
from app.messages.lifecycle import LifecycleMessages, build_dispatcher
from app.middleware import RequestIdMiddleware, ServiceUnavailableMiddleware
from app.request_guard import RequestGuardMiddleware
from app.runtime import Runtime, build_runtime
from app.security_headers import SecurityHeadersMiddleware
from app.settings import Settings, get_settings, load_settings
from app.tiers import service as tiers
from app.wallet import delivery as wallet_delivery
from app.wallet.delivery import WalletDelivery
from app.wallet.runtime import WalletRuntime
from auth import sessions
from graphql_schema.kiosk.schema import build_kiosk_schema
from graphql_schema.kiosk.view import kiosk_door
from graphql_schema.member.schema import build_member_schema
from graphql_schema.partner.gate import PartnerKeyGate, key_is_valid
from graphql_schema.partner.schema import build_partner_schema
from graphql_schema.views import member_door, partner_door
from web.health import health_routes
from web.kiosk import kiosk_routes
from web.messages import message_routes
from web.microsite import microsite_routes
from web.ussd import ussd_routes
from web.wallet import wallet_routes

log = logging.getLogger(__name__)


def assemble(
    db: Database, settings: Settings, runtime: Runtime, *, in_background: bool | None = None
) -> Delivery:
    """Register every event subscriber on ``db``'s bus and return the outbox delivery.

    A subscriber is a handler plus one line here: ``in_transaction`` for what must
    commit with the change, ``after_commit`` for delivery through the outbox.
    """
    bus = db.events
    bus.clear()
    wallet_delivery.subscribe(bus, WalletDelivery(db, settings, runtime.wallet))
    bus.in_transaction(MemberDeleted, sessions.end_sessions_of_deleted_member)
    bus.in_transaction(BalanceChanged, tiers.remember_lifetime)  # for the check below
    bus.in_transaction(ReceiptAccepted, tiers.on_receipt_accepted)  # up on the crossing receipt
    # Member messages (app/messages, docs/messages.md)
    lifecycle = LifecycleMessages(db, build_dispatcher(db, settings, runtime.keys))
    bus.after_commit(MemberRegistered, "messages.welcome", lifecycle.welcome)
    bus.after_commit(ReceiptAccepted, "messages.points_earned", lifecycle.points_earned)
    bus.after_commit(VoucherIssued, "messages.vouchers_ready", lifecycle.vouchers_ready)
    bus.after_commit(TierChanged, "messages.tier_up", lifecycle.tier_up)
    bus.in_transaction(MemberDeleted, messages.erase_for_deleted_member)
    if in_background is None:
        # After the answer, in a background task (the rows are committed: a failure or a
        # restart leaves them to the poller); inline only when asked (tests) and only to
        # recording backends, never to real servers.
        in_background = not settings.outbox_deliver_inline or (
            settings.apns_backend == "http2" or settings.google_wallet_backend == "rest"
        )
    delivery = Delivery(db, bus, in_background=in_background)
    bus.deliver = delivery.kick
    return delivery


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
    delivery = assemble(database, settings, runtime)
    member_view = member_door(build_member_schema(settings), database, runtime)
    partner_view = partner_door(build_partner_schema(settings), database, runtime)
    kiosk_view = kiosk_door(build_kiosk_schema(settings), database, runtime)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(log_loop_exception)
        poller = None
        if settings.outbox_poll_seconds > 0:
            poller = asyncio.create_task(delivery.poll(settings.outbox_poll_seconds))
        yield
        # Shutdown (SIGTERM): uvicorn stopped accepting and let in-flight requests finish
        # (``happy serve``: HAPPY_SHUTDOWN_TIMEOUT_SECONDS); then the work owed to commits.
        await drain_after_commit(settings.shutdown_timeout_seconds)
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        await delivery.aclose()
        await runtime.wallet.aclose()
        if db is None:
            await database.dispose()
        loop.set_exception_handler(previous_handler)

    app = Starlette(
        routes=[
            *health_routes(database),
            Route("/graphql", member_view, methods=["GET", "POST"]),
            Route(
                "/partner/graphql",
                PartnerKeyGate(partner_view, database, runtime),
                methods=["POST"],
            ),
            *wallet_routes(database, runtime),
            *microsite_routes(),
            *ussd_routes(database, runtime),
            Route("/kiosk/graphql", kiosk_view, methods=["POST"]),
            *kiosk_routes(),
            *message_routes(database, runtime),
        ],
        lifespan=lifespan,
    )
    app.add_middleware(  # inside the request id
        RequestGuardMiddleware,
        settings=settings,
        large_body_allowed=functools.partial(key_is_valid, db=database, runtime=runtime),
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
    app.state.delivery = delivery
    app.state.settings = settings
    return app


def asgi_app() -> Starlette:
    """Entry point for ``uvicorn --factory app.main:asgi_app``."""
    # Production checks run once, in create_app, so every problem is named in one message.
    settings = load_settings(check_production=False)
    configure_logging(settings.log_level)
    return create_app(settings)
