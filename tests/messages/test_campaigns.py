"""Campaigns through the operator's CLI and ``happy worker``: the birthday bonus once a
year, consent, quiet hours, the budget, statistics and the way out."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.db import Database
from app.ledger.models import EntryKind, PointsEntry
from app.members.models import MarketingChannel, MarketingConsent
from app.messages.models import MemberMessage, MessageStatus
from tests.helpers import Api
from tests.messages.conftest import SET_CONSENT, Member, Pos, Sent, happy, receipt

pytestmark = pytest.mark.usefixtures("messages_cli_env", "coalition")

UPDATE_PROFILE = """
mutation($input: ProfileInput!) {
  updateProfile(input: $input) { __typename ... on Error { code field } }
}"""


def campaign_file(tmp_path: Path, **fields: Any) -> str:
    path = tmp_path / f"{fields['code']}.json"
    path.write_text(json.dumps(fields))
    return str(path)


async def profile(api: Api, member: Member, **fields: Any) -> None:
    body = await api.gql(UPDATE_PROFILE, {"input": fields}, token=member.token)
    assert body["data"]["updateProfile"]["__typename"] == "Member", body


async def consent(api: Api, member: Member, channel: str, granted: bool = True) -> None:
    body = await api.gql(SET_CONSENT, {"c": channel, "g": granted}, token=member.token)
    assert "errors" not in body, body


async def bonus_entries(db: Database, member_id: int) -> list[PointsEntry]:
    async with db.read_session() as session:
        stmt = select(PointsEntry).where(
            PointsEntry.member_id == member_id, PointsEntry.kind == EntryKind.OFFER_BONUS
        )
        return list((await session.scalars(stmt)).all())


async def test_birthday_bonus_once_a_year(
    api: Api,
    member: Member,
    db: Database,
    sent: Sent,
    tmp_path: Path,
    frozen_now: list[datetime],
) -> None:
    day = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)  # 10:00 in Tirana: not quiet hours
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
    frozen_now[0] = day
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert [e.delta for e in await bonus_entries(db, member.id)] == [50]
    (message,) = sent.lines("sms", kind="birthday")
    assert "Gëzuar ditëlindjen, Arta!" in message["text"] and "50" in message["text"]
    assert "/m/u/" in message["text"]  # marketing carries the way out

    # The same day again (another worker round, or a restarted worker): nothing twice.
    frozen_now[0] = day + timedelta(hours=5)
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert len(await bonus_entries(db, member.id)) == 1
    assert len(sent.lines("sms", kind="birthday")) == 1
    # Another day: not the birthday. A year later: the bonus again.
    frozen_now[0] = day + timedelta(days=1)
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert len(await bonus_entries(db, member.id)) == 1
    frozen_now[0] = datetime(2027, 6, 15, 8, 0, tzinfo=UTC)
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert [e.delta for e in await bonus_entries(db, member.id)] == [50, 50]
    assert len(sent.lines("sms", kind="birthday")) == 2


async def test_marketing_needs_consent_and_waits_out_quiet_hours(
    api: Api,
    member: Member,
    db: Database,
    sent: Sent,
    tmp_path: Path,
    frozen_now: list[datetime],
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = await _second_member(api, db)
    await consent(api, member, "SMS")  # the other member never agreed
    evening = datetime(2026, 3, 2, 21, 30, tzinfo=UTC)  # 22:30 in Tirana
    news = campaign_file(
        tmp_path,
        code="news",
        trigger="scheduled",
        send_at=evening.isoformat(),
        channel="sms",
        template="news",
        conversion_days=7,
    )
    assert await happy(["campaign", "create", news]) == 0
    frozen_now[0] = evening
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    assert sent.lines("sms", kind="news") == []  # quiet hours: delayed, not dropped
    async with db.read_session() as session:
        waiting = await session.scalar(
            select(MemberMessage).where(
                MemberMessage.member_id == member.id, MemberMessage.kind == "news"
            )
        )
        assert waiting is not None and waiting.status is MessageStatus.PENDING
        # 09:00 the next morning in Tirana (UTC+1 in March)
        assert waiting.next_attempt_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    frozen_now[0] = datetime(2026, 3, 3, 8, 1, tzinfo=UTC)
    assert await happy(["worker", "--once"]) == 0
    (message,) = sent.lines("sms", kind="news")
    assert message["to"] == member.phone  # never to the member without consent
    capsys.readouterr()
    assert await happy(["campaign", "stats", "news"]) == 0
    stats = capsys.readouterr().out
    assert "targeted: 2" in stats and "sent: 1" in stats and "opted out: 1" in stats
    assert other.phone not in [m["to"] for m in sent.lines("sms", kind="news")]


async def test_way_out_withdraws_consent(
    api: Api,
    member: Member,
    client: httpx.AsyncClient,
    sent: Sent,
    tmp_path: Path,
    frozen_now: list[datetime],
    db: Database,
) -> None:
    await consent(api, member, "SMS")
    noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    path = campaign_file(
        tmp_path, code="n1", send_at=noon.isoformat(), channel="sms", template="news"
    )
    assert await happy(["campaign", "create", path]) == 0
    frozen_now[0] = noon
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    (message,) = sent.lines("sms", kind="news")
    link = message["text"].rsplit(" ", 1)[-1]
    path_only = link.split("://", 1)[1].split("/", 1)[1]
    page = await client.get("/" + path_only)
    assert page.status_code == 200 and "<form" in page.text  # a GET changes nothing
    done = await client.post("/" + path_only)
    assert done.status_code == 200
    async with db.read_session() as session:
        withdrawn = await session.get(MarketingConsent, (member.id, MarketingChannel.SMS))
    assert withdrawn is not None and withdrawn.granted is False
    assert withdrawn.changed_at == noon  # the same rule as setMarketingConsent
    forged = await client.post("/m/u/" + path_only.rsplit("/", 1)[-1][:-2] + "xx")
    assert forged.status_code == 404


async def test_budget_is_never_exceeded(
    api: Api, db: Database, tmp_path: Path, frozen_now: list[datetime]
) -> None:
    members = [
        await _second_member(api, db, phone)
        for phone in ("+355691000001", "+355691000002", "+355691000003")
    ]
    noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    path = campaign_file(
        tmp_path,
        code="gift",
        send_at=noon.isoformat(),
        channel="sms",
        template="bonus_points",
        bonus_points=40,
        budget_points=100,
    )
    assert await happy(["campaign", "create", path]) == 0
    frozen_now[0] = noon
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    given = [len(await bonus_entries(db, m.id)) for m in members]
    assert sorted(given) == [0, 1, 1]  # 2 x 40 within 100; a third would pass it


async def test_bad_campaign_file_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = campaign_file(tmp_path, code="x", channel="fax", template="news")
    assert await happy(["campaign", "create", path]) == 2
    err = capsys.readouterr().err
    assert "field 'channel' is not valid" in err and "Traceback" not in err
    path = campaign_file(tmp_path, code="y", channel="sms", template="welcome")
    assert await happy(["campaign", "create", path]) == 2
    assert "'template'" in capsys.readouterr().err


async def test_conversion_counts_a_receipt_after_the_message(
    api: Api,
    member: Member,
    spar: Pos,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    frozen_now: list[datetime],
) -> None:
    await consent(api, member, "SMS")
    noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    path = campaign_file(
        tmp_path,
        code="conv",
        send_at=noon.isoformat(),
        channel="sms",
        template="news",
        conversion_days=7,
    )
    assert await happy(["campaign", "create", path]) == 0
    frozen_now[0] = noon - timedelta(hours=1)
    assert (await spar.submit(receipt("R-before", member.card)))["__typename"] == "ReceiptAccepted"
    frozen_now[0] = noon
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    capsys.readouterr()
    assert await happy(["campaign", "stats", "conv"]) == 0
    assert "converted (receipt within 7 days): 0" in capsys.readouterr().out
    frozen_now[0] = noon + timedelta(days=3)
    assert (await spar.submit(receipt("R-after", member.card)))["__typename"] == "ReceiptAccepted"
    assert await happy(["campaign", "stats", "conv"]) == 0
    out = capsys.readouterr().out
    assert "sent: 1" in out and "converted (receipt within 7 days): 1" in out


async def _second_member(api: Api, db: Database, phone: str = "+355692222222") -> Member:
    from tests.messages.conftest import sign_up

    return await sign_up(api, db, phone)


async def count_messages(db: Database) -> int:
    async with db.read_session() as session:
        return int(await session.scalar(select(func.count()).select_from(MemberMessage)) or 0)
