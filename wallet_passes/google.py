"""Google Wallet loyalty cards: the "save" link (a signed JWT) and later balance updates.

The save JWT carries both the loyalty class (the programme) and the member's loyalty object;
Google creates them when the member taps the link. Later changes are PATCHes of the object
through the Wallet REST API (``loyalty_object_patch`` + ``patch_request``), sent by a
``GoogleWalletClient`` the application provides.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from wallet_passes._clock import unix_seconds

SAVE_URL_PREFIX = "https://pay.google.com/gp/v/save/"
API_BASE = "https://walletobjects.googleapis.com/walletobjects/v1"
ISSUER_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
_SUFFIX = re.compile(r"[A-Za-z0-9._-]{1,200}")
_ISSUER = re.compile(r"[0-9]{1,30}")
_HEX_COLOUR = re.compile(r"#[0-9A-Fa-f]{6}")


class GoogleWalletError(ValueError):
    """Invalid identifiers or service-account data for Google Wallet."""


def object_suffix_for(raw: str) -> str:
    """A Wallet-safe suffix for any opaque member id (letters, digits, ``.``, ``_``, ``-``).

    Allowed characters other than ``_`` are kept; everything else (and ``_`` itself) becomes
    ``_xx`` hex escapes of its UTF-8 bytes, so distinct ids never share a suffix.
    """
    out = []
    for char in raw:
        if char != "_" and _SUFFIX.fullmatch(char):
            out.append(char)
        else:
            out.extend(f"_{byte:02x}" for byte in char.encode("utf-8"))
    return "".join(out)


def _checked_suffix(suffix: str, what: str) -> str:
    if not _SUFFIX.fullmatch(suffix):
        raise GoogleWalletError(
            f"{what} must be 1-200 letters, digits, '.', '_' or '-' (see object_suffix_for)"
        )
    return suffix


def _checked_issuer(issuer_id: str) -> str:
    if not _ISSUER.fullmatch(issuer_id):
        raise GoogleWalletError("issuer_id must be the numeric Google Wallet issuer id")
    return issuer_id


def object_id(issuer_id: str, object_suffix: str) -> str:
    """``issuerId.suffix``: the id of a member's loyalty object."""
    return f"{_checked_issuer(issuer_id)}.{_checked_suffix(object_suffix, 'object_suffix')}"


def class_id(issuer_id: str, class_suffix: str) -> str:
    """``issuerId.suffix``: the id of the programme's loyalty class."""
    return f"{_checked_issuer(issuer_id)}.{_checked_suffix(class_suffix, 'class_suffix')}"


def _points(balance: int, label: str) -> dict[str, Any]:
    return {"label": label, "balance": {"int": balance}}


def loyalty_class(
    *,
    issuer_id: str,
    class_suffix: str,
    program_name: str,
    issuer_name: str | None = None,
    program_logo_url: str | None = None,
    hex_background_color: str = "#F2711C",
) -> dict[str, Any]:
    """A minimal loyalty class. Google needs ``programLogo`` before the class is approved."""
    if not _HEX_COLOUR.fullmatch(hex_background_color):
        raise GoogleWalletError("hex_background_color must look like #RRGGBB")
    body: dict[str, Any] = {
        "id": class_id(issuer_id, class_suffix),
        "issuerName": issuer_name or program_name,
        "programName": program_name,
        "reviewStatus": "UNDER_REVIEW",
        "hexBackgroundColor": hex_background_color,
    }
    if program_logo_url:
        body["programLogo"] = {"sourceUri": {"uri": program_logo_url}}
    return body


def loyalty_object(
    *,
    issuer_id: str,
    class_suffix: str,
    object_suffix: str,
    card_number: str,
    account_name: str,
    balance: int,
    tier: str | None = None,
    points_label: str = "Points",
    tier_label: str = "Tier",
) -> dict[str, Any]:
    """The member's loyalty object: card number as account id and QR barcode, balance, tier."""
    if not card_number:
        raise GoogleWalletError("card_number is required")
    body: dict[str, Any] = {
        "id": object_id(issuer_id, object_suffix),
        "classId": class_id(issuer_id, class_suffix),
        "state": "ACTIVE",
        "accountId": card_number,
        "accountName": account_name,
        "loyaltyPoints": _points(balance, points_label),
        "barcode": {"type": "QR_CODE", "value": card_number, "alternateText": card_number},
    }
    if tier:
        body["textModulesData"] = [{"id": "tier", "header": tier_label, "body": tier}]
    return body


