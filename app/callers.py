"""Who is acting, as the core sees it: built by each door from its own credential.

The core never sees a credential (API key, kiosk device token, gateway secret): a door
checks it and hands services a :class:`StoreCaller` for what the credential stands for.
``limit_key`` names what the caller's limits count against (one key per credential, so
revoking a leaked key also starts a fresh budget for its replacement).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Channel(enum.StrEnum):
    """The kind of device acting for a store."""

    POS = "pos"  # a partner till or ERP with the store's API key
    KIOSK = "kiosk"  # an in-store kiosk tablet
    OPERATOR = "operator"  # the operator's command line acting for a store (imports)


@dataclass(frozen=True)
class StoreCaller:
    """A device acting for one store of one partner."""

    channel: Channel
    limit_key: str
    store_id: int
    store_code: str
    store_currency: str
    partner_id: int
    partner_code: str
    partner_name: str
