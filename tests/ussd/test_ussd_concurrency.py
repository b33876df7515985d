"""Gateway resends racing each other (PostgreSQL: SQLite serialises writers)."""

from __future__ import annotations

import asyncio

from app.db import Database
from tests.conftest import requires_postgres
from tests.pos.conftest import demo, happy
from tests.ussd.conftest import Handset, registered
from tests.ussd.test_ussd_menus import claims_of


@requires_postgres
async def test_20_concurrent_repeats_of_a_claim_make_one_claim(
    handset: Handset, db: Database, cli_env: None
) -> None:
    await demo(db)
    member_id = await registered(handset, db, points=20000)
    await handset.walk("4", "1")
    text = "*".join([*handset.inputs, "1"])
    responses = await asyncio.gather(*(handset.post(text) for _ in range(20)))
    answers = {r.text for r in responses}
    assert len(answers) == 1, answers
    [answer] = answers
    assert "U mor niveli 1" in answer and "Pike te mbetura: 15080" in answer
    assert await claims_of(db, member_id) == 1
    assert await happy(["ledger", "check"]) == 0


@requires_postgres
async def test_concurrent_first_dials_of_new_numbers_register_each_once(
    handset: Handset, db: Database, cli_env: None
) -> None:
    await handset.dial()
    responses = await asyncio.gather(*(handset.post("1") for _ in range(10)))
    assert len({r.text for r in responses}) == 1
    assert "Pike: 80" in responses[0].text
    assert await happy(["ledger", "check"]) == 0