def _signing_key(service_account: Mapping[str, Any]) -> tuple[str, str, rsa.RSAPrivateKey]:
    try:
        email = str(service_account["client_email"])
        key_id = str(service_account["private_key_id"])
        pem = str(service_account["private_key"]).encode("ascii")
    except KeyError as exc:
        raise GoogleWalletError(f"service account key file lacks {exc.args[0]}") from exc
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise GoogleWalletError("the service account key must be RSA")
    return email, key_id, key


def google_save_url(
    service_account: Mapping[str, Any],
    *,
    issuer_id: str,
    class_suffix: str,
    object_suffix: str,
    card_number: str,
    account_name: str,
    balance: int,
    origins: Sequence[str],
    program_name: str,
    now: datetime,
    tier: str | None = None,
    program_logo_url: str | None = None,
) -> str:
    """``https://pay.google.com/gp/v/save/<JWT>``: adds the member's card to Google Wallet.

    ``service_account`` is the parsed JSON key file (``client_email``, ``private_key``,
    ``private_key_id``). ``object_suffix`` is an opaque member id already in the Wallet-safe
    alphabet (use ``object_suffix_for`` to make one); it must not change for a member.
    """
    email, key_id, key = _signing_key(service_account)
    claims = {
        "iss": email,
        "aud": "google",
        "typ": "savetowallet",
        "iat": unix_seconds(now),
        "origins": list(origins),
        "payload": {
            "loyaltyClasses": [
                loyalty_class(
                    issuer_id=issuer_id,
                    class_suffix=class_suffix,
                    program_name=program_name,
                    program_logo_url=program_logo_url,
                )
            ],
            "loyaltyObjects": [
                loyalty_object(
                    issuer_id=issuer_id,
                    class_suffix=class_suffix,
                    object_suffix=object_suffix,
                    card_number=card_number,
                    account_name=account_name,
                    balance=balance,
                    tier=tier,
                )
            ],
        },
    }
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": key_id})
    return SAVE_URL_PREFIX + token


def loyalty_object_patch(
    *,
    issuer_id: str,
    object_suffix: str,
    balance: int,
    account_name: str | None = None,
    tier: str | None = None,
    points_label: str = "Points",
    tier_label: str = "Tier",
) -> tuple[str, dict[str, Any]]:
    """``(object_id, body)`` of the PATCH that brings a member's object up to date."""
    body: dict[str, Any] = {"loyaltyPoints": _points(balance, points_label)}
    if account_name is not None:
        body["accountName"] = account_name
    if tier is not None:
        body["textModulesData"] = [{"id": "tier", "header": tier_label, "body": tier}]
    return object_id(issuer_id, object_suffix), body


@dataclass(frozen=True)
class WalletRequest:
    """One Wallet REST call, ready for any HTTP client (OAuth scope: ``ISSUER_SCOPE``)."""

    method: str
    url: str
    json: dict[str, Any]
    scope: str = ISSUER_SCOPE


def patch_request(object_id_: str, body: dict[str, Any]) -> WalletRequest:
    """The PATCH of ``loyaltyObject/{id}`` with ``body`` (from ``loyalty_object_patch``)."""
    issuer, _, suffix = object_id_.partition(".")
    object_id(issuer, suffix)  # validates both parts
    return WalletRequest(
        method="PATCH", url=f"{API_BASE}/loyaltyObject/{quote(object_id_, safe='')}", json=body
    )


class GoogleWalletClient(Protocol):
    """Sends Wallet REST requests with an OAuth token for ``ISSUER_SCOPE``."""

    async def send(self, request: WalletRequest) -> int:
        """Send ``request``; return the HTTP status."""
        ...


class RecordingGoogleWalletClient:
    """Keeps requests instead of sending them (development and tests)."""

    def __init__(self) -> None:
        self.requests: list[WalletRequest] = []

    async def send(self, request: WalletRequest) -> int:
        self.requests.append(request)
        return 200


def make_dev_service_account(
    *, project_id: str = "happy-dev", name: str = "wallet"
) -> dict[str, str]:
    """A service-account key file (as a dict) with a fresh RSA key, for development and tests."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    email = f"{name}@{project_id}.iam.gserviceaccount.com"
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": secrets.token_hex(20),
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**21)),
        "token_uri": "https://oauth2.googleapis.com/token",
    }
