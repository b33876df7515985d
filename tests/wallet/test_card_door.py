"""me.card through the member door: QR images, signed links, the dynamic token."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import httpx
import pytest
from PIL import Image
from sqlalchemy import select

from app.db import Database
from app.errors import DomainError, ErrorCode
from app.members.models import Card
from app.wallet.scan import resolve_member
from tests.helpers import Api, decode, rasterise_segno_svg
from tests.wallet.conftest import PHONE_A, PHONE_B, local_path, member_card
from wallet_passes.dynamic_qr import read_card_token


async def test_card_qr_svg_and_png_decode_to_the_card_number(api: Api, client: httpx.AsyncClient):
    _, me = await member_card(api)
    card = me["card"]
    number = card["number"]

    _, svg_image = rasterise_segno_svg(card["qrSvg"])
    svg_results = decode(svg_image)
    assert [r.text for r in svg_results] == [number]
    assert svg_results[0].ec_level == "M"

    response = await client.get(local_path(card["qrPngUrl"]))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert "no-store" in response.headers["cache-control"]
    png_results = decode(Image.open(io.BytesIO(response.content)))
    assert [r.text for r in png_results] == [number]
    # The link names neither the card number nor the member.
    assert number not in card["qrPngUrl"] and number not in card["appleWalletUrl"]
    assert me["id"] not in card["qrPngUrl"]


async def test_qr_png_is_cached_in_storage(api: Api, client: httpx.AsyncClient, settings):
    _, me = await member_card(api)
    first = await client.get(local_path(me["card"]["qrPngUrl"]))
    stored = list((settings.storage_dir / "qr").glob("*.png"))
    assert len(stored) == 1 and stored[0].read_bytes() == first.content
    assert me["card"]["number"] not in stored[0].name
    stored[0].write_bytes(b"cached-png")
    again = await client.get(local_path(me["card"]["qrPngUrl"]))
    assert again.content == b"cached-png"
    assert len(list((settings.storage_dir / "qr").glob("*.png"))) == 1


async def test_expired_link_is_refused(api: Api, client: httpx.AsyncClient, frozen_now):
    _, me = await member_card(api)
    card = me["card"]
    frozen_now[0] = frozen_now[0] + timedelta(seconds=599)
    assert (await client.get(local_path(card["qrPngUrl"]))).status_code == 200
    frozen_now[0] = frozen_now[0] + timedelta(seconds=2)
    for url in (card["qrPngUrl"], card["appleWalletUrl"]):
        response = await client.get(local_path(url))
        assert response.status_code == 410
        assert response.content == b""


def _tamper(url: str) -> list[str]:
    path = local_path(url)
    stem, _, ext = path.rpartition(".")
    folder, _, token = stem.rpartition("/")
    payload, _, mac = token.partition(".")
    flipped = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1]
    return [
        f"{folder}/{flipped}.{mac}.{ext}",
        f"{folder}/{payload}.{mac[:-1]}{'A' if mac[-1] != 'A' else 'B'}.{ext}",
        f"{folder}/{payload}.{ext}",
        f"{folder}/garbage.{ext}",
    ]


async def test_tampered_links_are_refused(api: Api, client: httpx.AsyncClient):
    _, me = await member_card(api)
    for url in (me["card"]["qrPngUrl"], me["card"]["appleWalletUrl"]):
        for path in _tamper(url):
            response = await client.get(path)
            assert response.status_code == 404, path
            assert response.content == b""


async def test_another_members_card_is_unreachable(api: Api, client: httpx.AsyncClient):
    _, me_a = await member_card(api, PHONE_A)
    _, me_b = await member_card(api, PHONE_B)
    # No route takes a card number: guessing one gets nothing.
    for number in (me_a["card"]["number"], me_b["card"]["number"]):
        assert (await client.get(f"/files/card/{number}.png")).status_code == 404
        assert (await client.get(f"/wallet/passes/{number}.pkpass")).status_code == 404
    # A QR link can't be used as a pass link (the token names what it is for).
    qr_token = local_path(me_a["card"]["qrPngUrl"]).removeprefix("/files/card/")[: -len(".png")]
    assert (await client.get(f"/wallet/passes/{qr_token}.pkpass")).status_code == 404
    # Each member's link shows only their own card.
    png_b = await client.get(local_path(me_b["card"]["qrPngUrl"]))
    assert [r.text for r in decode(Image.open(io.BytesIO(png_b.content)))] == [
        me_b["card"]["number"]
    ]


async def test_card_fields_need_sign_in(api: Api):
    body = await api.gql("query { me { card { number qrPngUrl } } }")
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_dynamic_qr_token(api: Api, app, db: Database, frozen_now):
    frozen_now[0] = frozen_now[0].replace(microsecond=0)
    _, me = await member_card(api)
    dynamic = me["card"]["dynamicQr"]
    number = me["card"]["number"]
    keys = app.state.runtime.keys
    now = frozen_now[0]
    assert read_card_token(keys.card_token_secret, dynamic["token"], now) == number
    expires_at = datetime.fromisoformat(dynamic["expiresAt"])
    assert expires_at == now + timedelta(seconds=60)
    _, image = rasterise_segno_svg(dynamic["svg"])
    assert [r.text for r in decode(image)] == [dynamic["token"]]

    async with db.read_session() as session:
        owner = await session.scalar(select(Card.member_id).where(Card.number == number))
        assert owner is not None
        assert (await resolve_member(session, keys, dynamic["token"], now)).id == owner
        assert (await resolve_member(session, keys, number, now)).id == owner
        with pytest.raises(DomainError) as expired:
            await resolve_member(session, keys, dynamic["token"], expires_at)
        assert expired.value.code == ErrorCode.CARD_TOKEN_EXPIRED
        forged = dynamic["token"][:-1] + ("A" if dynamic["token"][-1] != "A" else "B")
        with pytest.raises(DomainError) as invalid:
            await resolve_member(session, keys, forged, now)
        assert invalid.value.code == ErrorCode.CARD_NOT_FOUND
        with pytest.raises(DomainError) as unknown:
            await resolve_member(session, keys, "7001000000000000", now)
        assert unknown.value.code == ErrorCode.CARD_NOT_FOUND


async def test_sign_in_answer_carries_the_cards_own_google_link(api: Api, outbox, frozen_now):
    query = """
    mutation($p: String!, $c: String!) { verifyOtp(phone: $p, code: $c) {
      __typename ... on Session { member { card { number googleWalletSaveUrl } } } } }"""
    await api.sign_up(PHONE_A)
    frozen_now[0] += timedelta(seconds=31)
    sent = await api.request_otp(PHONE_A)
    body = await api.gql(query, {"p": sent["phone"], "c": outbox.last_code(sent["phone"])})
    assert "errors" not in body, body  # no bearer token needed: the card knows its member
    card = body["data"]["verifyOtp"]["member"]["card"]
    assert card["googleWalletSaveUrl"].startswith("https://pay.google.com/gp/v/save/")
