"""Lifecycle messages through the doors: registering, earning and claiming make the
right message, once, on an allowed channel, in the member's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.events.delivery import Delivery
from app.messages.models import MemberMessage
from tests.helpers import Api
from tests.messages.conftest import SET_CONSENT, Member, Pos, Sent, claim, give_points, receipt


async def test_welcome_by_sms_with_the_card_number(api: Api, member: Member, sent: Sent) -> None:
    welcome = sent.lines("sms", kind="welcome")
    assert len(welcome) == 1
    assert welcome[0]["to"] == member.phone
    assert member.card in welcome[0]["text"]
    assert "Mirë se vini" in welcome[0]["text"]  # the member's language: Albanian
    assert welcome[0]["category"] == "transactional"
    assert "Çregjistrohu" not in welcome[0]["text"]  # transactional: no way out needed


async def test_english_member_gets_english(api: Api, db: Database, sent: Sent) -> None:
    phone = "+355691111111"
    await api.request_otp(phone, language="en")
    code = api.outbox.last_code(phone)
    await api.verify_otp(phone, code, language="en")
    (welcome,) = sent.lines("sms", kind="welcome", to=phone)
    assert welcome["text"].startswith("Welcome to Happy!")


async def test_points_earned_at_the_partner_once(
    api: Api, spar: Pos, member: Member, sent: Sent, db: Database, app: Any
) -> None:
    body = receipt("R-1", member.card)
    first = await spar.submit(body)
    again = await spar.submit(body)  # the till retries
    assert first["__typename"] == again["__typename"] == "ReceiptAccepted"
    earned = sent.lines("sms", kind="points_earned")
    assert len(earned) == 1
    assert "Spar" in earned[0]["text"]
    # The outbox runs a subscriber at least once: running every row again adds nothing.
    async with db.unit_of_work() as session:
        await session.execute(MemberMessage.__table__.update().values(status="sent"))
        from app.events.outbox import OutboxMessage

        await session.execute(
            OutboxMessage.__table__.update().values(status="pending", next_attempt_at=clock.now())
        )
    delivery: Delivery = app.state.delivery
    await delivery.drain()
    assert len(sent.lines("sms", kind="points_earned")) == 1
    async with db.read_session() as session:
        count = await session.scalar(select(func.count()).select_from(MemberMessage))
    assert count == 2  # the welcome and the points earned


async def test_vouchers_ready_after_a_claim(
    api: Api, member: Member, sent: Sent, db: Database, coalition: None
) -> None:
    await give_points(db, member.id, 5_000, clock.now())
    claimed = await claim(api, member, 1)
    assert claimed["__typename"] == "RewardClaimed"
    (ready,) = sent.lines("sms", kind="vouchers_ready")
    assert "6 kuponat" in ready["text"]


async def test_refused_channel_is_never_used(
    api: Api, spar: Pos, member: Member, sent: Sent
) -> None:
    body = await api.gql(SET_CONSENT, {"c": "SMS", "g": False}, token=member.token)
    assert "errors" not in body, body
    await spar.submit(receipt("R-2", member.card))
    assert sent.kinds("sms") == ["welcome"]  # nothing more by SMS
    assert sent.lines("email") == []  # no email address on file: nothing at all


async def test_push_device_takes_transactional_messages(
    api: Api, spar: Pos, member: Member, sent: Sent
) -> None:
    body = await api.gql(REGISTER_PUSH, {"token": "f" * 64}, token=member.token)
    assert body["data"]["registerPushDevice"]["__typename"] == "PushDeviceRegistered", body
    await spar.submit(receipt("R-3", member.card))
    (push,) = sent.lines("push", kind="points_earned")
    assert push["push_tokens"] == ["f" * 64]
    assert sent.kinds("sms") == ["welcome"]


REGISTER_PUSH = """
mutation($token: String!) {
  registerPushDevice(platform: IOS, token: $token) {
    __typename
    ... on Error { code message field }
  }
}"""
