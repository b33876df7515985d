"""The partner door: what a POS or ERP calls at ``/partner/graphql`` with its store's key."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info

from app import clock
from app.errors import InvalidInput, NotFound
from app.fraud import service as fraud
from app.prizes import service as prizes
from app.receipts import service as receipts
from app.rewards import service as rewards
from app.settings import Settings
from app.settlement import service as settlement
from app.tills import service as tills
from auth import redemption_codes
from graphql_schema.errors import EXCEPTION_HANDLERS, RateLimitedError
from graphql_schema.extensions import HappySchema, standard_extensions
from graphql_schema.fraud_types import FRAUD_HANDLERS
from graphql_schema.pagination import Connection
from graphql_schema.partner import cards as partner_cards
from graphql_schema.partner.context import PartnerContext
from graphql_schema.partner.redemption_types import (
    EXCHANGE_RATE_HANDLER,
    ConfirmationRequired,
    ConfirmVoucherRedemptionResult,
    MemberLookupResult,
    RedeemVoucherResult,
    TillMemberView,
    VoucherRedeemed,
)
from graphql_schema.partner.settlement import PartnerSettlement, SettlementResult
from graphql_schema.partner.types import (
    BatchReport,
    CallerStore,
    ImportReceiptsResult,
    PartnerVoucher,
    ReceiptAccepted,
    ReceiptInput,
    ReceiptRefunded,
    RefundInput,
    RefundReceiptResult,
    SubmitReceiptResult,
    ValidateVoucherResult,
    VoidVoucherRedemptionResult,
    VoucherRedemptionVoided,
    VoucherValid,
)
from graphql_schema.prize_types import (
    PRIZE_HANDLERS,
    PrizeError,
    PrizeExchangeCancelled,
    PrizeHandedOver,
)
from graphql_schema.receipt_types import (
    ReceiptNode,
    invalid_query_input,
    receipt_connection,
    receipt_page_args,
)

PartnerInfo = Info[PartnerContext, None]


@strawberry.type
class Query:
    @strawberry.field(description="The store (and partner) of the API key.")
    async def store(self, info: PartnerInfo) -> CallerStore:
        caller = await info.context.caller()
        store = await info.context.loaders.store.load(caller.store_id)
        assert store is not None
        return CallerStore(
            code=store.code,
            name=store.name,
            currency=store.currency,
            partner_code=caller.partner_code,
            partner_name=caller.partner_name,
        )

    @strawberry.field(
        description="This partner's receipts (all stores, or `store`), newest first: "
        "for reconciliation. `from` inclusive, `to` exclusive."
    )
    async def receipts(
        self,
        info: PartnerInfo,
        first: int = 50,
        after: str | None = None,
        store: str | None = None,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
    ) -> Connection[ReceiptNode]:
        caller = await info.context.caller()
        try:
            size, cursor = receipt_page_args(first, after, from_, to)
        except InvalidInput as exc:
            raise invalid_query_input(exc, info.context.language) from exc
        async with info.context.db.read_session() as session:
            rows = await receipts.list_partner_receipts(
                session,
                caller,
                store_code=store,
                issued_from=from_,
                issued_to=to,
                after=cursor,
                limit=size + 1,
            )
        return receipt_connection(rows, size)

    @strawberry.field(
        description="The member behind a scanned card number or app QR token: masked card "
        "number, first name, available points and the vouchers usable here. Scans that "
        "find no member count against the key's limit."
    )
    async def member(self, info: PartnerInfo, scan: str) -> MemberLookupResult:
        ctx = info.context
        caller = await ctx.caller()
        # A unit of work, not a read session: a scan that finds no member is counted.
        async with ctx.db.unit_of_work() as session:
            found = await tills.lookup_member(session, ctx.runtime.keys, caller, scan, clock.now())
        return TillMemberView.from_core(found)

    @strawberry.field(description="One of this partner's receipts by its receipt id.")
    async def receipt(self, info: PartnerInfo, receipt_id: str) -> ReceiptNode | None:
        caller = await info.context.caller()
        async with info.context.db.read_session() as session:
            try:
                receipt = await receipts.get_partner_receipt(session, caller, receipt_id)
            except NotFound:
                return None
        return ReceiptNode.from_model(receipt)

    @strawberry.field(
        description="This partner's settlement for a month (`YYYY-MM`, programme time zone): "
        "stored if the month is closed, computed now if open. A bad month is an InputError "
        "(INVALID_MONTH)."
    )
    async def settlement(self, info: PartnerInfo, month: str) -> SettlementResult:
        caller = await info.context.caller()
        async with info.context.db.read_session() as session:
            found, line = await settlement.partner_line(
                session, caller.partner_id, month, clock.now()
            )
        return PartnerSettlement.of(found, line, caller.partner_code)


@strawberry.type
class Mutation:
    @strawberry.mutation(
        description="Credit a receipt. Retrying with the same receiptId and body returns "
        "the first answer and credits nothing more."
    )
    async def submit_receipt(self, info: PartnerInfo, input: ReceiptInput) -> SubmitReceiptResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as session:
            answer = await receipts.submit_receipt(
                session, ctx.runtime, caller, input.to_core(), now=clock.now()
            )
        return ReceiptAccepted.from_answer(answer, ctx.language)

    @strawberry.mutation(description="Return a whole receipt or parts of its lines.")
    async def refund_receipt(self, info: PartnerInfo, input: RefundInput) -> RefundReceiptResult:
        ctx = info.context
        caller = await ctx.caller()
        lines = (
            None
            if input.lines is None
            else [(line.line_number, line.amount) for line in input.lines]
        )
        async with ctx.db.unit_of_work() as session:
            answer = await receipts.refund_receipt(
                session,
                caller,
                receipt_id=input.receipt_id,
                refund_id=input.refund_id,
                lines=lines,
                now=clock.now(),
            )
        return ReceiptRefunded.from_answer(answer)

    @strawberry.mutation(
        description="Upload offline receipts: one submitReceipt input (JSON) per line."
    )
    async def import_receipts(self, info: PartnerInfo, json_lines: str) -> ImportReceiptsResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as session:
            reports = await receipts.import_batch(
                session, ctx.runtime, caller, json_lines, now=clock.now()
            )
        return BatchReport.from_reports(reports)

    @strawberry.mutation(
        description="Check a voucher a member presents (changes nothing; unknown codes "
        "count towards the key's guessing limit)."
    )
    async def validate_voucher(self, info: PartnerInfo, code: str) -> ValidateVoucherResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as session:
            voucher = await rewards.validate_voucher(session, caller, code, now)
        return VoucherValid(voucher=PartnerVoucher.from_model(voucher, now))

    @strawberry.mutation(
        description="Redeem a voucher once, against your receipt id. A voucher worth the "
        "programme's confirmation threshold or more answers ConfirmationRequired and the "
        "member gets an SMS code: then call confirmVoucherRedemption."
    )
    async def redeem_voucher(
        self, info: PartnerInfo, code: str, receipt_id: str
    ) -> RedeemVoucherResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as session:
            done = await redemption_codes.redeem_voucher(
                session, ctx.runtime, caller, code=code, receipt_id=receipt_id, now=now
            )
            warnings = fraud.warnings_on(session)
        if isinstance(done, redemption_codes.ConfirmationSent):
            return ConfirmationRequired.from_sent(done, ctx.language)
        return VoucherRedeemed.from_redemption(done, now, warnings, ctx.language)

    @strawberry.mutation(
        description="Complete a redemption that answered ConfirmationRequired with the "
        "member's SMS code (at the store that asked). Retrying with the same receiptId "
        "returns the first answer."
    )
    async def confirm_voucher_redemption(
        self, info: PartnerInfo, code: str, receipt_id: str, sms_code: str
    ) -> ConfirmVoucherRedemptionResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as session:
            done = await redemption_codes.confirm_redemption(
                session,
                ctx.runtime,
                caller,
                code=code,
                receipt_id=receipt_id,
                sms_code=sms_code,
                now=now,
            )
            warnings = fraud.warnings_on(session)
        return VoucherRedeemed.from_redemption(done, now, warnings, ctx.language)

    @strawberry.mutation(
        description="Undo your redemption of a voucher against receiptId within 24 hours. "
        "Retrying the same void returns the first answer."
    )
    async def void_voucher_redemption(
        self, info: PartnerInfo, code: str, receipt_id: str
    ) -> VoidVoucherRedemptionResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as session:
            void = await rewards.void_redemption(session, caller, code, receipt_id, now)
        return VoucherRedemptionVoided(
            voucher=PartnerVoucher.from_model(void.voucher, now), voided_at=void.voided_at
        )

    # --- a member links a plastic card at the till (issue 14, toolbox) ---

    @strawberry.mutation(
        description="Start linking an unassigned plastic card to a member: sends an SMS "
        "code to the member's phone; then call linkPlasticCard with it."
    )
    async def request_card_link_code(
        self, info: PartnerInfo, card_number: str, phone: str
    ) -> partner_cards.RequestCardLinkCodeResult:
        return await partner_cards.request_code(info.context, card_number, phone)

    @strawberry.mutation(
        description="Link the plastic card to the member whose SMS code this is; the card "
        "then earns and identifies the member like the digital card."
    )
    async def link_plastic_card(
        self, info: PartnerInfo, card_number: str, phone: str, sms_code: str
    ) -> partner_cards.LinkPlasticCardResult:
        return await partner_cards.link(info.context, card_number, phone, sms_code)

    # --- prizes exchanged at this store's kiosks (issue 10) ---

    @strawberry.mutation(
        description="Hand over a prize exchanged or won at this store's kiosk, by its "
        "pickup code (once)."
    )
    async def hand_over_prize(self, info: PartnerInfo, pickup_code: str) -> HandOverPrizeResult:
        ctx = info.context
        caller = await ctx.caller()
        async with ctx.db.unit_of_work() as session:
            exchange = await prizes.hand_over(session, caller, pickup_code, clock.now())
        assert exchange.pickup_code is not None and exchange.handed_over_at is not None
        return PrizeHandedOver(
            pickup_code=exchange.pickup_code,
            prize_name=exchange.prize_name,
            handed_over_at=exchange.handed_over_at,
        )

    @strawberry.mutation(
        description="Cancel a prize not yet handed over, within the cancel window: the "
        "member's points and the stock are restored."
    )
    async def cancel_prize_exchange(
        self, info: PartnerInfo, pickup_code: str
    ) -> CancelPrizeExchangeResult:
        ctx = info.context
        caller = await ctx.caller()
        window = timedelta(hours=ctx.runtime.settings.prize_exchange_cancel_hours)
        async with ctx.db.unit_of_work() as session:
            done = await prizes.cancel_exchange(
                session, caller, pickup_code, window=window, now=clock.now()
            )
        assert done.exchange.pickup_code is not None
        return PrizeExchangeCancelled(
            pickup_code=done.exchange.pickup_code,
            prize_name=done.exchange.prize_name,
            points_restored=done.points_restored,
        )


HandOverPrizeResult = Annotated[
    PrizeHandedOver | PrizeError | RateLimitedError, strawberry.union("HandOverPrizeResult")
]
CancelPrizeExchangeResult = Annotated[
    PrizeExchangeCancelled | PrizeError | RateLimitedError,
    strawberry.union("CancelPrizeExchangeResult"),
]


def build_partner_schema(settings: Settings) -> strawberry.Schema:
    return HappySchema(
        query=Query,
        mutation=Mutation,
        extensions=standard_extensions(settings),
        exception_handlers=[
            *EXCEPTION_HANDLERS,
            *PRIZE_HANDLERS,
            EXCHANGE_RATE_HANDLER,
            *FRAUD_HANDLERS,
        ],
    )
