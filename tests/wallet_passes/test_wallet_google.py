"""Google Wallet save link: the JWT is verified with the service account's public key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from wallet_passes.google import (
    ISSUER_SCOPE,
    SAVE_URL_PREFIX,
    GoogleWalletError,
    RecordingGoogleWalletClient,
    google_save_url,
    loyalty_object_patch,
    make_dev_service_account,
    object_suffix_for,
    patch_request,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ISSUER = "3388000000000000000"


@pytest.fixture(scope="module")
def account() -> dict[str, str]:
    return make_dev_service_account()


def save_url(account: dict[str, str], **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "issuer_id": ISSUER,
        "class_suffix": "happy_card",
        "object_suffix": "m-7f3a9c",
        "card_number": "2900000000017",
        "account_name": "Arbër Hoxha",
        "balance": 1280,
        "origins": ["https://happy.example"],
        "program_name": "Happy",
        "now": NOW,
    }
    arguments.update(overrides)
    return google_save_url(account, **arguments)


def decode(account: dict[str, str], url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    assert url.startswith(SAVE_URL_PREFIX)
    token = url[len(SAVE_URL_PREFIX) :]
    public_key = serialization.load_pem_private_key(
        account["private_key"].encode(), password=None
    ).public_key()
    claims = jwt.decode(
        token,
        public_key,  # type: ignore[arg-type]
        algorithms=["RS256"],
        audience="google",
        issuer=account["client_email"],
        options={"require": ["iss", "aud", "iat", "typ"]},
    )
    return jwt.get_unverified_header(token), claims


def test_save_jwt_claims(account: dict[str, str]) -> None:
    header, claims = decode(account, save_url(account, tier="Gold"))
    assert header == {"alg": "RS256", "typ": "JWT", "kid": account["private_key_id"]}
    assert claims["iss"] == account["client_email"]
    assert claims["aud"] == "google"
    assert claims["typ"] == "savetowallet"
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["origins"] == ["https://happy.example"]
    (loyalty_object,) = claims["payload"]["loyaltyObjects"]
    assert loyalty_object == {
        "id": f"{ISSUER}.m-7f3a9c",
        "classId": f"{ISSUER}.happy_card",
        "state": "ACTIVE",
        "accountId": "2900000000017",
        "accountName": "Arbër Hoxha",
        "loyaltyPoints": {"label": "Points", "balance": {"int": 1280}},
        "barcode": {"type": "QR_CODE", "value": "2900000000017", "alternateText": "2900000000017"},
        "textModulesData": [{"id": "tier", "header": "Tier", "body": "Gold"}],
    }
    (loyalty_class,) = claims["payload"]["loyaltyClasses"]
    assert loyalty_class["id"] == f"{ISSUER}.happy_card"
    assert loyalty_class["programName"] == "Happy"
    assert loyalty_class["issuerName"] == "Happy"
    assert loyalty_class["reviewStatus"] == "UNDER_REVIEW"


def test_logo_goes_into_class(account: dict[str, str]) -> None:
    _, claims = decode(account, save_url(account, program_logo_url="https://happy.example/l.png"))
    assert claims["payload"]["loyaltyClasses"][0]["programLogo"] == {
        "sourceUri": {"uri": "https://happy.example/l.png"}
    }


def test_signature_from_another_key_is_rejected(account: dict[str, str]) -> None:
    other = make_dev_service_account()
    with pytest.raises(jwt.InvalidSignatureError):
        decode(other | {"client_email": account["client_email"]}, save_url(account))


@pytest.mark.parametrize("suffix", ["", "a b", "x/y", "ü", "a" * 201, "m+1="])
def test_object_suffix_is_validated(account: dict[str, str], suffix: str) -> None:
    with pytest.raises(GoogleWalletError):
        save_url(account, object_suffix=suffix)


def test_object_suffix_for_is_safe_and_injective() -> None:
    raw_ids = ["m+1=", "m_2b1_3d", "m_1", "a b", "ü", "plain-id.1"]
    suffixes = [object_suffix_for(raw) for raw in raw_ids]
    assert len(set(suffixes)) == len(raw_ids)
    assert object_suffix_for("plain-id.1") == "plain-id.1"
    for suffix in suffixes:
        assert suffix.replace("_", "").replace("-", "").replace(".", "").isalnum()


def test_bad_issuer_and_account_are_refused(account: dict[str, str]) -> None:
    with pytest.raises(GoogleWalletError):
        save_url(account, issuer_id="happy")
    with pytest.raises(GoogleWalletError, match="private_key_id"):
        save_url({k: v for k, v in account.items() if k != "private_key_id"})


async def test_patch_request_for_balance_change() -> None:
    object_id, body = loyalty_object_patch(
        issuer_id=ISSUER, object_suffix="m-7f3a9c", balance=1300, tier="Silver"
    )
    assert object_id == f"{ISSUER}.m-7f3a9c"
    assert body == {
        "loyaltyPoints": {"label": "Points", "balance": {"int": 1300}},
        "textModulesData": [{"id": "tier", "header": "Tier", "body": "Silver"}],
    }
    request = patch_request(object_id, body)
    assert request.method == "PATCH"
    assert request.url == (
        f"https://walletobjects.googleapis.com/walletobjects/v1/loyaltyObject/{ISSUER}.m-7f3a9c"
    )
    assert request.json is body
    assert request.scope == ISSUER_SCOPE
    client = RecordingGoogleWalletClient()
    assert await client.send(request) == 200
    assert client.requests == [request]


def test_patch_request_refuses_bad_id() -> None:
    with pytest.raises(GoogleWalletError):
        patch_request("../../issuer", {})
