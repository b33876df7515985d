"""``me.vouchers`` through the member door: a Relay connection (capped ``first``, opaque
keyset ``after`` cursor over (expiresAt, id)) with an optional ``status`` filter."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from app import clock
from app.db import Database
from app.ledger import service as ledger
from app.ledger.models import EntryKind
from app.members.models import Member
from app.rewards import service as rewards
from app.rewards.models import Voucher, VoucherStatus
from graphql_schema.pagination import encode_cursor
from tests.helpers import Api

PHONE = "+355691234567"
CLAIM = "mutation($level: Int!) { claimReward(level: $level) { __typename } }"
VOUCHERS = """
query($first: Int!, $after: String, $status: VoucherStatus) {
  me {
    vouchers(first: $first, after: $after, status: $status) {
      edges { cursor node { id code status expiresAt validOnlyAt } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def _member_with_vouchers(api: Api, db: Database, frozen_now: list[datetime]) -> str:
    """A member who claimed level 1 (6 vouchers expiring together: ties are ordered by id)
    and, 30 days later, level 2 (5 more)."""
    token: str = (await api.sign_up(PHONE))["accessToken"]
    async with db.unit_of_work() as session:
        await rewards.ensure_default_levels(session, clock.now())
        member_id = await session.scalar(select(Member.id).where(Member.phone_e164 == PHONE))
        assert member_id is not None
        await ledger.post(
            session, member_id=member_id, kind=EntryKind.ADJUSTMENT, delta=15_000, now=clock.now()
        )
    for level in (1, 2):
        if level == 2:
            frozen_now[0] += timedelta(days=30)
            token = (await api.sign_up(PHONE))["accessToken"]  # access tokens are short-lived
        body = await api.gql(CLAIM, {"level": level}, token=token)
        assert body["data"]["claimReward"]["__typename"] == "RewardClaimed", body
    return token


async def _page(api: Api, token: str, **variables: Any) -> dict[str, Any]:
    body = await api.gql(VOUCHERS, {"first": 20, **variables}, token=token)
    assert "errors" not in body, body
    connection: dict[str, Any] = body["data"]["me"]["vouchers"]
    return connection


async def test_vouchers_page_by_expiry_with_an_opaque_cursor(
    api: Api, db: Database, frozen_now: list[datetime]
) -> None:
    token = await _member_with_vouchers(api, db, frozen_now)
    seen: list[dict[str, Any]] = []
    after = None
    pages = 0
    while True:
        page = await _page(api, token, first=4, after=after)
        pages += 1
        assert len(page["edges"]) <= 4
        seen += [edge["node"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
        assert after == page["edges"][-1]["cursor"]
        assert "expires" not in after and ":" not in after  # opaque, not the sort keys
    assert pages == 3
    assert len(seen) == 11 and len({v["id"] for v in seen}) == 11
    expiries = [v["expiresAt"] for v in seen]
    assert expiries == sorted(expiries)  # soonest to expire first, also across pages
    assert [v["status"] for v in seen] == ["ACTIVE"] * 11
    everything = await _page(api, token, first=100)
    assert [e["node"]["id"] for e in everything["edges"]] == [v["id"] for v in seen]
    assert everything["pageInfo"] == {
        "hasNextPage": False,
        "endCursor": everything["edges"][-1]["cursor"],
    }


async def test_vouchers_filtered_by_status(
    api: Api, db: Database, frozen_now: list[datetime]
) -> None:
    token = await _member_with_vouchers(api, db, frozen_now)
    first = (await _page(api, token, first=1))["edges"][0]["node"]
    async with db.unit_of_work() as session:
        code = first["code"].replace("-", "")
        await session.execute(
            update(Voucher)
            .where(Voucher.code == code)
            .values(status=VoucherStatus.REDEEMED, redeemed_at=clock.now())
        )

    async def statuses(status: str, **kw: Any) -> list[str]:
        page = await _page(api, token, status=status, **kw)
        return [edge["node"]["status"] for edge in page["edges"]]

    assert await statuses("USED") == ["USED"]
    assert await statuses("ACTIVE") == ["ACTIVE"] * 10
    assert await statuses("EXPIRED") == []
    # 90 days after the first claim its other five vouchers have expired.
    frozen_now[0] += timedelta(days=61)
    token = (await api.sign_up(PHONE))["accessToken"]
    assert await statuses("EXPIRED") == ["EXPIRED"] * 5
    assert await statuses("ACTIVE") == ["ACTIVE"] * 5
    assert await statuses("USED") == ["USED"]
    # A filtered list pages like the whole list.
    page = await _page(api, token, status="ACTIVE", first=3)
    assert len(page["edges"]) == 3 and page["pageInfo"]["hasNextPage"]
    rest = await _page(api, token, status="ACTIVE", first=3, after=page["pageInfo"]["endCursor"])
    assert len(rest["edges"]) == 2 and not rest["pageInfo"]["hasNextPage"]


async def test_bad_paging_arguments_are_invalid_input(
    api: Api, db: Database, frozen_now: list[datetime]
) -> None:
    token = await _member_with_vouchers(api, db, frozen_now)
    bad = [
        {"first": 0},
        {"first": 101},
        {"first": -1},
        {"first": 5, "after": "not a cursor!"},
        {"first": 5, "after": encode_cursor("yesterday", 1)},
        {"first": 5, "after": encode_cursor("2030-01-01T00:00:00", 1)},  # no time zone
        {"first": 5, "after": encode_cursor("2030-01-01T00:00:00+00:00")},  # no id
    ]
    for variables in bad:
        body = await api.gql(VOUCHERS, variables, token=token)
        assert body["data"] is None, variables
        (error,) = body["errors"]
        assert error["extensions"]["code"] == "INVALID_INPUT", (variables, error)
        assert error["extensions"]["field"] in {"first", "after"}
        assert error["message"]
    assert len((await _page(api, token, first=100))["edges"]) == 11  # 100 is the cap
