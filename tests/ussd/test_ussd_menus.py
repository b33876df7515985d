"""The USSD door walked as a handset through the aggregator convention: registration,
balance, vouchers, receipts, a claim and a language change, in Albanian and English."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from app import clock
from app.db import Database
from app.members import service as members
from app.members.models import Member, RegistrationChannel
from app.rewards.models import RewardClaim, Voucher
from app.settings import Settings
from tests.conftest import with_settings
from tests.helpers import Outbox
from tests.pos.conftest import Pos, demo, make_key, receipt
from tests.ussd.conftest import PHONE, Handset, registered


async def claims_of(db: Database, member_id: int) -> int:
    async with db.read_session() as session:
        found = await session.execute(
            select(func.count()).select_from(RewardClaim).where(RewardClaim.member_id == member_id)
        )
        count: int = found.scalar_one()
    return count


async def test_registration_in_albanian_credits_the_bonus_and_sends_the_card(
    handset: Handset, db: Database, outbox: Outbox
) -> None:
    welcome = await handset.dial()
    assert welcome.startswith("CON Mire se erdhet ne Happy!")
    assert "1 Regjistrohu" in welcome and "2 Kushtet" in welcome
    reply = await handset.press("1")
    assert reply.startswith("CON Jeni anetar i Happy!") and "Pike: 80" in reply
    async with db.read_session() as session:
        member = (
            await session.execute(select(Member).where(Member.phone_e164 == PHONE))
        ).scalar_one()
        cards = await members.shown_cards(session, [member.id])
    assert member.registration_channel == RegistrationChannel.USSD
    assert member.language == "sq"
    card = cards[member.id].number
    assert f"Karta: {card}" in reply
    sms = outbox.messages(PHONE)
    assert len(sms) == 1 and card in sms[0]["text"] and "80" in sms[0]["text"]
    menu = await handset.press("00")
    assert "1 Piket" in menu and "4 Merr shperblim" in menu
    assert "Pike ne dispozicion: 80" in await handset.press("1")


async def test_registration_in_english_and_terms(
    handset: Handset, db: Database, outbox: Outbox
) -> None:
    await handset.dial()
    assert "1 Join" in await handset.press("3")
    terms = await handset.press("2")
    assert "http://127.0.0.1:8000/terms" in terms and "1 Join" in terms
    assert "You are a Happy member!" in await handset.press("1")
    assert "1 Points" in await handset.press("00")
    async with db.read_session() as session:
        language = (
            await session.execute(select(Member.language).where(Member.phone_e164 == PHONE))
        ).scalar_one()
    assert language == "en"
    assert "Welcome to Happy" in outbox.messages(PHONE)[0]["text"]
    # The next dialogue starts at the member's menu, in English.
    assert "1 Points" in await handset.walk()


async def test_welcome_bonus_once_ever_also_after_deletion(handset: Handset, db: Database) -> None:
    member_id = await registered(handset, db)
    async with db.unit_of_work() as session:
        await members.delete_account(session, member_id=member_id, now=clock.now())
    again = await handset.walk("1")
    assert "Jeni anetar i Happy!" in again and "Pike: 0" in again
    assert "Pike ne dispozicion: 0" in await handset.press("00", "1")


async def test_an_existing_member_dialling_sees_the_menu(handset: Handset, db: Database) -> None:
    await registered(handset, db)
    assert "1 Piket" in await handset.walk()
    # "1" now means balance, not a second registration.
    assert "Pike ne dispozicion: 80" in await handset.walk("1")


@pytest.fixture
async def spar(db: Database, settings: Settings, client: httpx.AsyncClient) -> Pos:
    await demo(db)
    return Pos(client, await make_key(db, settings, "SPAR-TIR-01"))


async def test_balance_vouchers_receipts_claim_and_language(
    handset: Handset, db: Database, spar: Pos
) -> None:
    member_id = await registered(handset, db, points=5000)
    async with db.read_session() as session:
        card = (await members.shown_cards(session, [member_id]))[member_id].number
    accepted = await spar.submit(receipt("USSD-R1", card))
    assert accepted["__typename"] == "ReceiptAccepted", accepted

    balance = await handset.walk("1")
    points = 80 + 5000 + accepted["pointsEarned"]
    assert f"Pike ne dispozicion: {points}" in balance
    assert "Skadojne" not in balance  # nothing expires within 30 days
    assert "Mund te merrni nivelin 1" in balance

    receipts = await handset.press("0", "3")
    assert "Faturat e fundit:" in receipts and "Spar" in receipts
    assert f"+{accepted['pointsEarned']} p" in receipts

    levels = await handset.press("00", "4")
    assert "1 5000 pike: 6 kupona 24.00 EUR" in levels
    assert "2 10000 pike: 5 kupona 48.00 EUR" in levels
    short = await handset.press("2")
    assert "Niveli 2 kerkon 10000 pike" in short
    confirm = await handset.press("0", "1")
    assert "Niveli 1: 6 kupona x 4.00 EUR per 5000 pike" in confirm and "1 Po" in confirm
    claimed = await handset.press("1")
    assert "U mor niveli 1: 6 kupona, 24.00 EUR gjithsej" in claimed
    assert f"Pike te mbetura: {points - 5000}" in claimed
    assert await claims_of(db, member_id) == 1

    vouchers = await handset.press("00", "2")
    async with db.read_session() as session:
        codes = list(
            (
                await session.execute(
                    select(Voucher.code).where(Voucher.member_id == member_id).order_by(Voucher.id)
                )
            ).scalars()
        )
    assert len(codes) == 6
    shown = [
        code for code in codes if f"{code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}" in vouchers
    ]
    assert shown and "4.00 EUR" in vouchers and "9 Me shume" in vouchers
    rest = await handset.press("9")
    assert "0 Kthehu 00 Menuja" in rest
    seen = [code for code in codes if f"{code[:4]}-{code[4:8]}" in vouchers + rest]
    assert len(seen) == 6, handset.screens[-3:]  # the two pages show every voucher once
    assert await handset.press("0") == vouchers  # back to the first page

    choose = await handset.press("00", "6")
    assert "Zgjidhni gjuhen:\n1 Shqip\n2 English" in choose
    changed = await handset.press("2")
    assert "Language changed: English." in changed
    assert "1 Points" in await handset.press("00")
    assert "Available points" in await handset.walk("1")
    assert "Gjuha u ndryshua: shqip." in await handset.walk("6", "1")
    assert await claims_of(db, member_id) == 1


async def test_an_invalid_choice_re_prompts_with_a_hint(handset: Handset, db: Database) -> None:
    assert (await handset.walk("7")).startswith("CON Zgjedhje e pavlefshme.\nMire se erdhet")
    await registered(handset, db)
    again = await handset.walk("5")  # the prize item is not offered (yet)
    assert again.startswith("CON Zgjedhje e pavlefshme.\nHappy")
    assert "Pike ne dispozicion" in await handset.press("1")
    assert "Zgjedhje e pavlefshme." in await handset.press("#")


async def test_a_resend_gets_the_same_answer_and_claims_once(
    handset: Handset, db: Database
) -> None:
    await demo(db)
    member_id = await registered(handset, db, points=10000)
    await handset.walk("4", "1")
    first = await handset.press("1")
    assert "U mor niveli 1" in first
    for _ in range(3):
        response = await handset.post("*".join(handset.inputs))
        assert response.text == first
    assert await claims_of(db, member_id) == 1
    # A new claim in the same dialogue is a new step: a second claim.
    second = await handset.press("00", "4", "1", "1")
    assert "U mor niveli 1" in second and "Pike te mbetura: 80" in second
    assert await claims_of(db, member_id) == 2


async def test_claims_are_limited_per_number(
    handset: Handset, db: Database, app: object, settings: Settings, client: httpx.AsyncClient
) -> None:
    from app.main import create_app

    limited = create_app(with_settings(settings, ussd_claims_per_phone_per_day=1), db)
    transport = httpx.ASGITransport(app=limited, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        phone = Handset(c)
        await demo(db)
        member_id = await registered(phone, db, points=10000)
        assert "U mor niveli 1" in await phone.walk("4", "1", "1")
        refused = await phone.walk("4", "1", "1")
        assert "Shume kerkesa. Provoni perseri pas" in refused and "00 Menuja" in refused
    assert await claims_of(db, member_id) == 1


async def test_registrations_are_limited_per_number(db: Database, settings: Settings) -> None:
    from app.main import create_app

    limited = create_app(with_settings(settings, ussd_registrations_per_phone_per_day=1), db)
    transport = httpx.ASGITransport(app=limited, client=("203.0.113.10", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        phone = Handset(c)
        member_id = await registered(phone, db)
        async with db.unit_of_work() as session:
            await members.delete_account(session, member_id=member_id, now=clock.now())
        refused = await phone.walk("1")
        assert refused.startswith("END Shume kerkesa.")


async def test_insufficient_points_cannot_claim(handset: Handset, db: Database) -> None:
    await demo(db)
    member_id = await registered(handset, db)
    assert "Niveli 1 kerkon 5000 pike; keni 80." in await handset.walk("4", "1")
    # Pressing 1 anyway: the core refuses, nothing is claimed.
    assert "Nuk keni pike te mjaftueshme." in await handset.press("1")
    assert await claims_of(db, member_id) == 0
