"""Partner-door types of issue 14 (redeem): confirmation of large redemptions, amounts in
the store's currency, and ``member(scan)``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from app import i18n
from app.errors import ErrorCode, ExchangeRateMissing
from app.fraud.service import LimitWarning
from app.rewards import codes
from app.rewards.service import Redemption
from app.tills.service import TillMember, TillVoucher
from auth.redemption_codes import ConfirmationSent
from graphql_schema.errors import (
    CodeError,
    DomainErrorHandler,
    Error,
    ErrorCodeEnum,
    InputError,
    MemberBlockedError,
    MemberNotIdentifiedError,
    RateLimitedError,
    VoucherError,
)
from graphql_schema.fraud_types import LimitExceededError, LimitWarningType, warning_list
from graphql_schema.partner.types import PartnerVoucher
from graphql_schema.receipt_types import Money


@strawberry.type(
    description="The voucher was redeemed: its value in EUR and in the store's currency at "
    "the rate of the day (also the stored first answer of a retry)."
)
class VoucherRedeemed:
    voucher: PartnerVoucher
    receipt_id: str
    redeemed_at: datetime
    value_eur: Money = strawberry.field(description="The voucher's value in EUR.")
    store_value: Money = strawberry.field(
        description="What the voucher takes off the bill, in the store's currency "
        "(rounded half up to its minor units)."
    )
    exchange_rate: str = strawberry.field(
        description='Units of the store\'s currency per 1 EUR used ("1" in a EUR store).'
    )
    warnings: list[LimitWarningType] = strawberry.field(
        default_factory=list,
        description="Soft programme limits this redemption went over (empty: none; a retry "
        "answers without them).",
    )

    @classmethod
    def from_redemption(
        cls,
        done: Redemption,
        now: datetime,
        warnings: tuple[LimitWarning, ...] = (),
        language: str | None = None,
    ) -> VoucherRedeemed:
        voucher, row = done.voucher, done.redemption
        eur = row.eur_amount if row.eur_amount is not None else voucher.value_amount
        return cls(
            voucher=PartnerVoucher.from_model(voucher, now),
            receipt_id=row.receipt_id,
            redeemed_at=row.redeemed_at,
            value_eur=Money(amount=eur, currency="EUR"),
            store_value=Money(
                amount=row.store_amount if row.store_amount is not None else row.value_amount,
                currency=row.store_currency or row.currency,
            ),
            exchange_rate=_rate_text(row.fx_rate),
            warnings=warning_list(warnings, language),
        )


def _rate_text(rate: object) -> str:
    if rate is None:
        return "1"
    text = format(rate, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


@strawberry.type(
    description="The voucher is worth the programme's confirmation threshold or more: the "
    "member got an SMS code (or still has a valid one, `smsSent` false). Ask for it and "
    "call confirmVoucherRedemption. Nothing was redeemed."
)
class ConfirmationRequired(Error):
    expires_at: datetime = strawberry.field(description="When the member's code expires.")
    resend_after_seconds: int = strawberry.field(
        description="Seconds before redeemVoucher may send another code."
    )
    sms_sent: bool = strawberry.field(description="Whether this call sent a new code.")

    @classmethod
    def from_sent(cls, sent: ConfirmationSent, language: str | None) -> ConfirmationRequired:
        return cls(
            code=ErrorCode.CONFIRMATION_REQUIRED,
            message=i18n.translate(ErrorCode.CONFIRMATION_REQUIRED.value, language),
            field="code",
            expires_at=sent.expires_at,
            resend_after_seconds=sent.resend_after_seconds,
            sms_sent=sent.sms_sent,
        )


@strawberry.type(
    description="No exchange rate is set for the store's currency on this day; the "
    "programme operator must set one (`happy fx set`). Nothing changed."
)
class ExchangeRateError(Error):
    currency: str


EXCHANGE_RATE_HANDLER = DomainErrorHandler(
    ExchangeRateMissing,
    ExchangeRateError,
    lambda exc: {"currency": str(exc.params.get("currency", ""))},
)


@strawberry.type(
    description="A voucher the member can use at this store now. Its code is masked (the "
    "last four symbols): redeeming needs the member to show the voucher."
)
class TillVoucherNode:
    masked_code: str
    value: Money = strawberry.field(description="Face value (EUR).")
    value_eur: Money
    store_value: Money = strawberry.field(description="In the store's currency, today's rate.")
    expires_at: datetime

    @classmethod
    def from_core(cls, voucher: TillVoucher) -> TillVoucherNode:
        return cls(
            masked_code=codes.masked(voucher.code),
            value=Money(amount=voucher.value_amount, currency=voucher.currency),
            value_eur=Money(amount=voucher.eur_amount, currency="EUR"),
            store_value=Money(amount=voucher.store_amount, currency=voucher.store_currency),
            expires_at=voucher.expires_at,
        )


@strawberry.type(description="The member behind a scanned card, as a till may see them.")
class TillMemberView:
    card_number: str = strawberry.field(description="Masked: only the last four digits.")
    first_name: str | None
    available_points: int
    vouchers: list[TillVoucherNode]

    @classmethod
    def from_core(cls, member: TillMember) -> TillMemberView:
        return cls(
            card_number=member.masked_card_number,
            first_name=member.first_name,
            available_points=member.available_points,
            vouchers=[TillVoucherNode.from_core(v) for v in member.vouchers],
        )


RedeemVoucherResult = Annotated[
    VoucherRedeemed
    | ConfirmationRequired
    | VoucherError
    | ExchangeRateError
    | RateLimitedError
    | InputError
    | LimitExceededError
    | MemberBlockedError,
    strawberry.union("RedeemVoucherResult"),
]
ConfirmVoucherRedemptionResult = Annotated[
    VoucherRedeemed
    | CodeError
    | VoucherError
    | ExchangeRateError
    | RateLimitedError
    | InputError
    | LimitExceededError
    | MemberBlockedError,
    strawberry.union("ConfirmVoucherRedemptionResult"),
]
MemberLookupResult = Annotated[
    TillMemberView | MemberNotIdentifiedError | ExchangeRateError | RateLimitedError,
    strawberry.union("MemberLookupResult"),
]

__all__ = [
    "EXCHANGE_RATE_HANDLER",
    "ConfirmVoucherRedemptionResult",
    "ConfirmationRequired",
    "ErrorCodeEnum",
    "MemberLookupResult",
    "RedeemVoucherResult",
    "TillMemberView",
    "VoucherRedeemed",
]
