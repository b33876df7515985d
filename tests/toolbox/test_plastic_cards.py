"""Plastic cards: batches from the CLI (CSV with valid check digits), linking through the
member door (errors as data, failed tries limited) and at the till (SMS code); a linked
plastic card earns and identifies like the digital card."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from app import clock
from app.db import Database
from app.members import plastic_cards
from app.members.cards import is_valid_card_number
from app.members.models import Card, CardKind, CardStatus
from tests.helpers import Api, Outbox
from tests.toolbox.conftest import Member, Pos, receipt

LINK = """
mutation($number: String!) {
  linkCard(number: $number) {
    __typename
    ... on CardLinked { linkedAt card { number } }
    ... on RateLimitedError { retryAfterSeconds }
    ... on Error { code message field }
  }
}"""

REQUEST_LINK = """
mutation($card: String!, $phone: String!) {
  requestCardLinkCode(cardNumber: $card, phone: $phone) {
    __typename
    ... on CardLinkCodeSent { expiresAt resendAfterSeconds }
    ... on Error { code message field }
  }
}"""

TILL_LINK = """
mutation($card: String!, $phone: String!, $code: String!) {
  linkPlasticCard(cardNumber: $card, phone: $phone, smsCode: $code) {
    __typename
    ... on PlasticCardLinked { cardNumber firstName linkedAt }
    ... on CodeError { attemptsLeft }
    ... on Error { code message field }
  }
}"""


async def new_cards(db: Database, count: int) -> list[str]:
    async with db.unit_of_work() as session:
        batch = await plastic_cards.create_batch(
            session, count=count, prefix=None, operator="test", now=clock.now()
        )
    return batch.numbers


async def link(api: Api, member: Member, number: str) -> dict[str, Any]:
    body = await api.gql(LINK, {"number": number}, token=member.token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["linkCard"]
    return result


async def test_card_batch_writes_a_csv_of_unassigned_cards(
    happy: Any, db: Database, tmp_path: Path
) -> None:
    out = tmp_path / "batch.csv"
    made = await happy("card", "batch", "create", "--count", "250", "--out", str(out))
    assert made.code == 0, made.err
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 250
    numbers = [row["card_number"] for row in rows]
    assert len(set(numbers)) == 250
    assert all(is_valid_card_number(n) and n.startswith("7002") for n in numbers)
    assert all(row["printed"].replace(" ", "") == row["card_number"] for row in rows)
    batch_id = rows[0]["batch"]
    assert batch_id in made.out and {row["batch"] for row in rows} == {batch_id}
    async with db.read_session() as session:
        stored = list(await session.scalars(select(Card).where(Card.batch == batch_id)))
    assert sorted(c.number for c in stored) == sorted(numbers)
    assert {(c.kind, c.status, c.member_id) for c in stored} == {
        (CardKind.PLASTIC, CardStatus.UNASSIGNED, None)
    }

    second = await happy("card", "batch", "create", "--count", "3", "--prefix", "8123")
    assert second.code == 0, second.err
    lines = second.out.splitlines()
    assert lines[0] == "batch,card_number,printed" and len(lines) == 4
    assert all(line.split(",")[1].startswith("8123") for line in lines[1:])

    listed = (await happy("card", "batch", "list")).out.splitlines()
    assert listed[0].split("\t")[:4] == ["BATCH", "PREFIX", "CARDS", "LINKED"]
    assert any(line.startswith(f"{batch_id}\t7002\t250\t0\t") for line in listed)

    # Bad input: typed one-line errors, nothing written.
    assert (await happy("card", "batch", "create", "--count", "0")).code == 2
    too_many = await happy("card", "batch", "create", "--count", "100001")
    assert too_many.code == 2 and "at most 100000" in too_many.err
    overlap = await happy("card", "batch", "create", "--count", "1", "--prefix", "70011")
    assert overlap.code == 1 and "overlaps the digital cards' prefix 7001" in overlap.err
    letters = await happy("card", "batch", "create", "--count", "1", "--prefix", "AB12")
    assert letters.code == 1 and "4 to 6 digits" in letters.err
    exists = await happy("card", "batch", "create", "--count", "1", "--out", str(out))
    assert exists.code == 2 and "exists already" in exists.err
    async with db.read_session() as session:
        assert (
            len(list(await session.scalars(select(Card.id).where(Card.kind == CardKind.PLASTIC))))
            == 253
        )


async def test_link_card_through_the_member_door(
    spar: Pos, api: Api, db: Database, member: Member
) -> None:
    first, second, closed = await new_cards(db, 3)
    async with db.unit_of_work() as session:
        await session.execute(
            update(Card).where(Card.number == closed).values(status=CardStatus.CLOSED)
        )

    linked = await link(api, member, " ".join(first[i : i + 4] for i in range(0, 16, 4)))
    assert linked["__typename"] == "CardLinked" and linked["card"]["number"] == first

    other = await api.sign_up("+355697654321")
    taken = await api.gql(LINK, {"number": first}, token=other["accessToken"])
    assert taken["data"]["linkCard"]["code"] == "CARD_ALREADY_LINKED"
    assert (await link(api, member, closed))["code"] == "CARD_CLOSED"
    unknown = await link(api, member, "7002000000000000")
    assert unknown["__typename"] == "CardError" and unknown["code"] == "CARD_NOT_FOUND"
    assert (await link(api, member, member.card))["code"] == "CARD_ALREADY_LINKED"  # digital

    # The plastic card earns at the till and the points land on the member's account.
    earned = await spar.submit(receipt("PLASTIC-1", first))
    assert earned["__typename"] == "ReceiptAccepted" and earned["pointsEarned"] > 0
    by_digital = await spar.submit(receipt("DIGITAL-1", member.card))
    assert by_digital["balance"] == earned["balance"] + by_digital["pointsEarned"]
    # The second card is still free.
    assert (await link(api, member, second))["__typename"] == "CardLinked"


async def test_failed_link_attempts_are_limited_per_member(
    coalition: None, api: Api, db: Database, member: Member
) -> None:
    (card,) = await new_cards(db, 1)
    for _ in range(plastic_cards.LINK_FAILURES):
        assert (await link(api, member, "7002999999999999"))["code"] == "CARD_NOT_FOUND"
    stopped = await link(api, member, card)
    assert stopped["__typename"] == "RateLimitedError" and stopped["retryAfterSeconds"] > 0
    async with db.read_session() as session:
        row = await session.scalar(select(Card).where(Card.number == card))
    assert row is not None and row.status == CardStatus.UNASSIGNED  # not enumerable


async def test_till_links_a_card_with_the_members_sms_code(
    spar: Pos, api: Api, db: Database, member: Member, outbox: Outbox
) -> None:
    (card,) = await new_cards(db, 1)
    variables = {"card": card, "phone": member.phone}
    sent = await spar.call(REQUEST_LINK, "requestCardLinkCode", variables)
    assert sent["__typename"] == "CardLinkCodeSent", sent
    code = outbox.last_code(member.phone)
    assert card[-4:] in outbox.messages(member.phone)[-1]["text"]

    wrong = "000000" if code != "000000" else "111111"
    refused = await spar.call(TILL_LINK, "linkPlasticCard", {**variables, "code": wrong})
    assert refused["__typename"] == "CodeError" and refused["attemptsLeft"] == 4
    # A code for this card cannot link another card.
    (other,) = await new_cards(db, 1)
    elsewhere = await spar.call(
        TILL_LINK, "linkPlasticCard", {"card": other, "phone": member.phone, "code": code}
    )
    assert elsewhere["__typename"] == "CodeError"

    linked = await spar.call(TILL_LINK, "linkPlasticCard", {**variables, "code": code})
    assert linked["__typename"] == "PlasticCardLinked" and linked["cardNumber"] == card
    earned = await spar.submit(receipt("TILL-LINKED-1", card))
    assert earned["__typename"] == "ReceiptAccepted" and earned["pointsEarned"] > 0

    again = await spar.call(REQUEST_LINK, "requestCardLinkCode", variables)
    assert again["code"] == "CARD_ALREADY_LINKED"
    nobody = await spar.call(
        REQUEST_LINK, "requestCardLinkCode", {"card": other, "phone": "+355690000001"}
    )
    assert nobody["code"] == "MEMBER_NOT_FOUND"
    bad_phone = await spar.call(REQUEST_LINK, "requestCardLinkCode", {"card": other, "phone": "12"})
    assert bad_phone["__typename"] == "InputError"


@pytest.mark.parametrize("text", ["", "7002", "abcd" * 4, "7" * 300])
async def test_link_card_rejects_malformed_numbers_as_data(
    coalition: None, api: Api, member: Member, text: str
) -> None:
    assert (await link(api, member, text))["code"] == "CARD_NOT_FOUND"
