"""Member-door fields from the partner POS work: receipts, reward levels, vouchers,
points expiring soon, and the claimReward mutation's types.

The ``Member`` and ``Balance`` types in ``types.py`` delegate to the resolvers here.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import strawberry
from sqlalchemy import select

from app import clock
from app.errors import InvalidInput, NotFound
from app.ledger import expiry
from app.partners import service as partners
from app.partners.models import Partner
from app.programme.service import get_programme
from app.receipts import service as receipts
from app.rewards import codes
from app.rewards import service as rewards
from app.rewards.models import RewardLevel, Voucher
from app.rewards.service import MemberVoucherStatus
from graphql_schema.errors import (
    ConflictError,
    InputError,
    InsufficientPointsError,
    NotFoundError,
)
from graphql_schema.pagination import (
    Connection,
    from_global_id,
    to_global_id,
)
from graphql_schema.receipt_types import (
    Money,
    ReceiptNode,
    invalid_query_input,
    receipt_connection,
    receipt_page_args,
)
from wallet_passes.qr import qr_svg


@strawberry.type(description="Points that expire within 30 days, and the first such date.")
class ExpiringPoints:
    points: int
    date: date | None


VoucherStatusEnum = strawberry.enum(MemberVoucherStatus, name="VoucherStatus")


@strawberry.type(name="Voucher")
class VoucherNode:
    id: strawberry.ID
    code: str = strawberry.field(description="Shown as XXXX-XXXX-XXXX-XX; also in qrSvg.")
    value: Money
    status: VoucherStatusEnum  # type: ignore[valid-type]
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None
    valid_only_at: str | None = strawberry.field(
        default=None, description="The partner this voucher is restricted to (null: anywhere)."
    )

    @strawberry.field(description="The code as a QR image (SVG) for the till's scanner.")
    def qr_svg(self) -> str:
        return qr_svg(self.code.replace("-", ""))

    @classmethod
    def from_model(
        cls, voucher: Voucher, now: datetime, partner_names: dict[int, str] | None = None
    ) -> VoucherNode:
        return cls(
            id=to_global_id("Voucher", voucher.id),
            code=codes.display(voucher.code),
            value=Money(amount=voucher.value_amount, currency=voucher.currency),
            status=rewards.member_status(voucher, now),
            issued_at=voucher.issued_at,
            expires_at=voucher.expires_at,
            redeemed_at=voucher.redeemed_at,
            valid_only_at=(partner_names or {}).get(voucher.partner_id)
            if voucher.partner_id
            else None,
        )


@strawberry.type(name="RewardLevel")
class RewardLevelNode:
    level: int
    points: int
    voucher_count: int
    voucher_value: Money
    total_value: Money
    points_needed: int = strawberry.field(description="Points still missing (0: claimable).")
    progress_percent: int

    @classmethod
    def from_model(cls, level: RewardLevel, available: int) -> RewardLevelNode:
        progress = rewards.progress_towards(level, available)
        return cls(
            level=level.level,
            points=level.points,
            voucher_count=level.voucher_count,
            voucher_value=Money(amount=level.voucher_value, currency=level.currency),
            total_value=Money(
                amount=level.voucher_value * level.voucher_count, currency=level.currency
            ),
            points_needed=progress.points_needed,
            progress_percent=progress.percent,
        )


@strawberry.type
class RewardClaimed:
    level: int
    points_spent: int
    balance: int
    vouchers: list[VoucherNode]


RequestIdArgument = Annotated[
    str | None,
    strawberry.argument(description="The app's id of this claim: a retry returns the first."),
]

ClaimRewardResult = Annotated[
    RewardClaimed | InsufficientPointsError | NotFoundError | ConflictError | InputError,
    strawberry.union("ClaimRewardResult"),
]


async def resolve_expiring_soon(context: Any, member_id: int) -> ExpiringPoints:
    now = clock.now()
    async with context.db.read_session() as session:
        programme = await get_programme(session)
        found = await expiry.expiring_soon(session, [member_id], now, programme.timezone)
    soon = found[member_id]
    return ExpiringPoints(points=soon.points, date=soon.date)


async def resolve_receipts(
    context: Any,
    member_id: int,
    *,
    first: int,
    after: str | None,
    partner_id: strawberry.ID | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
) -> Connection[ReceiptNode]:
    try:
        size, cursor = receipt_page_args(first, after, issued_from, issued_to)
        partner_code = None if partner_id is None else from_global_id(partner_id, "Partner")
    except InvalidInput as exc:
        raise invalid_query_input(exc, context.language) from exc
    async with context.db.read_session() as session:
        partner_pk = None
        if partner_code is not None:
            partner = await partners.find_partner(session, partner_code)
            partner_pk = -1 if partner is None else partner.id  # unknown: no receipts
        rows = await receipts.list_member_receipts(
            session,
            member_id,
            partner_id=partner_pk,
            issued_from=issued_from,
            issued_to=issued_to,
            after=cursor,
            limit=size + 1,
        )
    return receipt_connection(rows, size)


async def resolve_receipt(context: Any, member_id: int, id: strawberry.ID) -> ReceiptNode | None:
    try:
        pk = int(from_global_id(id, "Receipt"))
    except (InvalidInput, ValueError):
        return None
    async with context.db.read_session() as session:
        try:
            receipt = await receipts.get_member_receipt(session, member_id, pk)
        except NotFound:
            return None
    return ReceiptNode.from_model(receipt)


async def resolve_reward_levels(context: Any, member_id: int) -> list[RewardLevelNode]:
    account = await context.loaders.account.load(member_id)
    available = account.available if account is not None else 0
    async with context.db.read_session() as session:
        levels = await rewards.list_levels(session)
    return [RewardLevelNode.from_model(level, available) for level in levels]


async def resolve_vouchers(
    context: Any, member_id: int, status: MemberVoucherStatus | None
) -> list[VoucherNode]:
    now = clock.now()
    async with context.db.read_session() as session:
        vouchers = await rewards.list_member_vouchers(session, member_id, status=status, now=now)
        restricted = {v.partner_id for v in vouchers if v.partner_id is not None}
        names = {}
        if restricted:
            rows = await session.execute(
                select(Partner.id, Partner.name).where(Partner.id.in_(restricted))
            )
            names = {pid: name for pid, name in rows.all()}
    return [VoucherNode.from_model(v, now, names) for v in vouchers]


async def claim_reward(context: Any, level: int, request_id: str | None) -> RewardClaimed:
    caller = await context.caller()
    now = clock.now()
    async with context.db.unit_of_work() as session:
        claim = await rewards.claim_reward(
            session, member_id=caller.id, level=level, now=now, request_id=request_id
        )
        # Restricted vouchers say where they are valid (validOnlyAt), as in me.vouchers.
        restricted = {v.partner_id for v in claim.vouchers if v.partner_id is not None}
        names: dict[int, str] = {}
        if restricted:
            rows = await session.execute(
                select(Partner.id, Partner.name).where(Partner.id.in_(restricted))
            )
            names = {pid: name for pid, name in rows.all()}
    return RewardClaimed(
        level=claim.level.level,
        points_spent=claim.claim.points,
        balance=claim.balance,
        vouchers=[VoucherNode.from_model(v, now, names) for v in claim.vouchers],
    )
