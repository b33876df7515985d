"""The member door: what the Happy app and the microsite call at ``/graphql``."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from app import clock
from app.errors import SessionRejected
from app.members import service as members
from app.members.models import RegistrationChannel
from app.privacy import service as privacy
from app.settings import Settings
from auth import sessions, sign_in
from graphql_schema import web_session
from graphql_schema.context import MemberContext
from graphql_schema.errors import EXCEPTION_HANDLERS
from graphql_schema.extensions import HappySchema, standard_extensions
from graphql_schema.member import cards as member_cards
from graphql_schema.member import directory as member_directory
from graphql_schema.member import offers as member_offers
from graphql_schema.member import push as member_push
from graphql_schema.member import rewards as member_rewards
from graphql_schema.member.types import (
    AccountDeleted,
    ChannelEnum,
    DataExport,
    LoggedOut,
    MarketingChannelEnum,
    MarketingConsentNode,
    Member,
    OtpRequested,
    ProfileInput,
    RefreshSessionResult,
    RequestOtpResult,
    SessionPayload,
    SetMarketingConsentResult,
    UpdateProfileResult,
    VerifyOtpResult,
)

MemberInfo = Info[MemberContext, None]


def _session_payload(signed: sessions.IssuedSession, member: Any, is_new: bool) -> SessionPayload:
    return SessionPayload(
        access_token=signed.access_token,
        access_token_expires_at=signed.access_expires_at,
        refresh_token=signed.refresh_token,
        refresh_token_expires_at=signed.refresh_expires_at,
        is_new_member=is_new,
        member=Member.from_model(member),
    )


@strawberry.type
class Query:
    @strawberry.field(description="The signed-in member.")
    async def me(self, info: MemberInfo) -> Member:
        return Member.from_model(await info.context.caller())

    @strawberry.field(description="Partners, brands and stores: where to earn. No session needed.")
    async def coalition(self, info: MemberInfo) -> member_directory.Coalition:
        return await member_directory.resolve_coalition(info.context)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Send a 6-digit sign-in code by SMS.")
    async def request_otp(self, info: MemberInfo, phone: str) -> RequestOtpResult:
        ctx = info.context
        async with ctx.db.unit_of_work() as session:
            sent = await sign_in.request_code(
                session,
                ctx.runtime,
                phone=phone,
                client_address=ctx.client_address,
                language=ctx.language,
                now=clock.now(),
            )
        return OtpRequested(
            phone=sent.phone,
            expires_at=sent.expires_at,
            resend_after_seconds=sent.resend_after_seconds,
        )

    @strawberry.mutation(description="Check the code: signs in, registering on first use.")
    async def verify_otp(
        self,
        info: MemberInfo,
        phone: str,
        code: str,
        channel: ChannelEnum = RegistrationChannel.APP,  # type: ignore[valid-type]
    ) -> VerifyOtpResult:
        ctx = info.context
        async with ctx.db.unit_of_work() as session:
            signed = await sign_in.sign_in_with_code(
                session,
                ctx.runtime,
                phone=phone,
                code=code,
                channel=RegistrationChannel(channel),
                client_address=ctx.client_address,
                language=ctx.language,
                now=clock.now(),
            )
        payload = _session_payload(signed.session, signed.member, signed.is_new_member)
        return _deliver_to_web_client(ctx, payload)

    @strawberry.mutation(
        description="Exchange a refresh token for new tokens (rotation). Web clients "
        "(header X-Happy-Client: web) omit it: their HttpOnly cookie is used."
    )
    async def refresh_session(
        self, info: MemberInfo, refresh_token: str | None = None
    ) -> RefreshSessionResult:
        ctx = info.context
        # Web clients (X-Happy-Client: web) may leave the token to their HttpOnly cookie.
        refresh_token = refresh_token or web_session.refresh_token_from_cookie(ctx.request)
        try:
            if refresh_token is None:
                raise SessionRejected()
            async with ctx.db.unit_of_work() as session:
                signed = await sessions.rotate(
                    session,
                    ctx.runtime.keys,
                    ctx.runtime.settings,
                    refresh_token=refresh_token,
                    now=clock.now(),
                )
                member = await members.get_member(session, signed.member_id)
        except SessionRejected:
            if ctx.response is not None and web_session.is_web_client(ctx.request):
                web_session.clear_refresh_cookie(ctx.response, ctx.runtime.settings)
            raise
        return _deliver_to_web_client(ctx, _session_payload(signed, member, False))

    @strawberry.mutation(description="End this session, or every session with everywhere.")
    async def logout(self, info: MemberInfo, everywhere: bool = False) -> LoggedOut:
        ctx = info.context
        if ctx.response is not None and web_session.is_web_client(ctx.request):
            web_session.clear_refresh_cookie(ctx.response, ctx.runtime.settings)
        member = await ctx.caller()
        session_id = None if everywhere else await ctx.caller_session_id()
        async with ctx.db.unit_of_work() as session:
            ended = await sessions.revoke_sessions(
                session,
                member_id=member.id,
                session_id=session_id,
                now=clock.now(),
                reason="logout",
            )
        return LoggedOut(sessions_ended=ended)

    @strawberry.mutation(description="Change profile fields; omitted fields stay as they are.")
    async def update_profile(self, info: MemberInfo, input: ProfileInput) -> UpdateProfileResult:
        ctx = info.context
        caller = await ctx.caller()
        changes = {
            name: value for name, value in vars(input).items() if value is not strawberry.UNSET
        }
        async with ctx.db.unit_of_work() as session:
            member = await members.update_profile(
                session, member_id=caller.id, changes=changes, now=clock.now()
            )
        return Member.from_model(member)

    @strawberry.mutation(description="Give or withdraw marketing consent for one channel.")
    async def set_marketing_consent(
        self,
        info: MemberInfo,
        channel: MarketingChannelEnum,  # type: ignore[valid-type]
        granted: bool,
    ) -> SetMarketingConsentResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as session:
            consent = await members.set_marketing_consent(
                session, member_id=caller.id, channel=channel, granted=granted, now=clock.now()
            )
        return MarketingConsentNode.from_model(consent)

    @strawberry.mutation(description="All personal data and the points ledger, as JSON.")
    async def export_my_data(self, info: MemberInfo) -> DataExport:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.read_session() as session:
            data = await privacy.export_data(session, member_id=caller.id, now=clock.now())
        return DataExport(data=data)  # type: ignore[arg-type]  # strawberry's JSON scalar

    @strawberry.mutation(description="Delete the account: personal data erased, points forfeited.")
    async def delete_account(self, info: MemberInfo) -> AccountDeleted:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as session:
            await members.delete_account(session, member_id=caller.id, now=now)
        if ctx.response is not None and web_session.is_web_client(ctx.request):
            web_session.clear_refresh_cookie(ctx.response, ctx.runtime.settings)
        return AccountDeleted(deleted_at=now)

    @strawberry.mutation(description="Spend points on a reward level: its vouchers are issued.")
    async def claim_reward(
        self,
        info: MemberInfo,
        level: int,
        request_id: member_rewards.RequestIdArgument = None,
    ) -> member_rewards.ClaimRewardResult:
        return await member_rewards.claim_reward(info.context, level, request_id)

    @strawberry.mutation(
        description="Link a pre-issued plastic card (number as printed, spaces allowed): "
        "it then earns and identifies the member like the digital card."
    )
    async def link_card(self, info: MemberInfo, number: str) -> member_cards.LinkCardResult:
        return await member_cards.link_card(info.context, number)

    @strawberry.mutation(description="Activate an offer that needs it (see `me.offers`).")
    async def activate_offer(
        self, info: MemberInfo, offer_id: strawberry.ID
    ) -> member_offers.ActivateOfferResult:
        return await member_offers.activate_offer(info.context, offer_id)

    @strawberry.mutation(description="Receive push messages on this device (FCM or APNs token).")
    async def register_push_device(
        self, info: MemberInfo, platform: member_push.PushPlatformEnum, token: str
    ) -> member_push.RegisterPushDeviceResult:
        return await member_push.register_push_device(info.context, platform, token)

    @strawberry.mutation(description="Stop push messages on this device.")
    async def unregister_push_device(
        self, info: MemberInfo, token: str
    ) -> member_push.PushDeviceUnregistered:
        return await member_push.unregister_push_device(info.context, token)


def _deliver_to_web_client(ctx: MemberContext, payload: SessionPayload) -> SessionPayload:
    """For the microsite, move the refresh token from the body into its HttpOnly cookie."""
    if ctx.response is None or not web_session.is_web_client(ctx.request):
        return payload
    assert payload.refresh_token is not None
    web_session.set_refresh_cookie(
        ctx.response,
        ctx.runtime.settings,
        payload.refresh_token,
        payload.refresh_token_expires_at,
        clock.now(),
    )
    payload.refresh_token = None
    return payload


def build_member_schema(settings: Settings) -> strawberry.Schema:
    return HappySchema(
        query=Query,
        mutation=Mutation,
        extensions=standard_extensions(settings),
        exception_handlers=EXCEPTION_HANDLERS,
    )
