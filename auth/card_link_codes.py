"""Linking a plastic card at the till: the member proves their phone with an SMS code.

What a till can do: the cashier scans the new plastic card and types the member's phone
(``requestCardLinkCode``); the member reads the code from the SMS and the cashier types it
(``linkPlasticCard``). The challenge is keyed by the card and the phone together, so a
code sent for one card cannot link another; code rules are sign-in's (:mod:`auth.otp`: 5
minutes, 5 tries, resend after 30 s, 5 codes per number per hour) plus per-key limits on
sends and checks. The SMS names the card's last four digits and the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import i18n
from app.callers import StoreCaller
from app.db import on_commit
from app.errors import ErrorCode, InvalidInput
from app.limits import counters
from app.members import plastic_cards
from app.members import service as members
from app.runtime import Runtime
from auth import otp

HOUR = 3600
TILL_SENDS_PER_HOUR = 60
TILL_VERIFIES_PER_HOUR = 120


@dataclass(frozen=True)
class CardLinkCodeSent:
    expires_at: datetime
    resend_after_seconds: int


@dataclass(frozen=True)
class CardLinkedAtTill:
    card_number: str
    member_first_name: str | None
    linked_at: datetime


def _challenge(runtime: Runtime, number: str, e164: str) -> str:
    return runtime.keys.hash_code("card-link-challenge", f"{number}:{e164}")


async def request_code(
    session: AsyncSession,
    runtime: Runtime,
    caller: StoreCaller,
    *,
    card_number: str,
    phone: str,
    now: datetime,
) -> CardLinkCodeSent:
    """Send the member a code that links ``card_number`` to them (SMS after commit)."""
    e164 = members.parse_phone(runtime, phone)
    await counters.hit(
        session,
        scope="till_card_link_send",
        key=caller.limit_key,
        limit=TILL_SENDS_PER_HOUR,
        window_seconds=HOUR,
        now=now,
    )
    number = await plastic_cards.ensure_linkable(session, caller, card_number, now)
    member = await plastic_cards.member_at_till(session, caller, e164, now)
    policy = otp.OtpPolicy.from_settings(runtime.settings)
    issued = await otp.issue_code(
        session, runtime.keys, policy, _challenge(runtime, number, e164), now
    )
    text = i18n.translate(
        "sms.card_link",
        member.language,
        code=issued.code,
        card=f"…{number[-4:]}",
        store=caller.partner_name,
        minutes=policy.ttl_seconds // 60,
    )

    async def deliver() -> None:
        await runtime.sms.send(e164, text)

    on_commit(session, deliver)
    return CardLinkCodeSent(issued.expires_at, issued.resend_after_seconds)


async def link_with_code(
    session: AsyncSession,
    runtime: Runtime,
    caller: StoreCaller,
    *,
    card_number: str,
    phone: str,
    code: str,
    now: datetime,
) -> CardLinkedAtTill:
    """Check the member's code and link the card to them (a wrong code spends a try)."""
    e164 = members.parse_phone(runtime, phone)
    if not re.fullmatch(r"\s*\d{6}\s*", code or ""):
        raise InvalidInput(ErrorCode.CODE_INVALID, field="smsCode", attempts_left=0)
    await counters.hit(
        session,
        scope="till_card_link_verify",
        key=caller.limit_key,
        limit=TILL_VERIFIES_PER_HOUR,
        window_seconds=HOUR,
        now=now,
    )
    number = plastic_cards.normalise_number(card_number)
    member = await plastic_cards.member_at_till(session, caller, e164, now)
    policy = otp.OtpPolicy.from_settings(runtime.settings)
    await otp.check_code(
        session, runtime.keys, policy, _challenge(runtime, number, e164), code, now
    )
    card = await plastic_cards.link_card(
        session, member.id, number, now, limit_key=caller.limit_key
    )
    assert card.linked_at is not None
    return CardLinkedAtTill(card.number, member.first_name, card.linked_at)
