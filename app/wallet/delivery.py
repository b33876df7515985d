"""The wallet's reactions to domain events: keep passes current and tell the devices.

- In the transaction of every balance or name change: move the passes' update tag on,
  so Apple's ``passesUpdatedSince`` and ``Last-Modified`` never miss a change.
- After commit, through the outbox: one "pass changed" push to every device that
  registered one of the member's passes (APNs; the device then fetches the pass), and a
  PATCH of the member's Google loyalty object with the current balance and name. Both
  read the current state when they run, so rows for one member coalesce into one
  delivery and a retried row never sends a stale balance.
- When an account is deleted: its device registrations go in the same transaction; after
  commit the stored pass files are deleted and the Google object is emptied (no name, no
  points, inactive). Apple devices are not pushed: the pass web service answers 401 for a
  deleted account, so a push could not change the pass on the device.

APNs 410 (or ``Unregistered``/``BadDeviceToken``) removes the device's registrations; a
Google 404 means the member never saved the object: nothing to update. Any other
failure raises, and the outbox retries with back-off.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database
from app.events import (
    BalanceChanged,
    EventBus,
    MemberDeleted,
    MemberProfileChanged,
    TierChanged,
)
from app.events.delivery import Undeliverable
from app.settings import Settings
from app.wallet import files, service
from app.wallet.runtime import WalletRuntime
from wallet_passes.google import loyalty_object_patch, patch_request

APPLE_PUSH = "wallet.apple_push"
GOOGLE_UPDATE = "wallet.google_update"
FORGET_FILES = "wallet.forget_files"
CLEAR_GOOGLE_OBJECT = "wallet.clear_google_object"

PassEvent = BalanceChanged | MemberProfileChanged | TierChanged


def _shows_change(event: PassEvent) -> bool:
    if isinstance(event, MemberProfileChanged):
        return bool(service.NAME_FIELDS & set(event.fields))
    return True


def _member_key(event: PassEvent | MemberDeleted) -> str:
    return f"member:{event.member_id}"


async def bump_tags(session: AsyncSession, event: PassEvent) -> None:
    if _shows_change(event):
        await service.bump_member_passes(session, event.member_id, event.at)


async def _has_device(session: AsyncSession, event: PassEvent) -> bool:
    return _shows_change(event) and await service.has_registered_device(session, event.member_id)


async def _has_pass(session: AsyncSession, event: PassEvent | MemberDeleted) -> bool:
    return await service.has_pass(session, event.member_id)


async def _pass_shown_changed(session: AsyncSession, event: PassEvent) -> bool:
    return _shows_change(event) and await _has_pass(session, event)


async def forget_devices(session: AsyncSession, event: MemberDeleted) -> None:
    await service.forget_devices(session, event.member_id)


class WalletDelivery:
    """The after-commit handlers; they need the database and the wallet's senders."""

    def __init__(self, db: Database, settings: Settings, wallet: WalletRuntime) -> None:
        self.db = db
        self.settings = settings
        self.wallet = wallet

    async def push_devices(self, event: PassEvent) -> None:
        async with self.db.read_session() as session:
            tokens = await service.push_tokens_of_member(session, event.member_id)
        failures: list[str] = []
        gone: list[str] = []
        for token in tokens:
            result = await self.wallet.apns.send(token, self.settings.apple_pass_type_id)
            if result.delivered:
                continue
            if result.unregistered:
                gone.append(token)
            else:
                failures.append(f"apns {result.status} {result.reason}")
        if gone:
            async with self.db.unit_of_work() as session:
                for token in gone:
                    await service.remove_push_token(session, token)
        if failures:
            # The whole row is retried: a second push to the devices that got one is
            # harmless (they fetch the pass, and get 304 if nothing changed).
            raise RuntimeError("; ".join(failures))

    async def update_google_object(self, event: PassEvent) -> None:
        async with self.db.read_session() as session:
            state = await service.google_object_state(session, event.member_id)
        if state is None:
            return
        object_id, body = loyalty_object_patch(
            issuer_id=self.settings.google_issuer_id,
            object_suffix=state.object_suffix,
            balance=state.balance,
            account_name=state.account_name,
            tier=state.tier,
        )
        status = await self.wallet.google.send(patch_request(object_id, body))
        if status == 404:
            raise Undeliverable("google 404: object not saved")
        if not 200 <= status < 300:
            raise RuntimeError(f"google {status}")

    async def clear_google_object(self, event: MemberDeleted) -> None:
        """A deleted account's Google object keeps no name and no points, and is inactive
        (the object is Google's: it cannot be deleted, only emptied)."""
        async with self.db.read_session() as session:
            suffix = await service.google_object_suffix_of(session, event.member_id)
        if suffix is None:
            return
        object_id, body = loyalty_object_patch(
            issuer_id=self.settings.google_issuer_id,
            object_suffix=suffix,
            balance=0,
            account_name=self.settings.apple_organization_name,
        )
        body["state"] = "INACTIVE"
        status = await self.wallet.google.send(patch_request(object_id, body))
        if status == 404:
            raise Undeliverable("google 404: object not saved")
        if not 200 <= status < 300:
            raise RuntimeError(f"google {status}")

    async def forget_files(self, event: MemberDeleted) -> None:
        async with self.db.read_session() as session:
            serials = await service.serials_of_member(session, event.member_id)
        if serials:
            await files.forget_passes(self.wallet, serials)


def subscribe(bus: EventBus, delivery: WalletDelivery) -> None:
    """The wallet's subscriptions (called once by the assembly)."""
    # Spelt out per event type so each registration is checked against its event.
    bus.in_transaction(BalanceChanged, bump_tags)
    bus.in_transaction(MemberProfileChanged, bump_tags)
    push, google = delivery.push_devices, delivery.update_google_object
    bus.after_commit(BalanceChanged, APPLE_PUSH, push, coalesce=_member_key, when=_has_device)
    bus.after_commit(MemberProfileChanged, APPLE_PUSH, push, coalesce=_member_key, when=_has_device)
    bus.after_commit(
        BalanceChanged, GOOGLE_UPDATE, google, coalesce=_member_key, when=_pass_shown_changed
    )
    bus.after_commit(
        MemberProfileChanged,
        GOOGLE_UPDATE,
        google,
        coalesce=_member_key,
        when=_pass_shown_changed,
    )
    # A tier move changes the pass's tier field and colours, and the Google object's tier.
    bus.in_transaction(TierChanged, bump_tags)
    bus.after_commit(TierChanged, APPLE_PUSH, push, coalesce=_member_key, when=_has_device)
    bus.after_commit(
        TierChanged, GOOGLE_UPDATE, google, coalesce=_member_key, when=_pass_shown_changed
    )
    bus.in_transaction(MemberDeleted, forget_devices)
    bus.after_commit(MemberDeleted, FORGET_FILES, delivery.forget_files, when=_has_pass)
    bus.after_commit(
        MemberDeleted, CLEAR_GOOGLE_OBJECT, delivery.clear_google_object, when=_has_pass
    )
