"""Reward levels, claims and vouchers: issue, validate, redeem exactly once, void.

A claim deducts the level's points (the ledger's guarded update makes an overdraft, and
so a double claim on one balance, impossible) and issues the vouchers in the same
transaction. A redemption is one guarded ``UPDATE vouchers ... WHERE status = 'issued'
... RETURNING``: of any number of concurrent attempts exactly one changes the row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import events, programme_cache
from app.callers import StoreCaller
from app.db import insert_ignoring_conflicts
from app.errors import (
    Conflict,
    ErrorCode,
    InvalidInput,
    NotFound,
    VoucherRejected,
)
from app.fraud import service as fraud
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.limits import service as limits
from app.partners.service import get_partner
from app.programme.service import current_programme
from app.rewards import codes, redemption_rules
from app.rewards.models import (
    RewardClaim,
    RewardLevel,
    Voucher,
    VoucherRedemption,
    VoucherStatus,
)
from app.support import blocks

VOUCHER_VALIDITY = timedelta(days=90)
VOID_WINDOW = timedelta(hours=24)
# Unknown voucher codes a POS key may try before it is blocked for the rest of the window.
# With > 64 bits per code this only stops a runaway or hostile till early.

DEFAULT_LEVELS = [(1, 5000, 6, 400, "EUR"), (2, 10000, 5, 960, "EUR")]


class MemberVoucherStatus(StrEnum):
    """A voucher as the member (and a till) sees it; stored status plus the clock."""

    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"


def member_status(voucher: Voucher, now: datetime) -> MemberVoucherStatus:
    if voucher.status == VoucherStatus.REDEEMED:
        return MemberVoucherStatus.USED
    return MemberVoucherStatus.ACTIVE if voucher.expires_at > now else MemberVoucherStatus.EXPIRED


# --- reward levels ---------------------------------------------------------------------


async def list_levels(session: AsyncSession) -> list[RewardLevel]:
    """The active reward levels, cheapest first (cached per process, as detached copies:
    :mod:`app.programme_cache`)."""
    return list(await programme_cache.cached(session, "reward_levels", lambda: _levels(session)))


async def _levels(session: AsyncSession) -> tuple[RewardLevel, ...]:
    stmt = select(RewardLevel).where(RewardLevel.active.is_(True)).order_by(RewardLevel.points)
    rows = (await session.execute(stmt)).scalars()
    return tuple(programme_cache.detached_copy(row) for row in rows)


@dataclass(frozen=True)
class LevelProgress:
    points_needed: int  # 0: claimable now
    percent: int  # 0-100


def progress_towards(level: RewardLevel, available: int) -> LevelProgress:
    """How far ``available`` points are from claiming ``level``."""
    return LevelProgress(
        points_needed=max(0, level.points - available),
        percent=min(100, max(0, available) * 100 // level.points),
    )


async def set_level(
    session: AsyncSession,
    *,
    level: int,
    points: int,
    voucher_count: int,
    voucher_value: int,
    currency: str,
    active: bool,
    now: datetime,
    partner_code: str | None = None,
) -> RewardLevel:
    """Create or change a reward level (operator CLI, demo); ``partner_code`` restricts
    its vouchers to one partner."""
    if level < 1 or points < 1 or voucher_count < 1 or voucher_value < 1 or len(currency) != 3:
        raise InvalidInput(field="level")
    programme_cache.changed(session)
    partner_id = None
    if partner_code is not None:
        partner_id = (await get_partner(session, partner_code)).id
    row = await session.get(RewardLevel, level)
    if row is None:
        row = RewardLevel(level=level, updated_at=now)
        session.add(row)
    row.points = points
    row.voucher_count = voucher_count
    row.voucher_value = voucher_value
    row.currency = currency.upper()
    row.partner_id = partner_id
    row.active = active
    row.updated_at = now
    await session.flush()
    return row


async def ensure_default_levels(session: AsyncSession, now: datetime) -> int:
    """The Happy levels (5,000 -> 6 x 4.00 EUR; 10,000 -> 5 x 9.60 EUR) where missing."""
    for level, points, count, value, currency in DEFAULT_LEVELS:
        if await session.get(RewardLevel, level) is None:
            await set_level(
                session,
                level=level,
                points=points,
                voucher_count=count,
                voucher_value=value,
                currency=currency,
                active=True,
                now=now,
            )
    return len(DEFAULT_LEVELS)


@dataclass(frozen=True)
class Claim:
    claim: RewardClaim
    level: RewardLevel
    vouchers: list[Voucher]
    balance: int


async def _claim_by_request(
    session: AsyncSession, member_id: int, request_id: str, level: int
) -> Claim | None:
    claim = (
        await session.execute(
            select(RewardClaim).where(
                RewardClaim.member_id == member_id, RewardClaim.request_id == request_id
            )
        )
    ).scalar_one_or_none()
    if claim is None:
        return None
    if claim.level != level:
        raise Conflict(field="requestId")
    row = await session.get(RewardLevel, claim.level)
    assert row is not None
    vouchers = (
        await session.execute(
            select(Voucher).where(Voucher.claim_id == claim.id).order_by(Voucher.id)
        )
    ).scalars()
    balance = (await ledger.get_balance(session, member_id)).available
    return Claim(claim=claim, level=row, vouchers=list(vouchers), balance=balance)


async def claim_reward(
    session: AsyncSession,
    *,
    member_id: int,
    level: int,
    now: datetime,
    request_id: str | None = None,
) -> Claim:
    """Deduct the level's points and issue its vouchers, in the caller's one transaction.

    With ``request_id`` (the app's id of this tap) a retry returns the first claim, also
    when the retries race: the claim row is inserted with ``ON CONFLICT DO NOTHING``.
    """
    if request_id is not None:
        if not request_id or len(request_id) > 64:
            raise InvalidInput(field="requestId")
        previous = await _claim_by_request(session, member_id, request_id, level)
        if previous is not None:
            return previous
    await blocks.ensure_not_blocked(session, member_id)
    row = await session.get(RewardLevel, level)
    if row is None or not row.active:
        raise NotFound(ErrorCode.REWARD_LEVEL_NOT_FOUND, field="level")
    claims = cast(Table, RewardClaim.__table__)
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            claims,
            {
                "member_id": member_id,
                "level": row.level,
                "points": row.points,
                "request_id": request_id,
                "created_at": now,
            },
            ("member_id", "request_id"),
        ).returning(claims.c.id)
    )
    claim_id = inserted.scalar_one_or_none()
    if claim_id is None:
        assert request_id is not None  # NULL request ids never conflict
        previous = await _claim_by_request(session, member_id, request_id, level)
        assert previous is not None
        return previous
    claim = await session.get(RewardClaim, claim_id)
    assert claim is not None
    entry = await ledger.post(
        session,
        member_id=member_id,
        kind=EntryKind.REWARD_CLAIM,
        delta=-row.points,
        now=now,
        reference_type="reward_claim",
        reference_id=str(claim.id),
        description=f"Reward level {row.level}: {row.voucher_count} vouchers",
        idempotency_key=f"reward_claim:{claim.id}",
    )
    vouchers = [
        Voucher(
            code=codes.new_code(),
            member_id=member_id,
            claim_id=claim.id,
            value_amount=row.voucher_value,
            currency=row.currency,
            status=VoucherStatus.ISSUED,
            partner_id=row.partner_id,
            issued_at=now,
            expires_at=now + VOUCHER_VALIDITY,
        )
        for _ in range(row.voucher_count)
    ]
    session.add_all(vouchers)
    await session.flush()
    await events.publish(
        session,
        events.VoucherIssued(
            at=now,
            member_id=member_id,
            claim_id=claim.id,
            voucher_ids=tuple(v.id for v in vouchers),
        ),
    )
    return Claim(claim=claim, level=row, vouchers=vouchers, balance=entry.balance_after)


async def list_member_vouchers(
    session: AsyncSession,
    member_id: int,
    *,
    status: MemberVoucherStatus | None,
    now: datetime,
    after: tuple[datetime, int] | None = None,
    limit: int | None = None,
) -> list[Voucher]:
    """The member's vouchers, soonest to expire first; ``status`` active, used or expired.
    Keyset-paginated by (expires_at, id) when ``after``/``limit`` are given."""
    stmt = select(Voucher).where(Voucher.member_id == member_id)
    if after is not None:
        expires, voucher_pk = after
        stmt = stmt.where(
            (Voucher.expires_at > expires)
            | ((Voucher.expires_at == expires) & (Voucher.id > voucher_pk))
        )
    if status == MemberVoucherStatus.ACTIVE:
        stmt = stmt.where(Voucher.status == VoucherStatus.ISSUED, Voucher.expires_at > now)
    elif status == MemberVoucherStatus.USED:
        stmt = stmt.where(Voucher.status == VoucherStatus.REDEEMED)
    elif status == MemberVoucherStatus.EXPIRED:
        stmt = stmt.where(Voucher.status == VoucherStatus.ISSUED, Voucher.expires_at <= now)
    stmt = stmt.order_by(Voucher.expires_at, Voucher.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return list((await session.execute(stmt)).scalars())


# --- the POS side ----------------------------------------------------------------------


async def _find_voucher(
    session: AsyncSession,
    caller: StoreCaller,
    text: str,
    now: datetime,
    *,
    refuse_blocked: bool = False,
) -> Voucher:
    """The voucher with code ``text``; an unknown code counts against the key's limit.
    With ``refuse_blocked``, a blocked owner raises
    :class:`~app.support.blocks.MemberBlocked` (read in the same statement as the voucher)."""
    await limits.ensure_left(session, limits.VOUCHER_CODE_GUESSES, caller, now)
    code = codes.normalise(text)
    voucher: Voucher | None = None
    if code is not None:
        found = (
            await session.execute(
                select(Voucher, blocks.blocked_column(Voucher.member_id).label("blocked")).where(
                    Voucher.code == code
                )
            )
        ).one_or_none()
        if found is not None:
            voucher, blocked = found
            if blocked and refuse_blocked:
                raise blocks.MemberBlocked(field="member")
    if voucher is None:
        await limits.count_failure(session, limits.VOUCHER_CODE_GUESSES, caller, now)
        # keep_changes: the miss is counted even though the request fails.
        raise VoucherRejected(ErrorCode.VOUCHER_NOT_FOUND, field="code", keep_changes=True)
    return voucher


def _check_usable(voucher: Voucher, caller: StoreCaller, now: datetime) -> None:
    if voucher.status == VoucherStatus.REDEEMED:
        raise VoucherRejected(ErrorCode.VOUCHER_ALREADY_REDEEMED, field="code")
    if voucher.expires_at <= now:
        raise VoucherRejected(ErrorCode.VOUCHER_EXPIRED, field="code")
    if voucher.partner_id is not None and voucher.partner_id != caller.partner_id:
        raise VoucherRejected(ErrorCode.VOUCHER_NOT_VALID_HERE, field="code")


async def validate_voucher(
    session: AsyncSession, caller: StoreCaller, code: str, now: datetime
) -> Voucher:
    """The voucher if this POS could redeem it now (nothing changes)."""
    voucher = await _find_voucher(session, caller, code, now)
    _check_usable(voucher, caller, now)
    return voucher


@dataclass(frozen=True)
class Redemption:
    """A redeemed voucher and its redemption row (amounts in EUR and the store currency)."""

    voucher: Voucher
    redemption: VoucherRedemption


async def _stored_redemption(
    session: AsyncSession, voucher: Voucher, receipt_id: str
) -> Redemption:
    row = (
        await session.execute(
            select(VoucherRedemption)
            .where(
                VoucherRedemption.voucher_id == voucher.id,
                VoucherRedemption.receipt_id == receipt_id,
                VoucherRedemption.voided_at.is_(None),
            )
            .order_by(VoucherRedemption.id.desc())
            .limit(1)
        )
    ).scalar_one()
    return Redemption(voucher, row)


async def find_voucher(
    session: AsyncSession, caller: StoreCaller, code: str, now: datetime
) -> Voucher:
    """The voucher with ``code`` (an unknown code counts against the key's guessing limit)."""
    return await _find_voucher(session, caller, code, now)


async def redemption_retried(
    session: AsyncSession, caller: StoreCaller, voucher: Voucher, receipt_id: str
) -> Redemption | None:
    """The stored first answer when ``voucher`` is already redeemed by the caller's partner
    against ``receipt_id`` (a retry), else None. Reads the voucher afresh."""
    await session.refresh(voucher)
    if (
        voucher.status == VoucherStatus.REDEEMED
        and voucher.redeemed_partner_id == caller.partner_id
        and voucher.redeemed_receipt_id == receipt_id
    ):
        return await _stored_redemption(session, voucher, receipt_id)
    return None


def check_usable(voucher: Voucher, caller: StoreCaller, now: datetime) -> None:
    """Raise the voucher's rejection (used, expired, not valid here) if it has one."""
    _check_usable(voucher, caller, now)


async def redeem_voucher(
    session: AsyncSession,
    caller: StoreCaller,
    code: str,
    receipt_id: str,
    now: datetime,
    *,
    confirmed: bool = False,
) -> Redemption:
    """Redeem once. A retry by the same partner for the same receipt gets the same
    success; anyone else after the first success gets VOUCHER_ALREADY_REDEEMED.

    A voucher worth the programme's confirmation threshold or more raises
    :class:`ConfirmationNeeded` (nothing changed) unless ``confirmed`` (the member's SMS
    code was checked by ``auth.redemption_codes``). The redemption row keeps the value in
    EUR and in the store's currency at the rate of the day (``EXCHANGE_RATE_MISSING``,
    nothing changed, when the store's currency has none)."""
    if not receipt_id or len(receipt_id) > 64:
        raise InvalidInput(field="receiptId")
    voucher = await _find_voucher(session, caller, code, now, refuse_blocked=True)
    converted = None
    programme = None
    if voucher.status == VoucherStatus.ISSUED:
        _check_usable(voucher, caller, now)
        # The row as it is now, held for the limits below (the session keeps only weak
        # references: a second read otherwise).
        programme = await current_programme(session)
        converted = await redemption_rules.value_at_redemption(
            session, voucher, caller, now, programme=programme, confirmed=confirmed
        )
    table = cast(Table, Voucher.__table__)
    stmt = (
        update(table)
        .where(
            table.c.id == voucher.id,
            table.c.status == VoucherStatus.ISSUED.value,
            table.c.expires_at > now,
            (table.c.partner_id.is_(None)) | (table.c.partner_id == caller.partner_id),
        )
        .values(
            status=VoucherStatus.REDEEMED.value,
            redeemed_at=now,
            redeemed_partner_id=caller.partner_id,
            redeemed_store_id=caller.store_id,
            redeemed_receipt_id=receipt_id,
        )
        .returning(*table.c)
    )
    # The guarded UPDATE returns the redeemed voucher: it refreshes the session's copy (no
    # second read after it).
    redeemed = None
    if converted is not None:
        redeemed = (
            await session.scalars(
                select(Voucher).from_statement(stmt),
                execution_options={"populate_existing": True},
            )
        ).one_or_none()
    if redeemed is None or converted is None:
        await session.refresh(voucher)
        if (
            voucher.status == VoucherStatus.REDEEMED
            and voucher.redeemed_partner_id == caller.partner_id
            and voucher.redeemed_receipt_id == receipt_id
        ):
            return await _stored_redemption(session, voucher, receipt_id)  # retried
        _check_usable(voucher, caller, now)
        raise VoucherRejected(ErrorCode.VOUCHER_ALREADY_REDEEMED, field="code")
    # Fraud limits (LimitExceeded rolls the redemption back; warnings: fraud.warnings_on).
    await fraud.check_redemption(
        session,
        caller,
        member_id=voucher.member_id,
        reference=f"voucher:{voucher.id}:{receipt_id}",
        now=now,
        programme=programme,
    )
    redemption = VoucherRedemption(
        voucher_id=voucher.id,
        partner_id=caller.partner_id,
        store_id=caller.store_id,
        receipt_id=receipt_id,
        value_amount=voucher.value_amount,
        currency=voucher.currency,
        redeemed_at=now,
        eur_amount=converted.eur_amount,
        store_amount=converted.store_amount,
        store_currency=converted.store_currency,
        fx_rate=converted.rate,
    )
    session.add(redemption)
    await session.flush()
    await events.publish(
        session,
        events.VoucherRedeemed(
            at=now,
            voucher_id=voucher.id,
            member_id=voucher.member_id,
            partner_id=caller.partner_id,
            store_id=caller.store_id,
        ),
    )
    return Redemption(voucher, redemption)


@dataclass(frozen=True)
class Void:
    voucher: Voucher
    voided_at: datetime


async def void_redemption(
    session: AsyncSession, caller: StoreCaller, code: str, receipt_id: str, now: datetime
) -> Void:
    """Undo this partner's redemption of the voucher against ``receipt_id``, less than 24
    hours old (voided receipt). A retried void of that same redemption returns the first
    void's answer; a void never touches a later redemption (another receipt)."""
    if not receipt_id or len(receipt_id) > 64:
        raise InvalidInput(field="receiptId")
    voucher = await _find_voucher(session, caller, code, now)
    if (
        voucher.status != VoucherStatus.REDEEMED
        or voucher.redeemed_partner_id != caller.partner_id
        or voucher.redeemed_receipt_id != receipt_id
    ):
        previous = await _voided_redemption(session, voucher.id, caller.partner_id, receipt_id)
        if previous is not None:
            assert previous.voided_at is not None
            return Void(voucher=voucher, voided_at=previous.voided_at)  # the same void, retried
        # Another partner's or receipt's redemption is not this call's business: as unknown.
        raise VoucherRejected(ErrorCode.VOUCHER_NOT_FOUND, field="code")
    assert voucher.redeemed_at is not None
    if now - voucher.redeemed_at > VOID_WINDOW:
        raise VoucherRejected(ErrorCode.VOID_WINDOW_PASSED, field="code")
    table = cast(Table, Voucher.__table__)
    result = await session.execute(
        update(table)
        .where(
            table.c.id == voucher.id,
            table.c.status == VoucherStatus.REDEEMED.value,
            table.c.redeemed_partner_id == caller.partner_id,
            table.c.redeemed_receipt_id == receipt_id,
        )
        .values(
            status=VoucherStatus.ISSUED.value,
            redeemed_at=None,
            redeemed_partner_id=None,
            redeemed_store_id=None,
            redeemed_receipt_id=None,
        )
        .returning(table.c.id)
    )
    if result.scalar_one_or_none() is None:
        raise VoucherRejected(ErrorCode.VOUCHER_NOT_FOUND, field="code")
    redemption = (
        await session.execute(
            select(VoucherRedemption)
            .where(
                VoucherRedemption.voucher_id == voucher.id,
                VoucherRedemption.receipt_id == receipt_id,
                VoucherRedemption.voided_at.is_(None),
            )
            .order_by(VoucherRedemption.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if redemption is not None:
        redemption.voided_at = now
    await session.flush()
    await session.refresh(voucher)
    return Void(voucher=voucher, voided_at=now)


async def _voided_redemption(
    session: AsyncSession, voucher_id: int, partner_id: int, receipt_id: str
) -> VoucherRedemption | None:
    stmt = (
        select(VoucherRedemption)
        .where(
            VoucherRedemption.voucher_id == voucher_id,
            VoucherRedemption.partner_id == partner_id,
            VoucherRedemption.receipt_id == receipt_id,
            VoucherRedemption.voided_at.is_not(None),
        )
        .order_by(VoucherRedemption.id.desc())
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def forfeit_member_vouchers(session: AsyncSession, member_id: int, now: datetime) -> int:
    """End the member's unredeemed, unexpired vouchers now (account deletion forfeits them
    like the points); they then answer VOUCHER_EXPIRED. The number of vouchers ended."""
    table = cast(Table, Voucher.__table__)
    result = await session.execute(
        update(table)
        .where(
            table.c.member_id == member_id,
            table.c.status == VoucherStatus.ISSUED.value,
            table.c.expires_at > now,
        )
        .values(expires_at=now)
        .returning(table.c.id)
    )
    return len(result.scalars().all())
