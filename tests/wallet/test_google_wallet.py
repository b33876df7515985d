"""me.card.googleWalletSaveUrl: a JWT that verifies with the service account's public key."""

from __future__ import annotations

import json

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from app.db import Database
from app.wallet.google_client import GoogleRestClient
from tests.helpers import Api
from tests.wallet.conftest import member_card
from wallet_passes.google import SAVE_URL_PREFIX, make_dev_service_account, patch_request


async def test_save_url_jwt_verifies_and_carries_the_card(api: Api, app, settings):
    _, me = await member_card(api)
    url = me["card"]["googleWalletSaveUrl"]
    assert url.startswith(SAVE_URL_PREFIX)
    token = url.removeprefix(SAVE_URL_PREFIX)

    account = app.state.runtime.wallet.google_service_account
    assert (settings.wallet_dev_dir / "google-service-account.json").exists()
    private = serialization.load_pem_private_key(account["private_key"].encode(), password=None)
    public = private.public_key()
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "RS256" and header["kid"] == account["private_key_id"]
    claims = jwt.decode(token, public, algorithms=["RS256"], audience="google")
    assert claims["iss"] == account["client_email"]
    assert claims["typ"] == "savetowallet"
    assert claims["origins"] == list(settings.google_origins)
    [obj] = claims["payload"]["loyaltyObjects"]
    issuer = settings.google_issuer_id
    assert obj["id"].startswith(f"{issuer}.")
    suffix = obj["id"].removeprefix(f"{issuer}.")
    assert me["card"]["number"] not in suffix
    assert obj["classId"] == f"{issuer}.{settings.google_class_suffix}"
    assert obj["state"] == "ACTIVE"
    assert obj["accountId"] == me["card"]["number"]
    assert obj["accountName"] == "Happy"
    assert obj["loyaltyPoints"]["balance"] == {"int": 80}
    assert obj["barcode"] == {
        "type": "QR_CODE",
        "value": me["card"]["number"],
        "alternateText": me["card"]["number"],
    }

    other = make_dev_service_account()
    other_key = serialization.load_pem_private_key(other["private_key"].encode(), password=None)
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, other_key.public_key(), algorithms=["RS256"], audience="google")


async def test_rest_client_gets_a_token_then_patches():
    account = make_dev_service_account()
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "at-1", "expires_in": 3600})
        return httpx.Response(200, json={})

    account["token_uri"] = "https://oauth2.example/token"
    client = GoogleRestClient(account, transport=httpx.MockTransport(handler))
    request = patch_request("3388000000000000000.abc", {"loyaltyPoints": {"balance": {"int": 5}}})
    assert await client.send(request) == 200
    assert await client.send(request) == 200
    await client.aclose()
    assert seen[0].url.path == "/token"
    assert len([r for r in seen if r.url.path == "/token"]) == 1  # token reused
    grant = dict(x.split("=") for x in seen[0].content.decode().split("&"))
    assertion = jwt.decode(
        grant["assertion"],
        serialization.load_pem_private_key(account["private_key"].encode(), None).public_key(),
        algorithms=["RS256"],
        audience="https://oauth2.example/token",
    )
    assert assertion["scope"] == "https://www.googleapis.com/auth/wallet_object.issuer"
    patch = seen[1]
    assert patch.method == "PATCH"
    assert patch.headers["authorization"] == "Bearer at-1"
    assert json.loads(patch.content) == {"loyaltyPoints": {"balance": {"int": 5}}}


async def test_google_object_not_saved_is_dropped(api: Api, app, db: Database):
    from app.events.outbox import OutboxStatus
    from tests.wallet.conftest import member_id_of, outbox, post_points

    await member_card(api)

    class NotSaved:
        async def send(self, request):  # type: ignore[no-untyped-def]
            return 404

    app.state.runtime.wallet.__dict__["google"] = NotSaved()
    await post_points(db, await member_id_of(db), 10)
    [row] = await outbox(db)
    assert row.status == OutboxStatus.DROPPED


async def test_deleting_the_account_empties_the_google_object(api: Api, app, db: Database):
    """The Google object is Google's: on deletion it keeps no name and no points."""
    token, _me = await member_card(api)
    await api.gql(
        'mutation { updateProfile(input: {firstName: "Arta"}) { __typename } }', token=token
    )
    body = await api.gql("mutation { deleteAccount { deletedAt } }", token=token)
    assert body["data"]["deleteAccount"]["deletedAt"]
    google = app.state.runtime.wallet.google
    last = google.requests[-1]
    assert last.method == "PATCH"
    assert last.json["loyaltyPoints"]["balance"] == {"int": 0}
    assert last.json["accountName"] == "Happy" and last.json["state"] == "INACTIVE"
    assert all("Arta" not in str(r.json) for r in google.requests[-1:])
