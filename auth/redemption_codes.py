"""SMS codes that confirm a large voucher redemption at a till (issue 14).

``redeemVoucher`` for a voucher worth the programme's threshold or more does not redeem:
the core says :class:`~app.errors.ConfirmationNeeded`, and here the member gets an SMS
code and the till a :class:`ConfirmationSent` answer. ``confirmVoucherRedemption`` checks
the code and redeems through the same guarded UPDATE as every redemption.

The code rules are sign-in's (:mod:`auth.otp`: 6 digits from :mod:`secrets`, stored as a
keyed hash, compared in constant time, valid 5 minutes, 5 tries, resend not sooner than
30 s, 5 codes an hour), on a challenge of its own per voucher, so a sign-in code never
confirms a redemption and a code sent for one voucher confirms no other. Sends are also
limited per member and per API key, code checks per API key. A second ``redeemVoucher``
of the same voucher at the same store while its code is fresh (the resend wait, or the
hourly limit) sends nothing and answers with the code already sent.

The pending confirmation (``app.redemptions``) is bound to the store that asked: another
store gets ``CONFIRMATION_NOT_FOUND`` and may ask for its own code (after the resend wait).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app import i18n
from app.callers import StoreCaller
from app.clock import as_utc
from app.db import on_commit
from app.errors import CodeRejected, ConfirmationNeeded, ErrorCode, InvalidInput, RateLimited
from app.limits import counters
from app.redemptions import service as redemptions
from app.rewards import service as rewards
from app.runtime import Runtime
from auth import otp

HOUR = 3600
# Confirmation codes one API key (till) may have sent per hour.
KEY_SENDS_PER_HOUR = 60
# Confirmation codes one API key may check per hour (right or wrong).
KEY_VERIFIES_PER_HOUR = 120


@dataclass(frozen=True)
class ConfirmationSent:
    """The member must confirm: a code was sent now (``sms_sent``) or is still valid."""

    voucher_code: str
    expires_at: datetime
    resend_after_seconds: int
    sms_sent: bool


def _challenge(runtime: Runtime, voucher_id: int) -> str:
    return runtime.keys.hash_code("voucher-redemption-challenge", str(voucher_id))


async def redeem_voucher(
    session: AsyncSession,
    runtime: Runtime,
    caller: StoreCaller,
    *,
    code: str,
    receipt_id: str,
    now: datetime,
) -> rewards.Redemption | ConfirmationSent:
    """Redeem, or (a voucher at or above the threshold) send the member a code."""
    try:
        return await rewards.redeem_voucher(session, caller, code, receipt_id, now)
    except ConfirmationNeeded as needed:
        return await _ask_member(session, runtime, caller, needed, code, now)


async def _ask_member(
    session: AsyncSession,
    runtime: Runtime,
    caller: StoreCaller,
    needed: ConfirmationNeeded,
    voucher_code: str,
    now: datetime,
) -> ConfirmationSent:
    settings = runtime.settings
    policy = otp.OtpPolicy.from_settings(settings)
    contact = await redemptions.contact_for(session, caller, needed.voucher_id)
    pending = await redemptions.lock_for_request(session, caller, needed.voucher_id, now)
    try:
        issued = await otp.issue_code(
            session, runtime.keys, policy, _challenge(runtime, needed.voucher_id), now
        )
    except RateLimited as limited:
        if redemptions.waiting_at(pending, caller, now):
            # The member already has a valid code for this till: no second SMS.
            return ConfirmationSent(
                voucher_code=voucher_code.strip(),
                expires_at=as_utc(pending.expires_at),
                resend_after_seconds=limited.retry_after,
                sms_sent=False,
            )
        raise
    await counters.hit(
        session,
        scope="redeem_code_member",
        key=f"member:{needed.member_id}",
        limit=settings.otp_max_sends_per_hour,
        window_seconds=HOUR,
        now=now,
    )
    await counters.hit(
        session,
        scope="redeem_code_send",
        key=caller.limit_key,
        limit=KEY_SENDS_PER_HOUR,
        window_seconds=HOUR,
        now=now,
    )
    await redemptions.bind(session, pending, caller, expires_at=issued.expires_at, now=now)
    text = i18n.translate(
        "sms.voucher_redemption",
        contact.language,
        code=issued.code,
        value=contact.value,
        store=contact.store_name,
        minutes=policy.ttl_seconds // 60,
    )

    async def deliver() -> None:
        await runtime.sms.send(contact.phone_e164, text)

    on_commit(session, deliver)
    return ConfirmationSent(
        voucher_code=voucher_code.strip(),
        expires_at=issued.expires_at,
        resend_after_seconds=issued.resend_after_seconds,
        sms_sent=True,
    )


async def confirm_redemption(
    session: AsyncSession,
    runtime: Runtime,
    caller: StoreCaller,
    *,
    code: str,
    receipt_id: str,
    sms_code: str,
    now: datetime,
) -> rewards.Redemption:
    """Check the member's code and redeem, once. A retry of a confirmed redemption (same
    partner and receiptId) returns the first answer; a wrong code spends a try and leaves
    the voucher as it was."""
    if not receipt_id or len(receipt_id) > 64:
        raise InvalidInput(field="receiptId")
    if not re.fullmatch(r"\s*\d{6}\s*", sms_code or ""):
        raise InvalidInput(ErrorCode.CODE_INVALID, field="smsCode", attempts_left=0)
    voucher = await rewards.find_voucher(session, caller, code, now)
    # The pending row's lock orders concurrent confirmations of this voucher; what the
    # first one did is read after it.
    pending = await redemptions.locked(session, voucher.id)
    retried = await rewards.redemption_retried(session, caller, voucher, receipt_id)
    if retried is not None:
        return retried
    rewards.check_usable(voucher, caller, now)
    redemptions.check_waiting(pending, caller)
    assert pending is not None
    await counters.hit(
        session,
        scope="redeem_code_verify",
        key=caller.limit_key,
        limit=KEY_VERIFIES_PER_HOUR,
        window_seconds=HOUR,
        now=now,
    )
    policy = otp.OtpPolicy.from_settings(runtime.settings)
    try:
        await otp.check_code(
            session, runtime.keys, policy, _challenge(runtime, voucher.id), sms_code, now
        )
    except CodeRejected as rejected:
        rejected.field = "smsCode"  # ``code`` is the voucher's in this mutation
        raise
    done = await rewards.redeem_voucher(session, caller, code, receipt_id, now, confirmed=True)
    redemptions.mark_confirmed(pending, now)
    await session.flush()
    return done
