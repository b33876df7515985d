"""Earn-rule arithmetic and smaller rules of the door (the SDL snapshot: tests/graphql)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.db import Database
from app.demo import load_demo
from app.partners.earn_rule_models import EarnModifier, EarnRate, ModifierKind
from app.partners.earn_rules import PartnerRules
from app.receipts.scoring import partner_rule
from auth.api_key_models import PartnerApiKey
from tests.helpers import Api
from tests.pos.conftest import Member, Pos, receipt


def test_exclusion_wins_and_the_higher_multiplier_applies() -> None:
    rules = PartnerRules(
        partner_id=1,
        currency="EUR",
        rate_points=1,
        rate_per_amount=100,
        modifiers={
            (ModifierKind.BRAND, "mango"): 150,
            (ModifierKind.CATEGORY, "shoes"): 300,
            (ModifierKind.CATEGORY, "gift cards"): 0,
            (ModifierKind.CATEGORY, "sale"): 50,
        },
    )
    assert partner_rule(rules, "Mango", "Shoes").multiplier_pct == 300
    assert partner_rule(rules, "MANGO ", None).rule == "brand:mango"
    assert partner_rule(rules, "Mango", "Gift Cards").multiplier_pct == 0
    assert partner_rule(rules, None, "sale").multiplier_pct == 50
    assert partner_rule(rules, "Other", "other").multiplier_pct == 100
    assert partner_rule(rules, None, None).rule is None


async def test_demo_rules_are_idempotent(db: Database) -> None:
    for _ in range(2):
        async with db.unit_of_work() as session:
            await load_demo(session, clock.now())
    async with db.read_session() as session:
        rates = (await session.execute(select(EarnRate))).scalars().all()
        modifiers = (await session.execute(select(EarnModifier))).scalars().all()
    assert len(rates) == 5 * 3  # five partners x (EUR, ALL, MKD)
    assert len(modifiers) == 9


async def test_higher_category_bonus_at_neptun_in_euros(neptun: Pos, member: Member) -> None:
    lines = [
        {
            "sku": "CBL",
            "name": "Kabllo USB-C",
            "brand": "Neptun",
            "category": "Accessories",
            "quantity": "2",
            "unitPrice": 1250,
            "amount": 2500,
        },
        {
            "sku": "GC50",
            "name": "Kartë dhuratë",
            "category": "Gift cards",
            "quantity": "1",
            "unitPrice": 5000,
            "amount": 5000,
        },
        {
            "sku": "TV55",
            "name": 'TV 55"',
            "brand": "Samsung",
            "category": "tv",
            "quantity": "1",
            "unitPrice": 59999,
            "amount": 59999,
        },
    ]
    answer = await neptun.submit(receipt("N-7", member.card, currency="EUR", lines=lines))
    # 25.00 x 2 = 50 + 599.99 x 1 = 599.99 -> 649.99 -> 649; gift card excluded.
    assert answer["pointsEarned"] == 649
    assert sum(item["points"] for item in answer["breakdown"]) == 649
    kinds = {item["kind"]: item for item in answer["breakdown"]}
    assert kinds["CATEGORY"]["rule"] == "category:accessories"
    assert kinds["CATEGORY"]["points"] == 25
    assert kinds["EXCLUDED"]["amount"] == 5000


async def test_future_receipts_and_bad_phones_are_rejected(spar: Pos, member: Member) -> None:
    future = (clock.now() + timedelta(hours=1)).isoformat()
    result = await spar.submit(receipt("F-1", member.card, issued_at=future))
    assert (result["code"], result["field"]) == ("INVALID_INPUT", "issuedAt")
    both = await spar.submit(receipt("F-2", member.card, phone="+355691234567"))
    assert (both["code"], both["field"]) == ("INVALID_INPUT", "cardNumber")
    bad_phone = await spar.submit(receipt("F-3", None, phone="12"))
    assert bad_phone["code"] == "INVALID_PHONE"


async def test_deleted_member_card_is_not_found(spar: Pos, member: Member, api: Api) -> None:
    body = await api.gql("mutation { deleteAccount { __typename } }", token=member.token)
    assert body["data"]["deleteAccount"]["__typename"] == "AccountDeleted"
    result = await spar.submit(receipt("D-1", member.card))
    assert result["code"] == "CARD_NOT_FOUND"


async def test_key_use_is_recorded(spar: Pos, db: Database) -> None:
    body = await spar.gql("query { store { code currency partnerName } }")
    assert body["data"]["store"] == {
        "code": "SPAR-TIR-01",
        "currency": "ALL",
        "partnerName": "Spar",
    }
    async with db.read_session() as session:
        key = (await session.execute(select(PartnerApiKey))).scalar_one()
    assert key.last_used_at is not None
    assert key.secret_hash not in (spar.key or "")
    assert key.prefix in (spar.key or "")


def test_app_models_registers_the_pos_tables_for_alembic() -> None:
    """Alembic sees only what ``app.models`` imports (a fresh interpreter, nothing else)."""
    import subprocess
    import sys

    code = "import app.models; from app.base import Base; print(' '.join(sorted(Base.metadata.tables)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    for table in (
        "partner_api_keys",
        "earn_rates",
        "earn_modifiers",
        "receipts",
        "receipt_lines",
        "receipt_refunds",
        "reward_levels",
        "reward_claims",
        "vouchers",
        "voucher_redemptions",
    ):
        assert table in out
