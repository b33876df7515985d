"""The kiosk door: what an in-store tablet calls at ``/kiosk/graphql`` with its device token.

Each mutation checks the kiosk (device token), opens one unit of work, checks the visit
session where there is one (bound to this kiosk), makes one core call and maps the answer.
"""

from __future__ import annotations

from datetime import timedelta

import strawberry
from strawberry.types import Info

from app import clock
from app.kiosks import service as kiosks
from app.prizes import service as prizes
from app.prizes.models import SegmentKind
from app.settings import Settings
from auth import kiosk_codes, kiosk_devices
from graphql_schema.errors import EXCEPTION_HANDLERS
from graphql_schema.extensions import HappySchema, standard_extensions
from graphql_schema.kiosk.context import KioskContext, set_device_cookie
from graphql_schema.kiosk.types import (
    CancelPrizeExchangeResult,
    CheckedIn,
    CheckInResult,
    ConfirmPrizeExchangeResult,
    EnrolKioskResult,
    HandOverPrizeResult,
    IdentifyByCardResult,
    IdentifyByPhoneResult,
    KioskClaimRewardResult,
    KioskCodeSent,
    KioskEnrolled,
    KioskInfo,
    KioskPrize,
    KioskRewardClaimed,
    KioskWheelSegment,
    PrizeExchangeConfirmed,
    PrizeExchangeRequested,
    RequestKioskCodeResult,
    RequestPrizeExchangeResult,
    SpinResult,
    SpinWheelResult,
    Visit,
    VisitClosed,
    WheelSegmentKind,
)
from graphql_schema.prize_types import PRIZE_HANDLERS, PrizeExchangeCancelled, PrizeHandedOver
from graphql_schema.web_session import is_web_client

KioskInfoT = Info[KioskContext, None]


async def _kiosk_info(ctx: KioskContext, kiosk_id: int) -> KioskInfo:
    async with ctx.db.read_session() as session:
        details = await kiosks.kiosk_details(session, kiosk_id)
    return KioskInfo(
        kiosk_id=details.kiosk_id,
        label=details.label,
        store_name=details.store_name,
        store_code=details.store_code,
    )


