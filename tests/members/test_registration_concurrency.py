"""Registration under real concurrency (PostgreSQL: SQLite serialises every writer)."""

from __future__ import annotations

import asyncio
from collections import Counter

from sqlalchemy import func, select

from app.db import Database
from app.ledger.models import PointsEntry
from app.members.models import Member
from tests.conftest import requires_postgres
from tests.helpers import VERIFY_OTP, Api, Outbox

PHONE = "+355 68 765 4321"
E164 = "+355687654321"


@requires_postgres
async def test_twenty_simultaneous_verifies_register_once(
    api: Api, outbox: Outbox, db: Database
) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    results = await asyncio.gather(
        *(api.gql(VERIFY_OTP, {"phone": PHONE, "code": code, "channel": "APP"}) for _ in range(20))
    )
    kinds = Counter(r["data"]["verifyOtp"]["__typename"] for r in results)
    assert kinds["Session"] == 1, kinds
    async with db.read_session() as session:
        members = (await session.execute(select(func.count()).select_from(Member))).scalar_one()
        bonus = (await session.execute(select(func.sum(PointsEntry.delta)))).scalar_one()
    assert members == 1
    assert bonus == 80


@requires_postgres
async def test_parallel_aliased_guessing_gets_five_tries_in_total(api: Api, outbox: Outbox) -> None:
    await api.request_otp(PHONE)
    code = outbox.last_code(E164)
    wrong = [f"{n:06d}" for n in range(60) if f"{n:06d}" != code][:50]

    def request(guesses: list[str]) -> str:
        fields = "\n".join(
            f'v{i}: verifyOtp(phone: "{E164}", code: "{g}") {{ __typename ... on Error {{ code }} }}'
            for i, g in enumerate(guesses)
        )
        return f"mutation {{ {fields} }}"

    bodies = await asyncio.gather(*(api.gql(request(wrong[i::5])) for i in range(5)))
    codes = Counter(result["code"] for body in bodies for result in body["data"].values())
    # Five wrong codes use up the challenge; every other guess is refused unchecked.
    assert codes["CODE_INVALID"] == 4, codes
    assert codes["TOO_MANY_ATTEMPTS"] == 46, codes
    # The right code no longer opens anything.
    late = await api.gql(VERIFY_OTP, {"phone": PHONE, "code": code, "channel": "APP"})
    assert late["data"]["verifyOtp"]["code"] == "TOO_MANY_ATTEMPTS"
