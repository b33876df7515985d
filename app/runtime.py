"""What the services need from the process: settings, keys, senders. Built once per app."""

from __future__ import annotations

from dataclasses import dataclass

from app.keys import Keys, load_keys
from app.notifications.sms import SmsSender, make_sms_sender
from app.settings import Settings
from app.wallet.runtime import WalletRuntime


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    keys: Keys
    sms: SmsSender
    wallet: WalletRuntime


def build_runtime(settings: Settings) -> Runtime:
    return Runtime(
        settings=settings,
        keys=load_keys(settings),
        sms=make_sms_sender(settings),
        wallet=WalletRuntime(settings),
    )
