"""Every screen of every menu fits the handset, in both languages, with long partner names,
long first names, many vouchers and receipts: counted as the gateway counts (GSM 03.38
septets, or UCS-2 if anything outside the alphabet slipped through)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import update

from app import clock
from app.db import Database
from app.members import service as members
from app.partners.models import Partner
from app.rewards import service as rewards
from app.settings import Settings
from tests.pos.conftest import Pos, demo, make_key, receipt
from tests.ussd.conftest import Handset, registered, screen_fits
from web.ussd import gsm, texts

LONG_NAME = "Supermarketi i Madh Shqiptar Çelësi Ëndrrave & Bashkëpunëtorët e Tij sh.p.k." * 2

# Every path of the menu tree for a member (claims and the language change last).
MEMBER_PATHS = [
    (),
    ("1",),
    ("2",),
    ("2", "9"),
    ("2", "9", "9"),
    ("2", "9", "9", "9"),
    ("2", "9", "0"),
    ("2", "7"),
    ("3",),
    ("3", "9"),
    ("3", "9", "9"),
    ("3", "7"),
    ("4",),
    ("4", "1"),
    ("4", "2"),
    ("4", "9"),
    ("4", "2", "1"),
    ("7",),
    ("6",),
    ("6", "7"),
    ("4", "1", "1"),
    ("4", "1", "1", "7"),
    ("6", "2"),
    ("6", "1"),
]
WELCOME_PATHS = [(), ("7",), ("2",), ("2", "7"), ("3",), ("3", "2"), ("3", "7")]


@pytest.fixture
async def busy_member(
    db: Database, settings: Settings, client: httpx.AsyncClient, handset: Handset
) -> Handset:
    """A member with a long name, 40 vouchers, 20 receipts at a partner with a long name."""
    await demo(db)
    async with db.unit_of_work() as session:
        await session.execute(update(Partner).values(name=LONG_NAME[:120]))
    member_id = await registered(handset, db, points=8 * 5000 + 200_000)
    async with db.unit_of_work() as session:
        await members.update_profile(
            session,
            member_id=member_id,
            changes={"first_name": "Ëndërdashurimëshpëtimtare Xhulieta"},
            now=clock.now(),
        )
        for index in range(8):
            await rewards.claim_reward(
                session, member_id=member_id, level=1, now=clock.now(), request_id=f"t{index}"
            )
    till = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    async with db.read_session() as session:
        card = (await members.shown_cards(session, [member_id]))[member_id].number
    for index in range(20):
        assert (await till.submit(receipt(f"LONG-{index}", card)))["__typename"] == (
            "ReceiptAccepted"
        )
    return handset


async def test_every_member_screen_fits_in_both_languages(busy_member: Handset) -> None:
    for language_path in (("6", "1"), ("6", "2")):
        await busy_member.walk(*language_path)
        for path in MEMBER_PATHS:
            await busy_member.walk(*path)  # each screen checked by the handset
    assert len(busy_member.screens) > 2 * len(MEMBER_PATHS)
    assert any("9 More" in s for s in busy_member.screens)
    assert any("9 Me shume" in s for s in busy_member.screens)
    assert any("Supermarketi" in s for s in busy_member.screens)


async def test_every_welcome_screen_fits(handset: Handset) -> None:
    for path in WELCOME_PATHS:
        await handset.walk(*path)
    await handset.walk("3", "1")  # registration in English
    handset.phone = "+355692223344"
    await handset.walk("1")  # and in Albanian


def test_every_text_with_the_longest_values_fits() -> None:
    values = {
        "url": "https://happy.example.al/terms",
        "card": "7001234567890123",
        "points": 99_999_999,
        "available": 99_999_999,
        "needed": 99_999_999,
        "level": 9,
        "name": ", " + "X" * 20,
        "date": "31.12.2099",
        "count": 99,
        "each": "9999.99 EUR",
        "total": "99999.99 EUR",
        "balance": 99_999_999,
        "wait": "23 ore",
        "code": "ABCD-EFGH-JKMN-PQ",
        "value": "9999.99 EUR",
        "partner": "X" * 20,
        "option": 8,
        "n": 99,
    }
    for language in texts.LANGUAGES:
        for key in texts._TEXTS[language]:
            if key.startswith("sms."):
                continue
            shown = gsm.to_gsm(texts.text(key, language, **values))
            screen_fits("CON " + gsm.to_gsm(texts.text("invalid", language)) + "\n" + shown)


def test_albanian_letters_are_transliterated_and_counted() -> None:
    assert gsm.to_gsm("Përshëndetje, çfarë Ç Ë") == "Pershendetje, cfare Ç E"
    assert gsm.to_gsm("Đorđević šćž") == "Dordevic scz"
    assert gsm.to_gsm("Здраво") == "??????"
    assert gsm.units("a" * 182) == (182, 182)
    assert gsm.units("€" * 91) == (182, 182)  # extension characters take two septets
    assert gsm.units("ë" * 10) == (10, 80)  # untransliterated: UCS-2
    assert not gsm.fits("ë" * 81) and gsm.fits("e" * 182)


async def test_no_screen_is_ever_cut_and_many_levels_are_offered_as_they_fit(
    busy_member: Handset, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """With eight big reward levels the list offers the ones that fit (each one pressable);
    the last-resort cut of a too-long screen never happens."""
    async with db.unit_of_work() as session:
        for level in range(3, 9):
            await rewards.set_level(
                session,
                level=level,
                points=level * 1_000_000,
                voucher_count=level * 3,
                voucher_value=99_999,
                currency="EUR",
                active=True,
                now=clock.now(),
            )
    for language_path in (("6", "1"), ("6", "2")):
        await busy_member.walk(*language_path)
        screen = await busy_member.walk("4")
        shown = [line for line in screen.splitlines() if line[:1].isdigit() and " " in line]
        assert 2 <= len(shown) < 8, screen
        assert "00" in screen  # the way back is never cut off
        for option in range(1, len(shown) + 1):
            reply = await busy_member.walk("4", str(option))
            assert reply.startswith("CON") and "00" in reply, reply
    assert "USSD screen too long" not in caplog.text
