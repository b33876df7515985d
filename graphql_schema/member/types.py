"""Member-door GraphQL types."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from app import clock
from app.errors import InvalidInput
from app.i18n import Language
from app.ledger import expiry
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsEntry
from app.members.models import Gender, MarketingChannel, RegistrationChannel
from app.members.models import MarketingConsent as ConsentModel
from app.members.models import Member as MemberModel
from app.programme.service import get_programme
from app.receipts import history
from app.receipts.history import ReceiptView
from graphql_schema.context import MemberContext
from graphql_schema.errors import CodeError, InputError, RateLimitedError, SessionError
from graphql_schema.lookahead import asks_for
from graphql_schema.member import offers as member_offers
from graphql_schema.member import receipts as member_receipts
from graphql_schema.member import rewards as member_rewards
from graphql_schema.member import wallet as wallet_view
from graphql_schema.pagination import (
    Connection,
    build_connection,
    encode_cursor,
    invalid_argument,
    page_arguments,
    row_id_key,
    to_global_id,
)
from graphql_schema.receipt_types import ReceiptRecord
from graphql_schema.voucher_types import VoucherStatusEnum

ChannelEnum = strawberry.enum(RegistrationChannel, name="Channel")
GenderEnum = strawberry.enum(Gender, name="Gender")
MarketingChannelEnum = strawberry.enum(MarketingChannel, name="MarketingChannel")
EntryKindEnum = strawberry.enum(EntryKind, name="PointsEntryKind")
LanguageEnum = strawberry.enum(Language, name="Language")


@strawberry.type(description="The member's digital card.")
class Card:
    number: str

    @strawberry.field(description="The card QR code (the card number) as SVG text.")
    def qr_svg(self) -> str:
        return wallet_view.card_qr_svg(self.number)

    @strawberry.field(description="A short-lived signed link to the card QR code as PNG.")
    async def qr_png_url(self, info: Info[MemberContext, None]) -> str | None:
        wallet_pass = await info.context.loaders.wallet_pass.load(self.number)
        if wallet_pass is None:
            return None
        return wallet_view.qr_png_url(info.context.runtime, wallet_pass.serial_number)

    @strawberry.field(description="A short-lived signed link to the Apple Wallet pass.")
    async def apple_wallet_url(self, info: Info[MemberContext, None]) -> str | None:
        wallet_pass = await info.context.loaders.wallet_pass.load(self.number)
        if wallet_pass is None:
            return None
        return wallet_view.apple_wallet_url(info.context.runtime, wallet_pass.serial_number)

    @strawberry.field(description="The 'Save to Google Wallet' link.")
    async def google_wallet_save_url(self, info: Info[MemberContext, None]) -> str | None:
        ctx = info.context
        wallet_pass = await ctx.loaders.wallet_pass.load(self.number)
        if wallet_pass is None:
            return None
        return await wallet_view.google_wallet_save_url(
            ctx.runtime, ctx.db, wallet_pass.member_id, self.number
        )

    @strawberry.field(description="A rotating signed token for the in-app QR (kiosks, tills).")
    def dynamic_qr(self, info: Info[MemberContext, None]) -> wallet_view.DynamicQr:
        return wallet_view.dynamic_qr(info.context.runtime, self.number)


@strawberry.type(description="Points that expire within 30 days, and the first such date.")
class ExpiringPoints:
    points: int
    date: date | None


@strawberry.type(description="Points: available to spend, pending, earned in total.")
class Balance:
    available: int
    pending: int
    lifetime: int
    member_db_id: strawberry.Private[int | None] = None

    @strawberry.field(description="Points expiring within 30 days, and the first date.")
    async def expiring_soon(self, info: Info[MemberContext, None]) -> ExpiringPoints:
        if self.member_db_id is None:
            return ExpiringPoints(points=0, date=None)
        member_id = self.member_db_id
        now = clock.now()
        async with info.context.db.read_session() as session:
            programme = await get_programme(session)
            found = await expiry.expiring_soon(session, [member_id], now, programme.timezone)
        return ExpiringPoints(points=found[member_id].points, date=found[member_id].date)


@strawberry.type(description="One movement of points, with the balance after it.")
class PointsEntryNode:
    id: strawberry.ID
    kind: EntryKindEnum  # type: ignore[valid-type]
    points: int
    balance_after: int
    description: str | None
    occurred_at: datetime
    expires_at: datetime | None
    receipt: ReceiptRecord | None = strawberry.field(
        default=None,
        description="The receipt behind this movement (points earned on it, or taken back "
        "after a return, with its partner and store); null for other movements.",
    )

    @classmethod
    def from_model(cls, entry: PointsEntry, receipt: ReceiptView | None = None) -> PointsEntryNode:
        return cls(
            id=to_global_id("PointsEntry", entry.id),
            kind=entry.kind,
            points=entry.delta,
            balance_after=entry.balance_after,
            description=entry.description,
            occurred_at=entry.created_at,
            expires_at=entry.expires_at,
            receipt=ReceiptRecord.from_view(receipt) if receipt is not None else None,
        )


@strawberry.type(name="MarketingConsent")
class MarketingConsentNode:
    channel: MarketingChannelEnum  # type: ignore[valid-type]
    granted: bool
    changed_at: datetime

    @classmethod
    def from_model(cls, consent: ConsentModel) -> MarketingConsentNode:
        return cls(channel=consent.channel, granted=consent.granted, changed_at=consent.changed_at)


@strawberry.type(description="A member of the programme (only ever the caller).")
class Member:
    db_id: strawberry.Private[int]
    id: strawberry.ID
    phone: str
    first_name: str | None
    last_name: str | None
    birth_date: date | None
    gender: GenderEnum | None  # type: ignore[valid-type]
    city: str | None
    email: str | None
    language: LanguageEnum  # type: ignore[valid-type]
    registration_channel: ChannelEnum  # type: ignore[valid-type]
    member_since: datetime

    @classmethod
    def from_model(cls, member: MemberModel) -> Member:
        return cls(
            db_id=member.id,
            id=to_global_id("Member", member.public_id),
            phone=member.phone_e164 or "",
            first_name=member.first_name,
            last_name=member.last_name,
            birth_date=member.birth_date,
            gender=member.gender,
            city=member.city,
            email=member.email,
            language=Language(member.language),
            registration_channel=member.registration_channel,
            member_since=member.created_at,
        )

    @strawberry.field
    async def card(self, info: Info[MemberContext, None]) -> Card | None:
        card = await info.context.loaders.card.load(self.db_id)
        return Card(number=card.number) if card else None

    @strawberry.field
    async def balance(self, info: Info[MemberContext, None]) -> Balance:
        account = await info.context.loaders.account.load(self.db_id)
        if account is None:
            return Balance(available=0, pending=0, lifetime=0)
        return Balance(
            available=account.available,
            pending=account.pending,
            lifetime=account.lifetime,
            member_db_id=self.db_id,
        )

    @strawberry.field
    async def marketing_consents(
        self, info: Info[MemberContext, None]
    ) -> list[MarketingConsentNode]:
        consents = await info.context.loaders.consents.load(self.db_id)
        return [MarketingConsentNode.from_model(c) for c in consents]

    @strawberry.field(description="Every ledger entry, newest first.")
    async def activity(
        self, info: Info[MemberContext, None], first: int = 20, after: str | None = None
    ) -> Connection[PointsEntryNode]:
        try:
            size, before_id = page_arguments(first, after, lambda keys: row_id_key(keys[0]))
        except InvalidInput as exc:
            raise invalid_argument(exc, info.context.language) from exc
        # No transaction: entries are append-only and name receipts written before them,
        # so the second statement's later snapshot still finds every receipt of the page.
        async with info.context.db.single_read() as session:
            rows = await ledger.list_entries(
                session, self.db_id, before_id=before_id, limit=size + 1
            )
            # Earnings and returns name their receipt (partner, store, lines): one or two
            # statements a page, and none when the query does not ask for receipts.
            wanted = (
                history.receipt_ids_of_entries(rows[:size])
                if asks_for(info, "edges", "node", "receipt")
                else {}
            )
            found = (
                await history.member_receipts(
                    await session.connection(),
                    self.db_id,
                    wanted,
                    with_lines=asks_for(info, "edges", "node", "receipt", "lines"),
                )
                if wanted
                else {}
            )
        receipts = {e: found[r] for r, entries in wanted.items() if r in found for e in entries}
        return build_connection(
            rows,
            size,
            lambda e: encode_cursor(e.id),
            lambda e: PointsEntryNode.from_model(e, receipts.get(e.id)),
        )

    @strawberry.field(description="Receipts from partner tills, newest first.")
    async def receipts(
        self,
        info: Info[MemberContext, None],
        first: int = 20,
        after: str | None = None,
        partner_id: strawberry.ID | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> Connection[ReceiptRecord]:
        return await member_receipts.resolve_receipts(
            info,
            self.db_id,
            first=first,
            after=after,
            partner_id=partner_id,
            issued_from=from_,
            issued_to=to,
        )

    @strawberry.field(description="One of the member's receipts (null if not theirs).")
    async def receipt(
        self, info: Info[MemberContext, None], id: strawberry.ID
    ) -> ReceiptRecord | None:
        return await member_receipts.resolve_receipt(info, self.db_id, id)

    @strawberry.field(description="Reward levels and how far the member is from each.")
    async def reward_levels(
        self, info: Info[MemberContext, None]
    ) -> list[member_rewards.RewardLevelNode]:
        return await member_rewards.resolve_reward_levels(info.context, self.db_id)

    @strawberry.field(description="The member's tier (Happy, Happy+); null without tiers.")
    async def tier(self, info: Info[MemberContext, None]) -> member_offers.TierNode | None:
        return await member_offers.resolve_tier(info.context, self.db_id)

    @strawberry.field(description="Offers meant for the member now, soonest to end first.")
    async def offers(
        self, info: Info[MemberContext, None], first: int = 20, after: str | None = None
    ) -> Connection[member_offers.OfferNode]:
        return await member_offers.resolve_offers(
            info.context, self.db_id, first=first, after=after
        )

    @strawberry.field(description="The member's vouchers, soonest to expire first.")
    async def vouchers(
        self,
        info: Info[MemberContext, None],
        first: int = 20,
        after: str | None = None,
        status: VoucherStatusEnum | None = None,  # type: ignore[valid-type]
    ) -> Connection[member_rewards.VoucherNode]:
        return await member_rewards.resolve_vouchers(
            info.context, self.db_id, first=first, after=after, status=status
        )


@strawberry.type
class OtpRequested:
    phone: str
    expires_at: datetime
    resend_after_seconds: int


@strawberry.type(name="Session")
class SessionPayload:
    access_token: str
    access_token_expires_at: datetime
    refresh_token: str | None  # null for web clients: it is in their HttpOnly cookie
    refresh_token_expires_at: datetime
    is_new_member: bool
    member: Member


@strawberry.type
class LoggedOut:
    sessions_ended: int


@strawberry.type
class AccountDeleted:
    deleted_at: datetime


@strawberry.type
class DataExport:
    data: strawberry.scalars.JSON  # type: ignore[valid-type]


@strawberry.input
class ProfileInput:
    first_name: str | None = strawberry.UNSET
    last_name: str | None = strawberry.UNSET
    birth_date: date | None = strawberry.UNSET
    gender: GenderEnum | None = strawberry.UNSET  # type: ignore[valid-type]
    city: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    language: LanguageEnum | None = strawberry.UNSET  # type: ignore[valid-type]


RequestOtpResult = Annotated[
    OtpRequested | InputError | RateLimitedError, strawberry.union("RequestOtpResult")
]
VerifyOtpResult = Annotated[
    SessionPayload | InputError | CodeError | RateLimitedError,
    strawberry.union("VerifyOtpResult"),
]
RefreshSessionResult = Annotated[
    SessionPayload | SessionError, strawberry.union("RefreshSessionResult")
]
UpdateProfileResult = Annotated[Member | InputError, strawberry.union("UpdateProfileResult")]
SetMarketingConsentResult = Annotated[
    MarketingConsentNode | InputError, strawberry.union("SetMarketingConsentResult")
]
