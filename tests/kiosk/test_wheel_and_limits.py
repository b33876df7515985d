"""The wheel's fairness and audit (service level, many draws), and the kiosk door's query
and input limits (the same as every door's)."""

from __future__ import annotations

import json
import math
from typing import Any

import httpx
from sqlalchemy import select

from app import clock
from app.db import Database
from app.partners import service as partners
from app.prizes import service as prizes
from app.prizes.models import SegmentKind, WheelSegment
from tests.hardening.test_query_limits import _refused_quickly, fan_out_bomb
from tests.kiosk.conftest import ENROL, KioskClient
from tests.pos.conftest import Member

DRAWS = 1200


async def test_draws_follow_the_weights_and_never_give_what_is_gone(
    coalition: None, member: Member, db: Database
) -> None:
    """Weights 1 : 3 and a segment with 5 items: the 5 items go, then never come up again;
    the observed shares of the others stay within 5 standard deviations of the odds."""
    async with db.unit_of_work() as session:
        store = await partners.store_by_code(session, "SPAR-VLO-01")
        assert store is not None
        for segment in await prizes.wheel_of(session, store.id):
            segment.active = False
        now = clock.now()
        for label, kind, weight, stock in [
            ("one", SegmentKind.NOTHING, 1, None),
            ("three", SegmentKind.NOTHING, 3, None),
            ("gift", SegmentKind.GOODS, 4, 5),
        ]:
            await prizes.add_segment(
                session,
                store_code="SPAR-VLO-01",
                segment=prizes.SegmentInput(label, kind, weight, stock=stock),
                now=now,
            )
    async with db.unit_of_work() as session:
        labels = [
            (
                await prizes.spin(
                    session,
                    member_id=member.id,
                    store_id=store.id,
                    kiosk_id=None,
                    plays_per_day=DRAWS,
                    now=now,
                )
            ).draw.label
            for _ in range(DRAWS)
        ]
    assert labels.count("gift") == 5
    async with db.read_session() as session:
        gift = (
            await session.execute(select(WheelSegment).where(WheelSegment.label == "gift"))
        ).scalar_one()
        assert gift.stock == 0
        report = await prizes.draw_report(
            session, "SPAR-VLO-01", await prizes.programme_day(session, now)
        )
    assert len(report.draws) == DRAWS
    last_gift = max(i for i, label in enumerate(labels) if label == "gift")
    after = labels[last_gift + 1 :]
    assert "gift" not in after
    n = len(after)
    share_one = after.count("one") / n
    sigma = math.sqrt(0.25 * 0.75 / n)
    assert abs(share_one - 0.25) < 5 * sigma, (share_one, n)
    # Every stored draw carries the odds in force: the gift is out of them once gone.
    final = report.draws[-1].odds
    assert {o["label"]: o["eligible"] for o in final if o["label"] in ("one", "three", "gift")} == {
        "one": True,
        "three": True,
        "gift": False,
    }
    by_label = {f.label: f for f in report.frequencies}
    assert by_label["gift"].observed == 5
    assert abs(by_label["one"].configured_share - by_label["one"].observed_share) < 0.06


async def test_kiosk_door_has_the_query_limits(client: httpx.AsyncClient) -> None:
    await _refused_quickly(client, "/kiosk/graphql", fan_out_bomb(35))


async def test_unclean_text_is_refused_before_anything(kiosk: KioskClient) -> None:
    body = (
        '{"query": '
        + json.dumps(ENROL)
        + ', "variables": {"code": "ABCDE-FGHJK", "name": "Tab\\u0000let"}}'
    )
    response = await kiosk.client.post(
        "/kiosk/graphql", content=body.encode(), headers={"Content-Type": "application/json"}
    )
    answer: dict[str, Any] = response.json()
    assert answer.get("data") is None
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "INVALID_INPUT", answer
    assert "requestId" not in error["extensions"]
