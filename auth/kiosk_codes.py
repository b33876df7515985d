"""SMS codes at a kiosk: identifying a member by phone, and confirming a prize exchange.

Identification uses the member door's code machinery (:mod:`auth.otp`: one challenge per
number, 5 minutes, 5 tries, resend after 30 s, 5 codes per number per hour, limits per
client address) plus limits per kiosk; a number that is not a member yet is registered
with channel KIOSK (welcome bonus once per number, ever). It starts a kiosk visit, never
a member session.

A prize exchange is confirmed with its own challenge (keyed by the exchange, so a code
sent for one exchange cannot confirm another), under the same code rules, with codes per
member and per kiosk limited per hour. The SMS names the prize, the points and the store.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import i18n
from app.db import on_commit
from app.errors import ErrorCode, InvalidInput
from app.kiosks import service as kiosks
from app.limits import counters
from app.members import service as members
from app.prizes import service as prizes
from app.runtime import Runtime
from auth import otp

HOUR = 3600
# Codes one kiosk may send per hour (identification and exchanges together).
KIOSK_SENDS_PER_HOUR = 60
# Codes one kiosk may check per hour.
KIOSK_VERIFIES_PER_HOUR = 120


@dataclass(frozen=True)
class KioskCodeSent:
    expires_at: datetime
    resend_after_seconds: int


def _send(session: AsyncSession, runtime: Runtime, phone: str, text: str) -> None:
    async def deliver() -> None:
        await runtime.sms.send(phone, text)

    on_commit(session, deliver)


async def request_visit_code(
    session: AsyncSession,
    runtime: Runtime,
    caller: kiosks.KioskCaller,
    *,
    phone: str,
    client_address: str,
    language: str,
    now: datetime,
) -> KioskCodeSent:
    """Send an identification code to ``phone`` (after commit), within every limit."""
    e164 = members.parse_phone(runtime, phone)
    settings = runtime.settings
    await counters.hit(
        session,
        scope="otp_send_ip",
        key=client_address,
        limit=settings.otp_sends_per_ip_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    await counters.hit(
        session,
        scope="kiosk_code_send",
        key=caller.store.limit_key,
        limit=KIOSK_SENDS_PER_HOUR,
        window_seconds=HOUR,
        now=now,
    )
    policy = otp.OtpPolicy.from_settings(settings)
    issued = await otp.issue_code(session, runtime.keys, policy, runtime.keys.hash_phone(e164), now)
    text = i18n.translate(
        "sms.otp",
        await members.language_of_number(session, e164) or language,
        code=issued.code,
        minutes=policy.ttl_seconds // 60,
    )
    _send(session, runtime, e164, text)
    return KioskCodeSent(issued.expires_at, issued.resend_after_seconds)


async def _count_verify(
    session: AsyncSession,
    runtime: Runtime,
    caller: kiosks.KioskCaller,
    client_address: str,
    now: datetime,
) -> None:
    await counters.hit(
        session,
        scope="otp_verify_ip",
        key=client_address,
        limit=runtime.settings.otp_verifies_per_ip_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    await counters.hit(
        session,
        scope="kiosk_code_verify",
        key=caller.store.limit_key,
        limit=KIOSK_VERIFIES_PER_HOUR,
        window_seconds=HOUR,
        now=now,
    )


def _check_code_shape(code: str) -> None:
    if not re.fullmatch(r"\s*\d{6}\s*", code or ""):
        raise InvalidInput(ErrorCode.CODE_INVALID, field="code", attempts_left=0)


async def identify_by_phone(
    session: AsyncSession,
    runtime: Runtime,
    caller: kiosks.KioskCaller,
    *,
    phone: str,
    code: str,
    client_address: str,
    language: str,
    now: datetime,
) -> kiosks.StartedVisit:
    """Check the code; register the number (channel KIOSK) if new; start a kiosk visit."""
    e164 = members.parse_phone(runtime, phone)
    _check_code_shape(code)
    await _count_verify(session, runtime, caller, client_address, now)
    policy = otp.OtpPolicy.from_settings(runtime.settings)
    await otp.check_code(session, runtime.keys, policy, runtime.keys.hash_phone(e164), code, now)
    return await kiosks.start_visit_by_phone(
        session, runtime, caller, phone_e164=e164, language=language, now=now
    )


def _exchange_challenge(runtime: Runtime, exchange_public_id: str) -> str:
    return runtime.keys.hash_code("prize-exchange-challenge", exchange_public_id)


def _confirmation_hash(runtime: Runtime, exchange_public_id: str, code: str) -> str:
    return runtime.keys.hash_code(f"prize-exchange-confirmation:{exchange_public_id}", code)


@dataclass(frozen=True)
class ExchangeCodeSent:
    exchange_id: str
    prize_name: str
    points: int
    expires_at: datetime
    resend_after_seconds: int


async def request_exchange(
    session: AsyncSession,
    runtime: Runtime,
    caller: kiosks.KioskCaller,
    *,
    visit_token: str,
    prize_id: str,
    now: datetime,
) -> ExchangeCodeSent:
    """Reserve the prize for the visiting member and send them the confirmation code."""
    visit = await kiosks.open_visit(session, runtime, caller, visit_token, now)
    settings = runtime.settings
    await counters.hit(
        session,
        scope="prize_code_member",
        key=f"member:{visit.member_id}",
        limit=settings.otp_max_sends_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    await counters.hit(
        session,
        scope="kiosk_code_send",
        key=caller.store.limit_key,
        limit=KIOSK_SENDS_PER_HOUR,
        window_seconds=HOUR,
        now=now,
    )
    requested = await kiosks.request_prize_exchange(session, caller, visit, prize_id, now)
    reservation = requested.reservation
    policy = otp.OtpPolicy.from_settings(settings)
    issued = await otp.issue_code(
        session,
        runtime.keys,
        policy,
        _exchange_challenge(runtime, reservation.exchange.public_id),
        now,
    )
    text = i18n.translate(
        "sms.prize_exchange",
        requested.language,
        code=issued.code,
        points=reservation.exchange.points,
        prize=reservation.prize.name,
        store=reservation.store.name,
        minutes=policy.ttl_seconds // 60,
    )
    _send(session, runtime, requested.phone_e164, text)
    return ExchangeCodeSent(
        reservation.exchange.public_id,
        reservation.prize.name,
        reservation.exchange.points,
        min(issued.expires_at, reservation.exchange.expires_at),
        issued.resend_after_seconds,
    )


async def confirm_exchange(
    session: AsyncSession,
    runtime: Runtime,
    caller: kiosks.KioskCaller,
    *,
    visit_token: str,
    exchange_id: str,
    code: str,
    client_address: str,
    now: datetime,
) -> prizes.ConfirmedExchange:
    """Check the member's code and take points and stock, once. A retry with the code
    that confirmed the exchange gets the same pickup code and deducts nothing more."""
    visit = await kiosks.open_visit(session, runtime, caller, visit_token, now)
    _check_code_shape(code)
    exchange = await prizes.lock_exchange(
        session,
        member_id=visit.member_id,
        store_id=visit.store_id,
        exchange_public_id=exchange_id,
    )
    confirmation = _confirmation_hash(runtime, exchange.public_id, code.strip())
    if exchange.confirmation_hash is not None:
        if exchange.confirmation_hash != confirmation:
            raise InvalidInput(ErrorCode.CODE_INVALID, field="code", attempts_left=0)
        return await prizes.confirmed_answer(session, exchange)
    await _count_verify(session, runtime, caller, client_address, now)
    policy = otp.OtpPolicy.from_settings(runtime.settings)
    await otp.check_code(
        session,
        runtime.keys,
        policy,
        _exchange_challenge(runtime, exchange.public_id),
        code,
        now,
    )
    return await prizes.confirm_exchange(session, exchange, confirmation_hash=confirmation, now=now)
