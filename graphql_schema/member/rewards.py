"""The member's rewards: reward levels and progress, vouchers (``me.vouchers``, a connection
filtered by status) and the ``claimReward`` mutation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from app import clock
from app.errors import InvalidInput
from app.rewards import codes
from app.rewards import service as rewards
from app.rewards.models import RewardLevel, Voucher
from graphql_schema.errors import (
    ConflictError,
    InputError,
    InsufficientPointsError,
    MemberBlockedError,
    NotFoundError,
)
from graphql_schema.pagination import (
    Connection,
    build_connection,
    encode_cursor,
    page_arguments,
    row_id_key,
    to_global_id,
)
from graphql_schema.receipt_types import Money, invalid_query_input
from graphql_schema.voucher_types import VoucherStatusEnum, VoucherStatusFilter
from wallet_passes.qr import qr_svg


@strawberry.type(name="Voucher")
class VoucherNode:
    partner_db_id: strawberry.Private[int | None]
    id: strawberry.ID
    code: str = strawberry.field(description="Shown as XXXX-XXXX-XXXX-XX; also in qrSvg.")
    value: Money
    status: VoucherStatusEnum  # type: ignore[valid-type]
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None

    @strawberry.field(description="The partner this voucher is restricted to (null: anywhere).")
    async def valid_only_at(self, info: Info[Any, None]) -> str | None:
        if self.partner_db_id is None:
            return None
        partner = await info.context.loaders.partner.load(self.partner_db_id)
        return partner.name if partner is not None else None

    @strawberry.field(description="The code as a QR image (SVG) for the till's scanner.")
    def qr_svg(self) -> str:
        return qr_svg(self.code.replace("-", ""))

    @classmethod
    def from_model(cls, voucher: Voucher, now: datetime) -> VoucherNode:
        return cls(
            partner_db_id=voucher.partner_id,
            id=to_global_id("Voucher", voucher.id),
            code=codes.display(voucher.code),
            value=Money(amount=voucher.value_amount, currency=voucher.currency),
            status=VoucherStatusFilter(rewards.member_status(voucher, now)),
            issued_at=voucher.issued_at,
            expires_at=voucher.expires_at,
            redeemed_at=voucher.redeemed_at,
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
    RewardClaimed
    | InsufficientPointsError
    | NotFoundError
    | ConflictError
    | InputError
    | MemberBlockedError,
    strawberry.union("ClaimRewardResult"),
]


async def resolve_reward_levels(context: Any, member_id: int) -> list[RewardLevelNode]:
    account = await context.loaders.account.load(member_id)
    available = account.available if account is not None else 0
    async with context.db.read_session() as session:
        levels = await rewards.list_levels(session)
    return [RewardLevelNode.from_model(level, available) for level in levels]


def _voucher_cursor(keys: list[object]) -> tuple[datetime, int]:
    """A vouchers cursor's keys ``(expires_at, id)`` (ValueError etc. for a forged one)."""
    expires = datetime.fromisoformat(str(keys[0]))
    if expires.utcoffset() is None:
        raise ValueError("a cursor date without a time zone")
    return expires.astimezone(UTC), row_id_key(keys[1])


def voucher_page_args(first: int, after: str | None) -> tuple[int, tuple[datetime, int] | None]:
    """Page size and keyset cursor ``(expires_at, id)``; :class:`InvalidInput` if bad."""
    return page_arguments(first, after, _voucher_cursor)


async def resolve_vouchers(
    context: Any,
    member_id: int,
    *,
    first: int,
    after: str | None,
    status: VoucherStatusFilter | None,
) -> Connection[VoucherNode]:
    try:
        size, cursor = voucher_page_args(first, after)
    except InvalidInput as exc:
        raise invalid_query_input(exc, context.language) from exc
    now = clock.now()
    async with context.db.read_session() as session:
        rows = await rewards.list_member_vouchers(
            session,
            member_id,
            status=status,
            now=now,
            after=cursor,
            limit=size + 1,
        )
    return build_connection(
        rows,
        size,
        lambda v: encode_cursor(v.expires_at.isoformat(), v.id),
        lambda v: VoucherNode.from_model(v, now),
    )


async def claim_reward(context: Any, level: int, request_id: str | None) -> RewardClaimed:
    caller = await context.caller()
    now = clock.now()
    async with context.db.unit_of_work() as session:
        claim = await rewards.claim_reward(
            session, member_id=caller.id, level=level, now=now, request_id=request_id
        )
    return RewardClaimed(
        level=claim.level.level,
        points_spent=claim.claim.points,
        balance=claim.balance,
        vouchers=[VoucherNode.from_model(v, now) for v in claim.vouchers],
    )
