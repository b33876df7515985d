"""Signed URL tokens and rotating card tokens."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from wallet_passes.dynamic_qr import (
    CardTokenExpired,
    CardTokenInvalid,
    issue_card_token,
    read_card_token,
    resolve_scanned_card,
)
from wallet_passes.qr import UrlTokenExpired, UrlTokenInvalid, sign_url_token, verify_url_token

SECRET = b"0123456789abcdef0123456789abcdef"
OTHER = b"fedcba9876543210fedcba9876543210"
NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
CARD = "2900000000017"


# --- URL tokens -------------------------------------------------------------------------


def test_url_token_round_trip_and_expiry() -> None:
    token = sign_url_token(SECRET, "qr/2900000000017.png", 300, NOW)
    assert verify_url_token(SECRET, token, NOW) == "qr/2900000000017.png"
    assert verify_url_token(SECRET, token, NOW + timedelta(seconds=299)) == "qr/2900000000017.png"
    with pytest.raises(UrlTokenExpired):
        verify_url_token(SECRET, token, NOW + timedelta(seconds=300))


def test_url_token_is_url_safe() -> None:
    token = sign_url_token(SECRET, "passes/ü ~?&=.pkpass", 60, NOW)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert verify_url_token(SECRET, token, NOW) == "passes/ü ~?&=.pkpass"


def test_url_token_rejects_other_secret_and_tampering() -> None:
    token = sign_url_token(SECRET, "qr/1.png", 60, NOW)
    with pytest.raises(UrlTokenInvalid):
        verify_url_token(OTHER, token, NOW)
    payload, mac = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[-5] ^= 1  # change the subject
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode() + "." + mac
    with pytest.raises(UrlTokenInvalid):
        verify_url_token(SECRET, forged, NOW)
    # Extending the expiry is tampering too, and is reported as such, not as "expired".
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[7] = (raw[7] + 100) % 256
    forged = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode() + "." + mac
    with pytest.raises(UrlTokenInvalid):
        verify_url_token(SECRET, forged, NOW + timedelta(days=1))


@pytest.mark.parametrize("bad", ["", ".", "a.b.c", "!!!.???", "x" * 3000, "AAAA.AAAA"])
def test_url_token_rejects_garbage(bad: str) -> None:
    with pytest.raises(UrlTokenInvalid):
        verify_url_token(SECRET, bad, NOW)


def test_url_token_needs_aware_time_and_real_secret() -> None:
    with pytest.raises(ValueError):
        sign_url_token(SECRET, "a", 60, datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        sign_url_token(b"short", "a", 60, NOW)


# --- rotating card tokens ---------------------------------------------------------------


def test_card_token_round_trip() -> None:
    token = issue_card_token(SECRET, CARD, NOW)
    assert token.startswith(f"H1.{CARD}.")
    assert len(token) <= 45
    assert read_card_token(SECRET, token, NOW) == CARD
    assert read_card_token(SECRET, token, NOW + timedelta(seconds=59)) == CARD


def test_expired_replay_is_refused() -> None:
    token = issue_card_token(SECRET, CARD, NOW, ttl=60)
    with pytest.raises(CardTokenExpired):
        read_card_token(SECRET, token, NOW + timedelta(seconds=60))
    with pytest.raises(CardTokenExpired):
        resolve_scanned_card(SECRET, token, NOW + timedelta(hours=5))


def test_token_bound_to_card_number() -> None:
    token = issue_card_token(SECRET, CARD, NOW)
    swapped = token.replace(CARD, "2900000000024")
    with pytest.raises(CardTokenInvalid):
        read_card_token(SECRET, swapped, NOW)


def test_tampered_time_or_lifetime_or_mac_is_invalid() -> None:
    token = issue_card_token(SECRET, CARD, NOW, ttl=60)
    prefix, card, issued, ttl, mac = token.split(".")
    later = issue_card_token(SECRET, CARD, NOW + timedelta(minutes=10)).split(".")[2]
    for forged in (
        ".".join([prefix, card, later, ttl, mac]),  # re-dated
        ".".join([prefix, card, issued, "2S", mac]),  # lifetime stretched to 100 s
        ".".join([prefix, card, issued, ttl, ("A" if mac[0] != "A" else "B") + mac[1:]]),
        ".".join([prefix, card, "0" + issued, ttl, mac]),  # non-canonical number
        token.lower(),
        token + ".X",
    ):
        with pytest.raises(CardTokenInvalid):
            read_card_token(SECRET, forged, NOW + timedelta(minutes=10))


def test_token_from_other_secret_or_future_is_invalid() -> None:
    with pytest.raises(CardTokenInvalid):
        read_card_token(OTHER, issue_card_token(SECRET, CARD, NOW), NOW)
    future = issue_card_token(SECRET, CARD, NOW + timedelta(minutes=5))
    with pytest.raises(CardTokenInvalid):
        read_card_token(SECRET, future, NOW)


def test_resolve_accepts_static_card_number_and_token() -> None:
    assert resolve_scanned_card(SECRET, f" {CARD}\n", NOW) == CARD
    assert resolve_scanned_card(SECRET, issue_card_token(SECRET, CARD, NOW), NOW) == CARD


@pytest.mark.parametrize("scanned", ["", "12", "HELLO", "H1.", "2900-0000-0001-7", "H2.1.2.3.4"])
def test_resolve_refuses_anything_else(scanned: str) -> None:
    with pytest.raises(CardTokenInvalid):
        resolve_scanned_card(SECRET, scanned, NOW)


@pytest.mark.parametrize("ttl", [0, -1, 3601])
def test_issue_refuses_bad_lifetime(ttl: int) -> None:
    with pytest.raises(ValueError):
        issue_card_token(SECRET, CARD, NOW, ttl=ttl)


def test_issue_refuses_bad_card_number() -> None:
    with pytest.raises(ValueError):
        issue_card_token(SECRET, "ABC123", NOW)
