"""Partner-door GraphQL types."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import strawberry

from app.receipts import input as receipt_input
from app.receipts.answers import BatchLineReport, BatchLineStatus, ReceiptAnswer, RefundAnswer
from app.rewards import codes
from app.rewards.models import Voucher
from app.rewards.service import member_status
from graphql_schema.errors import (
    ConflictError,
    InputError,
    MemberBlockedError,
    MemberNotIdentifiedError,
    NotFoundError,
    RateLimitedError,
    VoucherError,
)
from graphql_schema.fraud_types import LimitExceededError, LimitWarningType, warning_list
from graphql_schema.receipt_types import Money, PointsBreakdownItem
from graphql_schema.voucher_types import VoucherStatusEnum


@strawberry.input(description="One line of a receipt. Money in minor units.")
class ReceiptLineInput:
    sku: str
    name: str
    brand: str | None = None
    category: str | None = None
    quantity: Decimal = strawberry.field(description="Up to 3 decimals (weighed goods).")
    unit_price: int
    amount: int = strawberry.field(description="quantity x unitPrice, rounded half up.")


@strawberry.input(description="A till receipt. Exactly one of cardNumber or phone.")
class ReceiptInput:
    receipt_id: str = strawberry.field(description="Your unique receipt id: the retry key.")
    issued_at: datetime
    currency: str
    total: int
    cashier_id: str | None = None
    card_number: str | None = strawberry.field(
        default=None, description="The scanned card QR: printed number or rotating token."
    )
    phone: str | None = None
    lines: list[ReceiptLineInput]

    def to_core(self) -> receipt_input.ReceiptInput:
        """The core's receipt input (checked by the receipts service, like a batch line)."""
        return receipt_input.ReceiptInput(
            receipt_id=self.receipt_id,
            issued_at=self.issued_at,
            currency=self.currency,
            total=self.total,
            cashier_id=self.cashier_id,
            card_number=self.card_number,
            phone=self.phone,
            lines=tuple(
                receipt_input.LineInput(
                    sku=line.sku,
                    name=line.name,
                    brand=line.brand,
                    category=line.category,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    amount=line.amount,
                )
                for line in self.lines
            ),
        )


@strawberry.type(description="Points credited for a receipt (or the stored first answer).")
class ReceiptAccepted:
    receipt_id: str
    points_earned: int
    balance: int = strawberry.field(description="The member's available points after it.")
    breakdown: list[PointsBreakdownItem]
    processed_at: datetime
    warnings: list[LimitWarningType] = strawberry.field(
        description="Soft programme limits this receipt went over (empty: none); the same "
        "on a retry."
    )

    @classmethod
    def from_answer(cls, answer: ReceiptAnswer, language: str | None) -> ReceiptAccepted:
        return cls(
            receipt_id=answer.receipt_id,
            points_earned=answer.points_earned,
            balance=answer.balance,
            breakdown=[PointsBreakdownItem.from_item(i) for i in answer.breakdown],
            processed_at=answer.processed_at,
            warnings=warning_list(answer.warnings, language),
        )


@strawberry.input
class RefundLineInput:
    line_number: int
    amount: int | None = strawberry.field(
        default=None, description="Minor units returned; omitted: the rest of the line."
    )


@strawberry.input(description="A return. Without lines: everything left on the receipt.")
class RefundInput:
    receipt_id: str
    refund_id: str = strawberry.field(description="Your unique id of this return: the retry key.")
    lines: list[RefundLineInput] | None = None


@strawberry.type
class ReceiptRefunded:
    receipt_id: str
    refund_id: str
    refunded_amount: int
    points_reversed: int
    points_uncollected: int = strawberry.field(
        description="Points due back that the member had already spent (not taken)."
    )
    balance: int

    @classmethod
    def from_answer(cls, answer: RefundAnswer) -> ReceiptRefunded:
        return cls(
            receipt_id=answer.receipt_id,
            refund_id=answer.refund_id,
            refunded_amount=answer.refunded_amount,
            points_reversed=answer.points_reversed,
            points_uncollected=answer.points_uncollected,
            balance=answer.balance,
        )


@strawberry.type
class BatchLine:
    line: int
    receipt_id: str | None
    status: str = strawberry.field(description="accepted | duplicate | rejected")
    reason: str | None = strawberry.field(description="The error code of a rejected line.")
    points_earned: int | None

    @classmethod
    def from_report(cls, report: BatchLineReport) -> BatchLine:
        return cls(
            line=report.line,
            receipt_id=report.receipt_id,
            status=report.status.value,
            reason=report.reason,
            points_earned=report.points_earned,
        )


@strawberry.type
class BatchReport:
    accepted: int
    duplicates: int
    rejected: int
    lines: list[BatchLine]

    @classmethod
    def from_reports(cls, reports: list[BatchLineReport]) -> BatchReport:
        def count(status: BatchLineStatus) -> int:
            return sum(1 for r in reports if r.status == status)

        return cls(
            accepted=count(BatchLineStatus.ACCEPTED),
            duplicates=count(BatchLineStatus.DUPLICATE),
            rejected=count(BatchLineStatus.REJECTED),
            lines=[BatchLine.from_report(r) for r in reports],
        )


@strawberry.type(name="PartnerVoucher", description="A voucher as a till sees it.")
class PartnerVoucher:
    code: str
    value: Money
    status: VoucherStatusEnum  # type: ignore[valid-type]
    expires_at: datetime

    @classmethod
    def from_model(cls, voucher: Voucher, now: datetime) -> PartnerVoucher:
        return cls(
            code=codes.display(voucher.code),
            value=Money(amount=voucher.value_amount, currency=voucher.currency),
            status=member_status(voucher, now),
            expires_at=voucher.expires_at,
        )


@strawberry.type(description="The voucher can be redeemed here now.")
class VoucherValid:
    voucher: PartnerVoucher


@strawberry.type
class VoucherRedemptionVoided:
    voucher: PartnerVoucher
    voided_at: datetime


@strawberry.type(description="The store of the API key.")
class CallerStore:
    code: str
    name: str
    currency: str
    partner_code: str
    partner_name: str


SubmitReceiptResult = Annotated[
    ReceiptAccepted
    | InputError
    | MemberNotIdentifiedError
    | ConflictError
    | RateLimitedError
    | LimitExceededError
    | MemberBlockedError,
    strawberry.union("SubmitReceiptResult"),
]
RefundReceiptResult = Annotated[
    ReceiptRefunded | InputError | NotFoundError | ConflictError,
    strawberry.union("RefundReceiptResult"),
]
ImportReceiptsResult = Annotated[BatchReport | InputError, strawberry.union("ImportReceiptsResult")]
ValidateVoucherResult = Annotated[
    VoucherValid | VoucherError | RateLimitedError, strawberry.union("ValidateVoucherResult")
]
VoidVoucherRedemptionResult = Annotated[
    VoucherRedemptionVoided | VoucherError | RateLimitedError | InputError,
    strawberry.union("VoidVoucherRedemptionResult"),
]
