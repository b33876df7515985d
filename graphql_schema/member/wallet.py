"""The member door's view of the digital card: QR, signed file links, wallet links."""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from app import clock
from app.db import Database
from app.runtime import Runtime
from app.wallet import service as wallet
from app.wallet.links import sign_link
from wallet_passes.dynamic_qr import issue_card_token
from wallet_passes.google import google_save_url, object_suffix_for
from wallet_passes.qr import qr_svg


@strawberry.type(description="A rotating, signed card token for kiosks and tills.")
class DynamicQr:
    token: str
    svg: str
    expires_at: datetime


def _public_url(runtime: Runtime, path: str) -> str:
    return runtime.settings.public_base_url.rstrip("/") + path


def qr_png_url(runtime: Runtime, serial: str) -> str:
    return _public_url(runtime, f"/files/card/{sign_link(runtime, 'qr', serial, clock.now())}.png")


def apple_wallet_url(runtime: Runtime, serial: str) -> str:
    token = sign_link(runtime, "pkpass", serial, clock.now())
    return _public_url(runtime, f"/wallet/passes/{token}.pkpass")


def card_qr_svg(number: str) -> str:
    return qr_svg(number)


def dynamic_qr(runtime: Runtime, number: str) -> DynamicQr:
    now = clock.now().replace(microsecond=0)
    ttl = runtime.settings.card_token_ttl_seconds
    token = issue_card_token(runtime.keys.card_token_secret, number, now, ttl)
    return DynamicQr(token=token, svg=qr_svg(token), expires_at=now + timedelta(seconds=ttl))


async def google_wallet_save_url(
    runtime: Runtime, db: Database, member_id: int, number: str
) -> str | None:
    """The save link for the card's own member (not the caller's: the card may be shown in a
    sign-in answer, before any bearer token)."""
    settings = runtime.settings
    async with db.read_session() as session:
        subject = await wallet.save_link_subject(session, member_id)
    if subject is None:
        return None
    return google_save_url(
        runtime.wallet.google_service_account,
        issuer_id=settings.google_issuer_id,
        class_suffix=settings.google_class_suffix,
        object_suffix=object_suffix_for(subject.member_public_id),
        card_number=number,
        account_name=subject.member_name,
        balance=subject.balance,
        origins=settings.google_origins,
        program_name=settings.apple_organization_name,
        now=clock.now(),
        tier=subject.tier,
        program_logo_url=settings.google_program_logo_url or None,
    )