@strawberry.type
class Query:
    @strawberry.field(description="This kiosk and its store.")
    async def kiosk(self, info: KioskInfoT) -> KioskInfo:
        return await _kiosk_info(info.context, (await info.context.caller()).kiosk_id)

    @strawberry.field(description="This store's prize catalogue, priced in points.")
    async def prizes(self, info: KioskInfoT) -> list[KioskPrize]:
        caller = await info.context.caller()
        async with info.context.db.read_session() as session:
            rows = await prizes.list_catalogue(session, caller.store.store_id)
        return [KioskPrize.from_model(p) for p in rows]

    @strawberry.field(description="This store's wheel, segments in wheel order.")
    async def wheel(self, info: KioskInfoT) -> list[KioskWheelSegment]:
        caller = await info.context.caller()
        async with info.context.db.read_session() as session:
            rows = await prizes.wheel_of(session, caller.store.store_id)
        return [KioskWheelSegment.from_model(s) for s in rows]


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Turn this tablet into a kiosk with the one-time code from "
        "`happy kiosk create`. Needs no token."
    )
    async def enrol_kiosk(self, info: KioskInfoT, code: str, device_name: str) -> EnrolKioskResult:
        ctx = info.context
        async with ctx.db.unit_of_work() as session:
            enrolled = await kiosk_devices.enrol(
                session,
                ctx.runtime,
                code=code,
                device_name=device_name,
                client_address=ctx.client_address,
                now=clock.now(),
            )
        kiosk = await _kiosk_info(ctx, enrolled.kiosk_id)
        token: str | None = enrolled.device_token
        if ctx.response is not None and is_web_client(ctx.request):
            set_device_cookie(ctx.response, ctx.runtime.settings, enrolled.device_token)
            token = None
        return KioskEnrolled(device_token=token, kiosk=kiosk)

    @strawberry.mutation(
        description="Identify a member by the scanned card: its number or the rotating "
        "token of the app's card."
    )
    async def identify_by_card(self, info: KioskInfoT, scan: str) -> IdentifyByCardResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as session:
            started = await kiosks.identify_by_card(session, ctx.runtime, caller, scan, clock.now())
        return Visit.from_started(started)

    @strawberry.mutation(description="Send an identification code by SMS to this number.")
    async def request_kiosk_code(self, info: KioskInfoT, phone: str) -> RequestKioskCodeResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as session:
            sent = await kiosk_codes.request_visit_code(
                session,
                ctx.runtime,
                caller,
                phone=phone,
                client_address=ctx.client_address,
                language=ctx.language,
                now=clock.now(),
            )
        return KioskCodeSent(
            expires_at=sent.expires_at, resend_after_seconds=sent.resend_after_seconds
        )

    @strawberry.mutation(
        description="Identify by phone and SMS code; a number that is not a member yet "
        "is registered (channel KIOSK, welcome bonus once per number, ever)."
    )
    async def identify_by_phone(
        self, info: KioskInfoT, phone: str, code: str
    ) -> IdentifyByPhoneResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as session:
            started = await kiosk_codes.identify_by_phone(
                session,
                ctx.runtime,
                caller,
                phone=phone,
                code=code,
                client_address=ctx.client_address,
                language=ctx.language,
                now=clock.now(),
            )
        return Visit.from_started(started)

    @strawberry.mutation(
        description="The store's check-in bonus: once per member per store per day."
    )
    async def check_in(self, info: KioskInfoT, session: str) -> CheckInResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as db_session:
            visit = await kiosks.open_visit(db_session, ctx.runtime, caller, session, now)
            done = await kiosks.check_in(db_session, caller, visit, now)
        return CheckedIn(points_awarded=done.points, balance=done.balance)

    @strawberry.mutation(
        description="Spin the wheel: uses one of today's plays; the server draws the "
        "outcome. A goods prize comes with a pickup code."
    )
    async def spin(self, info: KioskInfoT, session: str) -> SpinWheelResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as db_session:
            visit = await kiosks.open_visit(db_session, ctx.runtime, caller, session, now)
            outcome = await kiosks.spin(db_session, caller, visit, now)
        draw = outcome.draw
        return SpinResult(
            draw_id=draw.public_id,
            segment_id=outcome.segment.public_id if outcome.segment is not None else None,
            kind=WheelSegmentKind(SegmentKind(draw.kind)),
            label=draw.label,
            points_won=draw.points,
            pickup_code=outcome.pickup_code,
            balance=outcome.balance,
            plays_left=outcome.plays_left,
        )

    @strawberry.mutation(
        description="Start exchanging points for a prize: the member gets an SMS code."
    )
    async def request_prize_exchange(
        self, info: KioskInfoT, session: str, prize_id: str
    ) -> RequestPrizeExchangeResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as db_session:
            sent = await kiosk_codes.request_exchange(
                db_session,
                ctx.runtime,
                caller,
                visit_token=session,
                prize_id=prize_id,
                now=clock.now(),
            )
        return PrizeExchangeRequested(
            exchange_id=sent.exchange_id,
            prize_name=sent.prize_name,
            points_price=sent.points,
            expires_at=sent.expires_at,
            resend_after_seconds=sent.resend_after_seconds,
        )

    @strawberry.mutation(
        description="Confirm the exchange with the member's SMS code: points and stock are "
        "taken once; a retry with the same code returns the same pickup code."
    )
    async def confirm_prize_exchange(
        self, info: KioskInfoT, session: str, exchange_id: str, code: str
    ) -> ConfirmPrizeExchangeResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as db_session:
            done = await kiosk_codes.confirm_exchange(
                db_session,
                ctx.runtime,
                caller,
                visit_token=session,
                exchange_id=exchange_id,
                code=code,
                client_address=ctx.client_address,
                now=clock.now(),
            )
        return PrizeExchangeConfirmed(
            exchange_id=done.exchange.public_id,
            prize_name=done.exchange.prize_name,
            points_spent=done.exchange.points,
            pickup_code=done.pickup_code,
            balance=done.balance,
        )

    @strawberry.mutation(
        description="Claim a reward level; the vouchers go to the member's app (their codes "
        "are never shown on the kiosk)."
    )
    async def claim_reward(
        self, info: KioskInfoT, session: str, level: int, request_id: str | None = None
    ) -> KioskClaimRewardResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as db_session:
            visit = await kiosks.open_visit(db_session, ctx.runtime, caller, session, now)
            claim = await kiosks.claim_reward(db_session, visit, level, request_id, now)
        return KioskRewardClaimed(
            level=claim.level.level,
            points_spent=claim.claim.points,
            voucher_count=len(claim.vouchers),
            balance=claim.balance,
        )

    @strawberry.mutation(description="End the visit (the tablet goes back to its start).")
    async def end_visit(self, info: KioskInfoT, session: str) -> VisitClosed:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as db_session:
            await kiosks.end_visit(db_session, ctx.runtime, caller, session, clock.now())
        return VisitClosed(ended=True)

    @strawberry.mutation(
        description="Staff: hand a prize over by its pickup code, with the store's staff PIN."
    )
    async def hand_over_prize(
        self, info: KioskInfoT, pickup_code: str, staff_pin: str
    ) -> HandOverPrizeResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as db_session:
            await kiosks.check_staff_pin(db_session, ctx.runtime, caller, staff_pin, now)
            exchange = await prizes.hand_over(db_session, caller.store, pickup_code, now)
        assert exchange.pickup_code is not None and exchange.handed_over_at is not None
        return PrizeHandedOver(
            pickup_code=exchange.pickup_code,
            prize_name=exchange.prize_name,
            handed_over_at=exchange.handed_over_at,
        )

    @strawberry.mutation(
        description="Staff: cancel a prize not yet handed over (within the cancel window), "
        "with the store's staff PIN: points and stock are restored."
    )
    async def cancel_prize_exchange(
        self, info: KioskInfoT, pickup_code: str, staff_pin: str
    ) -> CancelPrizeExchangeResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        window = timedelta(hours=ctx.runtime.settings.prize_exchange_cancel_hours)
        async with ctx.db.unit_of_work() as db_session:
            await kiosks.check_staff_pin(db_session, ctx.runtime, caller, staff_pin, now)
            done = await prizes.cancel_exchange(
                db_session, caller.store, pickup_code, window=window, now=now
            )
        assert done.exchange.pickup_code is not None
        return PrizeExchangeCancelled(
            pickup_code=done.exchange.pickup_code,
            prize_name=done.exchange.prize_name,
            points_restored=done.points_restored,
        )


def build_kiosk_schema(settings: Settings) -> strawberry.Schema:
    return HappySchema(
        query=Query,
        mutation=Mutation,
        extensions=standard_extensions(settings),
        exception_handlers=[*EXCEPTION_HANDLERS, *PRIZE_HANDLERS],
    )
