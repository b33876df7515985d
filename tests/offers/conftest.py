"""Offer fixtures: offer files created through ``happy offer create``, member queries."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from app import clock
from tests.helpers import Api
from tests.pos.conftest import (  # noqa: F401  (fixtures)
    cli_env,
    coalition,
    happy,
    member,
    neptun,
    spar,
)

OFFERS = """
query($first: Int, $after: String) {
  me {
    offers(first: $first, after: $after) {
      edges { cursor node {
        id title description mechanic bonusPoints multiplierPercent fundedBy
        validFrom validUntil needsActivation activated usesLeft
        progress { current target unit }
        places { partner store city }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""

ACTIVATE = """
mutation($id: ID!) {
  activateOffer(offerId: $id) {
    __typename
    ... on Offer { id activated usesLeft }
    ... on Error { code message field }
  }
}"""


def offer_file(tmp_path: Path, name: str = "offer", **fields: Any) -> Path:
    now = clock.now()
    body: dict[str, Any] = {
        "title": {"sq": "Bonus Spar", "en": "Spar bonus"},
        "description": {"sq": "Merrni pikë shtesë", "en": "Get extra points"},
        "funder": "SPAR",
        "validFrom": (now - timedelta(days=1)).isoformat(),
        "validUntil": (now + timedelta(days=30)).isoformat(),
        "segment": {"kind": "all"},
        "mechanic": {"kind": "fixed_bonus", "points": 100},
        "activation": "automatic",
    }
    body.update(fields)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(body))
    return path


async def create_offer(tmp_path: Path, name: str = "offer", **fields: Any) -> None:
    assert await happy(["offer", "create", str(offer_file(tmp_path, name, **fields))]) == 0


async def member_offers(api: Api, token: str, language: str = "en") -> list[dict[str, Any]]:
    body = await api.gql(OFFERS, {"first": 50}, token=token)
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["me"]["offers"]["edges"]]


async def activate(api: Api, token: str, offer_id: str) -> dict[str, Any]:
    body = await api.gql(ACTIVATE, {"id": offer_id}, token=token)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["activateOffer"]
    return result
