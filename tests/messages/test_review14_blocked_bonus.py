"""Review of issue 14 (review14): a member blocked by support still earns campaign bonuses."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from app.db import Database
from tests.helpers import Api
from tests.messages.conftest import Member, Sent, happy
from tests.messages.test_campaigns import bonus_entries, campaign_file, consent, profile

pytestmark = pytest.mark.usefixtures("messages_cli_env", "coalition")


async def test_a_blocked_member_gets_no_birthday_bonus(
    api: Api,
    member: Member,
    db: Database,
    sent: Sent,
    tmp_path: Path,
    frozen_now: list[datetime],
) -> None:
    """Deliver 6: "a blocked member cannot earn". The campaign bonus
    (app/messages/campaigns.py, ledger.post of OFFER_BONUS) never asks
    app.support.blocks.ensure_not_blocked."""
    day = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    await profile(api, member, firstName="Arta", birthDate=date(1990, 6, 15).isoformat())
    await consent(api, member, "SMS")
    birthday = campaign_file(
        tmp_path,
        code="bday",
        trigger="birthday",
        channel="sms",
        template="birthday",
        bonus_points=50,
        budget_points=1000,
    )
    assert await happy(["campaign", "create", birthday]) == 0
    assert await happy(["member", "block", member.card, "--reason", "fraud case 1"]) == 0
    frozen_now[0] = day
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert [e.delta for e in await bonus_entries(db, member.id)] == []
