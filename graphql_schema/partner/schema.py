"""The partner door: what a POS or ERP calls at ``/partner/graphql`` with its store's key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.types import Info

from app import clock
from app.errors import InvalidInput, NotFound
from app.receipts import service as receipts
from app.rewards import service as rewards
from app.settings import Settings
from graphql_schema.errors import EXCEPTION_HANDLERS
from graphql_schema.extensions import HappySchema, standard_extensions
from graphql_schema.pagination import Connection
from graphql_schema.partner.context import PartnerContext
from graphql_schema.partner.types import (
    BatchReport,
    CallerStore,
    ImportReceiptsResult,
    PartnerVoucher,
    ReceiptAccepted,
    ReceiptInput,
    ReceiptRefunded,
    RedeemVoucherResult,
    RefundInput,
    RefundReceiptResult,
    SubmitReceiptResult,
    ValidateVoucherResult,
    VoidVoucherRedemptionResult,
    VoucherRedeemed,
    VoucherRedemptionVoided,
    VoucherValid,
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

    @strawberry.field(description="One of this partner's receipts by its receipt id.")
    async def receipt(self, info: PartnerInfo, receipt_id: str) -> ReceiptNode | None:
        caller = await info.context.caller()
        async with info.context.db.read_session() as session:
            try:
                receipt = await receipts.get_partner_receipt(session, caller, receipt_id)
            except NotFound:
                return None
        return ReceiptNode.from_model(receipt)


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
        return ReceiptAccepted.from_answer(answer)

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

    @strawberry.mutation(description="Redeem a voucher once, against your receipt id.")
    async def redeem_voucher(
        self, info: PartnerInfo, code: str, receipt_id: str
    ) -> RedeemVoucherResult:
        ctx = info.context
        caller = await ctx.caller()
        now = clock.now()
        async with ctx.db.unit_of_work() as session:
            voucher = await rewards.redeem_voucher(session, caller, code, receipt_id, now)
        assert voucher.redeemed_at is not None and voucher.redeemed_receipt_id is not None
        return VoucherRedeemed(
            voucher=PartnerVoucher.from_model(voucher, now),
            receipt_id=voucher.redeemed_receipt_id,
            redeemed_at=voucher.redeemed_at,
        )

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


def build_partner_schema(settings: Settings) -> strawberry.Schema:
    return HappySchema(
        query=Query,
        mutation=Mutation,
        extensions=standard_extensions(settings),
        exception_handlers=EXCEPTION_HANDLERS,
    )
