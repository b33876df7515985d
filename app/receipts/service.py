"""Receipts: crediting a till receipt once (points from `scoring.py`), refunds, offline batches,
history.

Exactly once: ``(partner_id, external_id)`` is unique and the receipt row is inserted
with ``ON CONFLICT DO NOTHING`` before the points are posted. A concurrent duplicate
waits for the first transaction, finds its committed row and returns the stored first
answer; the ledger entry's idempotency key (``receipt:<partner>:<id>``) makes a second
credit impossible even if that guard were bypassed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Select, Table, case, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app import deferred, events
from app.callers import StoreCaller
from app.db import insert_ignoring_conflicts
from app.environment import Environment
from app.errors import (
    Conflict,
    DomainError,
    ErrorCode,
    InvalidInput,
    MemberNotIdentified,
    NotFound,
    RateLimited,
)
from app.fraud import service as fraud
from app.ledger import service as ledger
from app.ledger.models import EntryKind, PointsAccount, PointsEntry
from app.limits import service as limits
from app.members.models import Member, MemberStatus
from app.members.phone import normalise_phone
from app.offers import service as offers_service
from app.offers.models import Mechanic
from app.partners.earn_rules import rules_for
from app.partners.models import Store
from app.programme.service import get_programme, points_expire_at
from app.receipts import offers as till_offers
from app.receipts.answers import (
    BatchLineReport,
    BatchLineStatus,
    ReceiptAnswer,
    RefundAnswer,
)
from app.receipts.input import ReceiptInput, check_receipt, parse_receipt
from app.receipts.models import Receipt, ReceiptLine, ReceiptRefund
from app.receipts.scoring import (
    NO_MODIFIERS,
    RemainingLine,
    points_due_back,
    rescore_remaining,
    score_receipt,
)
from app.support import blocks
from app.text import is_clean_text
from app.wallet.scan import member_by_card, scanned_card_number

MAX_BATCH_LINES = 1000


@dataclass(frozen=True)
class Identified:
    """The member behind a receipt, read in one statement with what the receipt needs."""

    member: Member
    blocked: bool
    facts: offers_service.MemberFacts


async def identify_member(
    session: AsyncSession,
    runtime: Environment,
    caller: StoreCaller,
    data: ReceiptInput,
    now: datetime,
) -> Identified:
    """The active member behind a scanned card (number or rotating token) or a phone,
    with their block and what offers' segments read (tier, last purchase): ONE statement.

    A rotating token is checked at the receipt's ``issuedAt`` (when it was scanned at the
    till; never more than 10 minutes ahead of our clock), so offline batches can use it.
    Unknown phone numbers count against the key (30 an hour), so a key cannot be used to
    find out which numbers belong to members.
    """
    extras = [blocks.blocked_column(Member.id), *offers_service.member_facts_columns(Member.id)]
    if data.card_number is not None:
        number = scanned_card_number(runtime.keys, data.card_number, data.issued_at)
        row = (await session.execute(member_by_card(number, *extras))).one_or_none()
        if row is None:
            raise MemberNotIdentified(field="cardNumber")
    else:
        assert data.phone is not None
        e164 = normalise_phone(
            data.phone,
            default_region=runtime.settings.default_region,
            allowed_regions=runtime.settings.allowed_regions,
        )
        await limits.ensure_left(session, limits.PHONE_PROBES, caller, now)
        stmt = select(Member, *extras).where(
            Member.phone_e164 == e164, Member.status == MemberStatus.ACTIVE
        )
        row = (await session.execute(stmt)).one_or_none()
        if row is None:
            await limits.count_failure(session, limits.PHONE_PROBES, caller, now)
            # keep_changes: the miss is counted although the receipt is refused.
            raise MemberNotIdentified(ErrorCode.MEMBER_NOT_FOUND, field="phone", keep_changes=True)
    member = row[0]
    return Identified(member, bool(row[1]), offers_service.facts_from(member, tuple(row[2:])))


async def submit_receipt(
    session: AsyncSession,
    runtime: Environment,
    caller: StoreCaller,
    data: ReceiptInput,
    *,
    now: datetime,
    source: str = "realtime",
) -> ReceiptAnswer:
    """Check, score and credit one receipt; a retry of the same receipt returns the first
    answer.

    Raises :class:`Conflict` (RECEIPT_CONFLICT) when the receipt id was used for a
    different body, :class:`MemberNotIdentified` for unknown cards, expired card tokens
    or phones, and :class:`InvalidInput` with a specific code for bad values (see
    :func:`check_receipt`), the wrong currency or inconsistent amounts; nothing is
    written then.
    """
    data = check_receipt(data, now)
    fingerprint = data.fingerprint(caller.store_id)
    # No look for a first answer up front (a round trip for every new receipt): the
    # insert below finds a committed twin; a refusal first asks whether this is a retry of
    # a receipt already credited (its first answer, whatever changed since).
    try:
        if data.currency != caller.store_currency:
            raise InvalidInput(
                ErrorCode.WRONG_CURRENCY, field="currency", expected=caller.store_currency
            )
        identified = await identify_member(session, runtime, caller, data, now)
        if identified.blocked:
            raise blocks.MemberBlocked(field="member")  # nothing written
    except DomainError:
        previous = await _find_receipt(session, caller.partner_id, data.receipt_id)
        if previous is not None:
            return _replay(previous, fingerprint)
        raise
    member = identified.member
    rules = await rules_for(session, caller.partner_id, data.currency)
    # The member's offers: one query, reserved once the receipt row is ours.
    till = await till_offers.prepare(
        session,
        member,
        partner_id=caller.partner_id,
        store_id=caller.store_id,
        currency=data.currency,
        issued_at=data.issued_at,
        facts=identified.facts,
    )
    score = score_receipt(rules, data.lines, NO_MODIFIERS)
    points = score.points
    breakdown = [item.to_json() for item in score.breakdown]

    receipts = Receipt.__table__
    inserted = await session.execute(
        insert_ignoring_conflicts(
            session,
            receipts,
            {
                "partner_id": caller.partner_id,
                "store_id": caller.store_id,
                "member_id": member.id,
                "external_id": data.receipt_id,
                "issued_at": data.issued_at,
                "currency": data.currency,
                "total": data.total,
                "cashier_id": data.cashier_id,
                "source": source,
                "fingerprint": fingerprint,
                "rate_points": rules.rate_points,
                "rate_per_amount": rules.rate_per_amount,
                "points_earned": points,
                "points_reversed": 0,
                "points_uncollected": 0,
                "refunded_amount": 0,
                "breakdown": breakdown,
                "answer": None,
                "created_at": now,
            },
            ("partner_id", "external_id"),
        ).returning(receipts.c.id)  # type: ignore[attr-defined]
    )
    receipt_id = inserted.scalar_one_or_none()
    if receipt_id is None:
        # A concurrent request with the same receipt id committed first.
        previous = await _find_receipt(session, caller.partner_id, data.receipt_id)
        assert previous is not None
        return _replay(previous, fingerprint)

    score, awards = await till_offers.settle(session, till, rules, data.lines, now)
    points = score.points
    # The lines: one multi-row INSERT, sent with the stored answer and the outbox rows at
    # commit (nothing in this transaction reads them back: app/deferred.py).
    await deferred.write(
        session,
        insert(cast(Table, ReceiptLine.__table__)),
        [
            {
                "receipt_id": receipt_id,
                "line_no": number,
                "sku": line.sku,
                "name": line.name,
                "brand": line.brand,
                "category": line.category,
                "quantity_milli": line.quantity_milli,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "multiplier_pct": scored.multiplier_pct,
                "rule": scored.rule,
                "points": scored.points,
                "refunded_amount": 0,
            }
            for number, (line, scored) in enumerate(
                zip(data.lines, score.lines, strict=True), start=1
            )
        ],
    )

    programme = await get_programme(session)
    # Fraud limits: counted here, before the account is locked (raises LimitExceeded).
    warnings = await fraud.check_receipt(
        session,
        programme,
        caller,
        member_id=member.id,
        cashier_id=data.cashier_id,
        points=score.total,
        reference=f"receipt:{caller.partner_id}:{data.receipt_id}",
        now=now,
    )
    expires_at = points_expire_at(programme, data.issued_at)
    # Each offer's bonus is its own entry (offer rows are locked before the account).
    offer_entries = await till_offers.post_awards(
        session, till, awards, receipt_id, expires_at=expires_at, now=now
    )
    earn_points = points - sum(a.points for a in awards if a.offer.mechanic == Mechanic.MULTIPLIER)
    if earn_points > 0:
        entry = await ledger.post(
            session,
            member_id=member.id,
            kind=EntryKind.EARN,
            delta=earn_points,
            now=now,
            expires_at=expires_at,
            reference_type="receipt",
            reference_id=str(receipt_id),
            description=caller.partner_name,
            idempotency_key=f"receipt:{caller.partner_id}:{data.receipt_id}",
            funded_by=caller.partner_id,  # the partner funds the points it issues
        )
        balance = entry.balance_after
    elif offer_entries:
        balance = offer_entries[-1].balance_after
    else:
        balance = (await ledger.get_balance(session, member.id)).available

    answer = ReceiptAnswer(
        receipt_id=data.receipt_id,
        points_earned=score.total,
        balance=balance,
        breakdown=score.breakdown,
        processed_at=now,
        warnings=warnings,
    )
    # The stored answer (what a retry gets) with the final score: one UPDATE by key, sent
    # at commit with the lines (a retry reads it only once this transaction committed).
    await deferred.write(
        session,
        update(cast(Table, receipts))
        .where(receipts.c.id == receipt_id)
        .values(
            points_earned=points,
            bonus_points=score.bonus_points,
            breakdown=[item.to_json() for item in score.breakdown],
            answer=answer.to_json(),
        ),
    )
    await events.publish(
        session,
        events.ReceiptAccepted(
            at=now,
            receipt_id=receipt_id,
            member_id=member.id,
            partner_id=caller.partner_id,
            store_id=caller.store_id,
            points=score.total,
        ),
    )
    return answer


async def _find_receipt(session: AsyncSession, partner_id: int, external_id: str) -> Receipt | None:
    stmt = select(Receipt).where(
        Receipt.partner_id == partner_id, Receipt.external_id == external_id
    )
    return (await session.execute(stmt)).scalar_one_or_none()


def _replay(receipt: Receipt, fingerprint: str) -> ReceiptAnswer:
    if receipt.fingerprint != fingerprint or receipt.answer is None:
        raise Conflict(ErrorCode.RECEIPT_CONFLICT, field="receiptId")
    return ReceiptAnswer.from_json(receipt.answer)


def _refund_fingerprint(lines: list[tuple[int, int | None]] | None) -> str:
    body = json.dumps(sorted(lines) if lines is not None else None, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


async def refund_receipt(
    session: AsyncSession,
    caller: StoreCaller,
    *,
    receipt_id: str,
    refund_id: str,
    lines: list[tuple[int, int | None]] | None,
    now: datetime,
) -> RefundAnswer:
    """Return the whole receipt (``lines`` None) or parts of lines: ``(lineNumber,
    amount)``, amount None for the rest of the line.

    Points are reversed in proportion: the receipt is scored again on what is left (with
    the rate and multipliers it was scored with) and the difference goes back, so the
    total reversed never exceeds what the receipt earned (``scoring.points_due_back``).
    If the member already spent them, the balance goes to zero and the rest is recorded
    as ``points_uncollected`` on the receipt (never a negative balance).
    """
    if not refund_id or len(refund_id) > 64:
        raise InvalidInput(field="refundId")
    stmt = (
        select(Receipt)
        .where(Receipt.partner_id == caller.partner_id, Receipt.external_id == receipt_id)
        .with_for_update()
    )
    receipt = (await session.execute(stmt)).scalar_one_or_none()
    if receipt is None:
        raise NotFound(field="receiptId")
    if lines is not None and len({line_no for line_no, _ in lines}) != len(lines):
        raise InvalidInput(field="lines")  # one line twice: say it once, with its amount
    fingerprint = _refund_fingerprint(lines)
    previous = (
        await session.execute(
            select(ReceiptRefund).where(
                ReceiptRefund.receipt_id == receipt.id, ReceiptRefund.external_id == refund_id
            )
        )
    ).scalar_one_or_none()
    if previous is not None:
        if previous.fingerprint != fingerprint:
            raise Conflict(ErrorCode.RECEIPT_CONFLICT, field="refundId")
        return RefundAnswer.from_json(previous.answer)

    receipt_lines = {
        line.line_no: line
        for line in (
            await session.execute(select(ReceiptLine).where(ReceiptLine.receipt_id == receipt.id))
        ).scalars()
    }
    wanted: dict[int, int] = {}
    if lines is None:
        wanted = {n: ln.amount - ln.refunded_amount for n, ln in receipt_lines.items()}
        wanted = {n: a for n, a in wanted.items() if a > 0}
        if not wanted:
            raise InvalidInput(ErrorCode.REFUND_EXCEEDS_RECEIPT, field="lines")
    else:
        if not lines:
            raise InvalidInput(field="lines")
        for line_no, amount in lines:
            line = receipt_lines.get(line_no)
            if line is None or line_no in wanted:
                raise InvalidInput(field="lines.lineNumber")
            left = line.amount - line.refunded_amount
            value = left if amount is None else amount
            if value < 0:
                raise InvalidInput(ErrorCode.NEGATIVE_AMOUNT, field="lines.amount")
            if value == 0 and amount is not None:
                raise InvalidInput(field="lines.amount")
            if value == 0 or value > left:
                raise InvalidInput(ErrorCode.REFUND_EXCEEDS_RECEIPT, field="lines.amount")
            wanted[line_no] = value
    for line_no, amount in wanted.items():
        receipt_lines[line_no].refunded_amount += amount
    remaining = rescore_remaining(
        receipt.rate,
        (
            RemainingLine(ln.amount - ln.refunded_amount, ln.multiplier_pct)
            for ln in receipt_lines.values()
        ),
    )
    # Offer bonuses that no longer qualify go back first (offer rows before the account).
    await offers_service.after_refund(
        session,
        receipt_id=receipt.id,
        member_id=receipt.member_id,
        refund_id=refund_id,
        lines=list(receipt_lines.values()),
        now=now,
    )
    due = points_due_back(
        earned=receipt.points_earned,
        remaining=remaining,
        taken_back=receipt.points_reversed + receipt.points_uncollected,
    )
    account = (
        await session.execute(
            select(PointsAccount)
            .where(PointsAccount.member_id == receipt.member_id)
            .with_for_update()
        )
    ).scalar_one()
    # The receipt's own lot is taken back first; what of it already expired counts as
    # taken back (uncollected), never a second time from the member's other lots.
    earn = await ledger.find_entry(session, f"receipt:{receipt.partner_id}:{receipt.external_id}")
    expired_unclaimed = 0
    if earn is not None:
        expired = await ledger.expired_of_lot(session, earn.id)
        expired_unclaimed = max(0, expired - receipt.points_uncollected)
    already_gone = min(due, expired_unclaimed)
    collect = min(due - already_gone, account.available)
    balance = account.available
    if collect > 0:
        entry = await ledger.post(
            session,
            member_id=receipt.member_id,
            kind=EntryKind.REVERSAL,
            delta=-collect,
            now=now,
            reference_type="receipt",
            reference_id=str(receipt.id),
            description=caller.partner_name,
            idempotency_key=f"refund:{receipt.id}:{refund_id}",
            consume_first_lot_of=earn.id if earn is not None else None,
        )
        balance = entry.balance_after
    if due > 0:
        # Returned purchases do not count as points earned, ever (tiers read lifetime).
        accounts = cast(Table, PointsAccount.__table__)
        await session.execute(
            update(accounts)
            .where(accounts.c.member_id == receipt.member_id)
            .values(lifetime=case((accounts.c.lifetime >= due, accounts.c.lifetime - due), else_=0))
        )
    refunded = sum(wanted.values())
    receipt.points_reversed += collect
    receipt.points_uncollected += due - collect
    receipt.refunded_amount += refunded
    answer = RefundAnswer(
        receipt_id=receipt.external_id,
        refund_id=refund_id,
        refunded_amount=refunded,
        points_reversed=collect,
        points_uncollected=due - collect,
        balance=balance,
    )
    session.add(
        ReceiptRefund(
            receipt_id=receipt.id,
            external_id=refund_id,
            fingerprint=fingerprint,
            amount=refunded,
            points_reversed=collect,
            points_uncollected=due - collect,
            answer=answer.to_json(),
            created_at=now,
        )
    )
    await session.flush()
    await events.publish(
        session,
        events.ReceiptRefunded(
            at=now,
            receipt_id=receipt.id,
            member_id=receipt.member_id,
            partner_id=receipt.partner_id,
            points_reversed=collect,
            points_uncollected=due - collect,
        ),
    )
    return answer


async def import_batch(
    session: AsyncSession,
    runtime: Environment,
    caller: StoreCaller,
    json_lines: str,
    *,
    now: datetime,
) -> list[BatchLineReport]:
    """Offline receipts, one JSON object per line (the ``submitReceipt`` input, read by
    :func:`parse_receipt`), each processed like a real-time receipt in its own savepoint:
    a bad line is reported and skipped, the others are kept. Blank lines are ignored."""
    lines = json_lines.splitlines()
    if sum(1 for text in lines if text.strip()) > MAX_BATCH_LINES:
        raise InvalidInput(ErrorCode.BATCH_TOO_LARGE, field="jsonLines", maximum=MAX_BATCH_LINES)
    return await import_lines(session, runtime, caller, lines, now=now)


async def import_lines(
    session: AsyncSession,
    runtime: Environment,
    caller: StoreCaller,
    lines: Iterable[str],
    *,
    now: datetime,
) -> list[BatchLineReport]:
    """:func:`import_batch` for a stream of lines (a file read line by line, constant
    memory); ``BATCH_TOO_LARGE`` as soon as line ``MAX_BATCH_LINES + 1`` arrives (the
    caller's unit of work then rolls the batch back)."""
    reports = []
    count = 0
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        count += 1
        if count > MAX_BATCH_LINES:
            raise InvalidInput(
                ErrorCode.BATCH_TOO_LARGE, field="jsonLines", maximum=MAX_BATCH_LINES
            )
        receipt_id: str | None = None
        try:
            raw = json.loads(text)
            if not isinstance(raw, dict):
                raise InvalidInput(field="line")
            candidate = raw.get("receiptId")
            # Only clean text is looked up: a NUL would fail in PostgreSQL.
            receipt_id = (
                candidate if isinstance(candidate, str) and is_clean_text(candidate) else None
            )
        except (ValueError, RecursionError, DomainError):  # RecursionError: nested too deep
            reports.append(
                BatchLineReport(number, None, BatchLineStatus.REJECTED, "INVALID_JSON", None)
            )
            continue
        existed = (
            receipt_id is not None
            and await _find_receipt(session, caller.partner_id, receipt_id) is not None
        )
        try:
            data = parse_receipt(raw)
            async with session.begin_nested():
                answer = await submit_receipt(
                    session, runtime, caller, data, now=now, source="batch"
                )
        except DomainError as exc:
            if exc.after_rollback is not None:
                await exc.after_rollback(session)  # e.g. the alert of a refused line
            if exc.keep_changes and exc.code is ErrorCode.MEMBER_NOT_FOUND:
                # The savepoint took the miss's count with it: count it again outside, or a
                # batch could probe any number of phone numbers (the next phone line is then
                # refused with RATE_LIMITED once the key's budget is spent).
                with contextlib.suppress(RateLimited):
                    await limits.count_failure(session, limits.PHONE_PROBES, caller, now)
            reports.append(
                BatchLineReport(number, receipt_id, BatchLineStatus.REJECTED, exc.code.value, None)
            )
            continue
        status = BatchLineStatus.DUPLICATE if existed else BatchLineStatus.ACCEPTED
        reports.append(BatchLineReport(number, receipt_id, status, None, answer.points_earned))
    return reports


# --- history (member door) -------------------------------------------------------------


async def list_member_receipts(
    session: AsyncSession,
    member_id: int,
    *,
    partner_id: int | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Receipt]:
    """A member's receipts, newest first, keyset-paginated by (issued_at, id)."""
    stmt = select(Receipt).where(Receipt.member_id == member_id)
    if partner_id is not None:
        stmt = stmt.where(Receipt.partner_id == partner_id)
    return await _page(session, stmt, issued_from, issued_to, after, limit)


async def list_partner_receipts(
    session: AsyncSession,
    caller: StoreCaller,
    *,
    store_code: str | None,
    issued_from: datetime | None,
    issued_to: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Receipt]:
    """The partner's receipts (all its stores, or one), newest first: reconciliation."""
    stmt = select(Receipt).where(Receipt.partner_id == caller.partner_id)
    if store_code is not None:
        stmt = stmt.join(Store, Store.id == Receipt.store_id).where(Store.code == store_code)
    return await _page(session, stmt, issued_from, issued_to, after, limit)


async def _page(
    session: AsyncSession,
    stmt: Select[Receipt],
    issued_from: datetime | None,
    issued_to: datetime | None,
    after: tuple[datetime, int] | None,
    limit: int,
) -> list[Receipt]:
    if issued_from is not None:
        stmt = stmt.where(Receipt.issued_at >= issued_from)
    if issued_to is not None:
        stmt = stmt.where(Receipt.issued_at < issued_to)
    if after is not None:
        issued, receipt_pk = after
        stmt = stmt.where(
            (Receipt.issued_at < issued)
            | ((Receipt.issued_at == issued) & (Receipt.id < receipt_pk))
        )
    stmt = stmt.order_by(Receipt.issued_at.desc(), Receipt.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


async def get_member_receipt(session: AsyncSession, member_id: int, receipt_pk: int) -> Receipt:
    receipt = await session.get(Receipt, receipt_pk)
    if receipt is None or receipt.member_id != member_id:
        raise NotFound(field="id")
    return receipt


async def receipts_of_entries(
    session: AsyncSession, member_id: int, entries: Sequence[PointsEntry]
) -> dict[int, Receipt]:
    """The receipt behind each of the member's ledger entries that has one (points earned
    on it, or taken back after a return), keyed by entry id: one query for a page."""
    wanted: dict[int, list[int]] = {}
    for entry in entries:
        if entry.reference_type == "receipt" and (entry.reference_id or "").isdigit():
            wanted.setdefault(int(entry.reference_id or 0), []).append(entry.id)
    if not wanted:
        return {}
    rows = await session.execute(
        select(Receipt).where(Receipt.id.in_(wanted), Receipt.member_id == member_id)
    )
    return {entry_id: receipt for receipt in rows.scalars() for entry_id in wanted[receipt.id]}


async def get_partner_receipt(
    session: AsyncSession, caller: StoreCaller, receipt_id: str
) -> Receipt:
    receipt = await _find_receipt(session, caller.partner_id, receipt_id)
    if receipt is None:
        raise NotFound(field="receiptId")
    return receipt


async def receipts_for_export(
    session: AsyncSession, member_id: int
) -> list[tuple[Receipt, list[ReceiptLine]]]:
    """All the member's receipts with their lines, oldest first (data export)."""
    found = list(
        (
            await session.execute(
                select(Receipt)
                .where(Receipt.member_id == member_id)
                .order_by(Receipt.issued_at, Receipt.id)
            )
        ).scalars()
    )
    lines: dict[int, list[ReceiptLine]] = {r.id: [] for r in found}
    if found:
        rows = await session.execute(
            select(ReceiptLine)
            .where(ReceiptLine.receipt_id.in_(list(lines)))
            .order_by(ReceiptLine.receipt_id, ReceiptLine.line_no)
        )
        for line in rows.scalars():
            lines[line.receipt_id].append(line)
    return [(r, lines[r.id]) for r in found]


async def lines_of(
    session: AsyncSession, receipt_ids: Sequence[int]
) -> dict[int, list[ReceiptLine]]:
    """Each receipt's lines in order, by receipt id (an empty list for none)."""
    stmt = (
        select(ReceiptLine)
        .where(ReceiptLine.receipt_id.in_(receipt_ids))
        .order_by(ReceiptLine.receipt_id, ReceiptLine.line_no)
    )
    grouped: dict[int, list[ReceiptLine]] = {receipt_id: [] for receipt_id in receipt_ids}
    for line in await session.scalars(stmt):
        grouped.setdefault(line.receipt_id, []).append(line)
    return grouped
