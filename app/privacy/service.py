"""A member's right to their data: everything the programme holds about them, in one
JSON document. It reads across capabilities (profile, cards, receipts, vouchers, points),
so it lives above them rather than inside any one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.ledger import service as ledger
from app.ledger.models import PointsEntry
from app.members import service as members
from app.members.models import Card
from app.messages import service as messages
from app.receipts import service as receipts
from app.rewards import codes
from app.rewards import service as rewards

# The export is a JSON document (the member downloads it as is): typed as JSON, not Any.
JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject = dict[str, JsonValue]


async def export_data(session: AsyncSession, *, member_id: int, now: datetime) -> JsonObject:
    """Everything the programme holds about the member, as JSON-ready data."""
    member = await members.get_member(session, member_id)
    cards = (await session.execute(select(Card).where(Card.member_id == member_id))).scalars()
    entries = (
        await session.execute(
            select(PointsEntry).where(PointsEntry.member_id == member_id).order_by(PointsEntry.id)
        )
    ).scalars()
    balance = await ledger.get_balance(session, member_id)
    return {
        "exportedAt": now.isoformat(),
        "member": {
            "id": member.public_id,
            "phone": member.phone_e164,
            "firstName": member.first_name,
            "lastName": member.last_name,
            "birthDate": member.birth_date.isoformat() if member.birth_date else None,
            "gender": member.gender.value if member.gender else None,
            "city": member.city,
            "email": member.email,
            "language": member.language,
            "registrationChannel": member.registration_channel.value,
            "memberSince": member.created_at.isoformat(),
        },
        "cards": [
            {"number": c.number, "kind": c.kind.value, "status": c.status.value} for c in cards
        ],
        "receipts": [
            {
                "partnerId": r.partner_id,
                "receiptId": r.external_id,
                "issuedAt": r.issued_at.isoformat(),
                "currency": r.currency,
                "total": r.total,
                "pointsEarned": r.points_earned,
                "pointsReversed": r.points_reversed,
                "refundedAmount": r.refunded_amount,
                "lines": [
                    {
                        "lineNumber": ln.line_no,
                        "sku": ln.sku,
                        "name": ln.name,
                        "brand": ln.brand,
                        "category": ln.category,
                        "quantityMilli": ln.quantity_milli,
                        "unitPrice": ln.unit_price,
                        "amount": ln.amount,
                        "refundedAmount": ln.refunded_amount,
                        "points": ln.points,
                    }
                    for ln in lines
                ],
            }
            for r, lines in await receipts.receipts_for_export(session, member_id)
        ],
        "vouchers": [
            {
                "code": codes.display(v.code),
                "value": v.value_amount,
                "currency": v.currency,
                "status": rewards.member_status(v, now),
                "issuedAt": v.issued_at.isoformat(),
                "expiresAt": v.expires_at.isoformat(),
                "redeemedAt": v.redeemed_at.isoformat() if v.redeemed_at else None,
            }
            for v in await rewards.list_member_vouchers(session, member_id, status=None, now=now)
        ],
        "marketingConsents": [
            {
                "channel": c.channel.value,
                "granted": c.granted,
                "changedAt": c.changed_at.isoformat(),
            }
            for c in await members.list_consents(session, member_id)
        ],
        "messages": [
            {
                "kind": m.kind,
                "channel": m.channel.value,
                "category": m.category.value,
                "status": m.status.value,
                "to": m.recipient,
                "subject": m.subject,
                "text": m.body,
                "createdAt": m.created_at.isoformat(),
                "sentAt": m.sent_at.isoformat() if m.sent_at else None,
                "openedAt": m.opened_at.isoformat() if m.opened_at else None,
            }
            for m in await messages.messages_of_member(session, member_id)
        ],
        "pushDevices": [
            {"platform": d.platform.value, "createdAt": d.created_at.isoformat()}
            for d in await messages.push_devices_of(session, [member_id])
        ],
        "balance": {
            "available": balance.available,
            "pending": balance.pending,
            "lifetime": balance.lifetime,
        },
        "pointsActivity": [
            {
                "kind": e.kind.value,
                "points": e.delta,
                "balanceAfter": e.balance_after,
                "reference": f"{e.reference_type}:{e.reference_id}" if e.reference_type else None,
                "at": e.created_at.isoformat(),
                "expiresAt": e.expires_at.isoformat() if e.expires_at else None,
            }
            for e in entries
        ],
    }
