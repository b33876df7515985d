"""The files a member's card is made of: the QR image and the signed ``.pkpass``.

Both are cached in storage (local disk or S3) under a key derived from their content
version, so a pass is built and signed once per balance/name change and a QR image once per
card; the keys are opaque (hashes), never a card number or member id.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import asdict
from functools import lru_cache

import anyio.to_thread
from cryptography.hazmat.primitives import serialization
from starlette.background import BackgroundTask

from app.keys import Keys
from app.settings import Settings
from app.wallet.runtime import WalletRuntime
from app.wallet.service import PassSubject, authentication_token
from wallet_passes.apple import PassColours, PassContent, PassLabels, build_pkpass
from wallet_passes.qr import qr_png
from wallet_passes.storage import Storage

LABELS = {
    "en": PassLabels(),
    "sq": PassLabels(
        description="Karta Happy e besnikërisë",
        balance="PIKË",
        balance_change="Bilanci tani %@",
        tier="NIVELI",
        tier_change="Niveli tani %@",
        member="ANËTARI",
        card_number="KARTA",
        terms_label="Kushtet",
        terms="Pikët vlejnë 12 muaj nga dita kur janë fituar.",
        contact_label="Ndihmë",
    ),
}


def pass_content(settings: Settings, keys: Keys, subject: PassSubject) -> PassContent:
    serial = subject.wallet_pass.serial_number
    return PassContent(
        serial_number=serial,
        authentication_token=authentication_token(keys, serial),
        member_name=subject.member_name,
        card_number=subject.card_number,
        balance=subject.balance,
        tier=subject.tier,
        colours=_colours(subject),
        web_service_url=settings.apple_web_service_url,
        labels=LABELS.get(subject.language, LABELS["en"]),
    )


def _colours(subject: PassSubject) -> PassColours:
    """The tier's colours where it has them, the pass defaults elsewhere."""
    default = PassColours()
    background, foreground, label = subject.colours
    return PassColours(
        background=background or default.background,
        foreground=foreground or default.foreground,
        label=label or default.label,
    )


@lru_cache(maxsize=8)
def _fingerprint(certificate_der: bytes) -> str:
    return hashlib.sha256(certificate_der).hexdigest()[:16]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode("utf-8")).hexdigest()[:40]


class _RecentPasses:
    """The last few built passes by content version, so a device fetching the pass right
    after the member downloaded it (or a burst of devices) skips storage."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.items: OrderedDict[str, bytes] = OrderedDict()

    def get(self, key: str) -> bytes | None:
        data = self.items.get(key)
        if data is not None:
            self.items.move_to_end(key)
        return data

    def put(self, key: str, data: bytes) -> None:
        self.items[key] = data
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)

    def forget(self, folder: str) -> None:
        for key in [k for k in self.items if k.startswith(folder)]:
            del self.items[key]


_recent = _RecentPasses()


async def card_pkpass(
    settings: Settings, keys: Keys, wallet: WalletRuntime, subject: PassSubject
) -> tuple[bytes, BackgroundTask | None]:
    """The signed pass for ``subject`` (from memory or storage when this content was built
    before) and, for a newly built one, the task that stores it (run after the response)."""
    content = pass_content(settings, keys, subject)
    signer = wallet.signer
    certificate = signer.certificate.public_bytes(serialization.Encoding.DER)
    version = _digest(
        json.dumps(asdict(content), sort_keys=True, default=str),
        _fingerprint(certificate),
        settings.apple_pass_type_id,
        settings.apple_team_id,
        settings.apple_organization_name,
    )
    # One folder per pass holding only its latest version: older versions (with an older
    # balance) are removed when a new one is stored, and the folder when the account goes.
    folder = pass_folder(subject.wallet_pass.serial_number)
    key = f"{folder}/{version}.pkpass"
    storage = wallet.storage
    cached = _recent.get(key)
    if cached is None:
        cached = await anyio.to_thread.run_sync(storage.get, key)
    if cached is not None:
        _recent.put(key, cached)
        return cached, None
    data = build_pkpass(
        content,
        signer,
        pass_type_id=settings.apple_pass_type_id,
        team_id=settings.apple_team_id,
        organization_name=settings.apple_organization_name,
    )
    _recent.put(key, data)
    return data, BackgroundTask(anyio.to_thread.run_sync, _store_latest, storage, folder, key, data)


def pass_folder(serial_number: str) -> str:
    return f"passes/{serial_number}"


def _store_latest(storage: Storage, folder: str, key: str, data: bytes) -> None:
    storage.delete_folder(folder)
    storage.put(key, data, "application/vnd.apple.pkpass")


async def forget_passes(wallet: WalletRuntime, serial_numbers: list[str]) -> None:
    """Remove the stored passes (name, card number, balance) of a deleted account."""
    for serial in serial_numbers:
        folder = pass_folder(serial)
        _recent.forget(folder + "/")
        await anyio.to_thread.run_sync(wallet.storage.delete_folder, folder)


async def card_qr_png(keys: Keys, wallet: WalletRuntime, card_number: str) -> bytes:
    """The card's QR PNG (the card number), cached in storage under a keyed hash."""
    name = keys.hash_code("qr-file", card_number)[:40]
    key = f"qr/{name}.png"
    storage = wallet.storage
    cached = await anyio.to_thread.run_sync(storage.get, key)
    if cached is not None:
        return cached
    data = qr_png(card_number)
    await anyio.to_thread.run_sync(storage.put, key, data, "image/png")
    return data
