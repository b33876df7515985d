"""The public coalition directory through the member door: no session, city filters,
a per-process cache that a CLI change invalidates, and a bounded number of queries."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app import clock
from app.db import Database
from app.partners import service as partners
from tests.directory.conftest import Operator
from tests.helpers import Api

DIRECTORY = """
query Directory($city: String) {
  coalition {
    partners {
      code name logoUrl
      brands { name }
      stores(city: $city) { code name city country address }
    }
  }
}"""

PARTNERS_IN = """
query In($city: String) { coalition { partners(city: $city) { code stores(city: $city) { code } } } }
"""


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: object) -> None:
        if str(args[2]).lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN
            seen.append(str(args[2]))

    event.listen(db.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", count)


def by_code(answer: dict[str, Any]) -> dict[str, Any]:
    assert "errors" not in answer, answer
    return {p["code"]: p for p in answer["data"]["coalition"]["partners"]}


async def test_anyone_lists_partners_brands_and_stores_without_a_session(
    operator: Operator, api: Api
) -> None:
    assert (await operator("demo")).code == 0
    found = by_code(await api.gql(DIRECTORY))  # no token at all
    assert list(found) == ["FGA", "JUMBO", "NEPTUN", "SMARTPOINT", "SPAR"]  # by name
    spar = found["SPAR"]
    assert spar["name"] == "Spar"
    assert spar["logoUrl"] == "http://127.0.0.1:8000/microsite/img/partners/spar.svg"
    assert spar["brands"] == [{"name": "Spar"}]
    assert {s["code"] for s in spar["stores"]} == {"SPAR-TIR-01", "SPAR-TIR-02", "SPAR-VLO-01"}
    kavaja = next(s for s in spar["stores"] if s["code"] == "SPAR-TIR-02")
    assert kavaja == {
        "code": "SPAR-TIR-02",
        "name": "Spar Rruga e Kavajës",
        "city": "Tirana",
        "country": "AL",
        "address": "Rruga e Kavajës 132, Tiranë 1001",
    }
    assert len(found["FGA"]["brands"]) == 9
    # The rest of the member API still needs a session.
    me = await api.gql("{ me { id } }")
    assert me["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "data" not in me or me["data"] is None


async def test_the_logo_file_is_served(operator: Operator, api: Api) -> None:
    assert (await operator("demo")).code == 0
    spar = by_code(await api.gql(DIRECTORY))["SPAR"]
    path = spar["logoUrl"].removeprefix("http://127.0.0.1:8000")
    served = await api.client.get(path)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("image/svg+xml")


async def test_stores_and_partners_by_city_ignore_case_and_accents(
    operator: Operator, api: Api
) -> None:
    assert (await operator("demo")).code == 0
    durres = by_code(await api.gql(DIRECTORY, {"city": "durres"}))
    assert [s["code"] for s in durres["NEPTUN"]["stores"]] == ["NEP-DUR-01"]
    assert durres["SPAR"]["stores"] == []  # every partner is listed; stores are filtered
    podgorica = await api.gql(PARTNERS_IN, {"city": " PODGORICA "})
    assert by_code(podgorica) == {
        "FGA": {"code": "FGA", "stores": [{"code": "FGA-SPRINGFIELD-POD"}]},
        "SMARTPOINT": {"code": "SMARTPOINT", "stores": [{"code": "SMP-POD-01"}]},
    }
    nowhere = await api.gql(PARTNERS_IN, {"city": "Atlantis"})
    assert nowhere["data"]["coalition"]["partners"] == []


async def test_the_cache_serves_until_a_cli_change_then_reloads(
    operator: Operator, api: Api, db: Database
) -> None:
    assert (await operator("demo")).code == 0
    await api.gql(DIRECTORY)  # warm
    with statements(db) as seen:
        again = by_code(await api.gql(DIRECTORY))
    assert len(seen) == 1, seen  # the version lookup only
    assert again["SPAR"]["stores"][0]["address"] is not None

    moved = await operator(
        "store", "set", "SPAR-VLO-01", "--address", "Rruga Ismail Qemali 5, Vlorë"
    )
    assert moved.code == 0, moved.err
    assert moved.out.strip() == "SPAR-VLO-01: address Rruga Ismail Qemali 5, Vlorë"
    logo = await operator("partner", "set", "SPAR", "--logo-url", "https://cdn.example/spar.png")
    assert logo.code == 0, logo.err
    with statements(db) as seen:
        fresh = by_code(await api.gql(DIRECTORY))
    assert len(seen) == 5, seen  # version, then a reload: version, partners, brands, stores
    vlore = next(s for s in fresh["SPAR"]["stores"] if s["code"] == "SPAR-VLO-01")
    assert vlore["address"] == "Rruga Ismail Qemali 5, Vlorë"
    assert fresh["SPAR"]["logoUrl"] == "https://cdn.example/spar.png"

    # A new store (another process, here the CLI's demo) shows up as well.
    async with db.unit_of_work() as session:
        spar = await partners.get_partner(session, "SPAR")
        await partners.ensure_store(
            session, spar, code="SPAR-SHK-01", name="Spar Shkodër", city="Shkodër",
            country="AL", now=clock.now(),
        )  # fmt: skip
    shkoder = by_code(await api.gql(DIRECTORY, {"city": "Shkoder"}))
    assert [s["code"] for s in shkoder["SPAR"]["stores"]] == ["SPAR-SHK-01"]


async def test_queries_do_not_grow_with_partners_brands_or_stores(
    operator: Operator, api: Api, db: Database, app: Any
) -> None:
    assert (await operator("demo")).code == 0
    with statements(db) as seen:
        await api.gql(DIRECTORY)
    few = len(seen)
    async with db.unit_of_work() as session:
        for i in range(30):
            partner = await partners.ensure_partner(
                session, code=f"P{i:02d}", name=f"Partner {i:02d}", sector="retail",
                now=clock.now(),
            )  # fmt: skip
            for b in range(3):
                await partners.ensure_brand(session, partner, code=f"B{b}", name=f"Brand {b}")
            for s in range(4):
                await partners.ensure_store(
                    session, partner, code=f"P{i:02d}-{s}", name=f"Store {s}", city="Fier",
                    country="AL", now=clock.now(),
                )  # fmt: skip
    with statements(db) as seen:
        answer = by_code(await api.gql(DIRECTORY))
    assert len(answer) == 35
    assert len(answer["P07"]["stores"]) == 4 and len(answer["P07"]["brands"]) == 3
    assert len(seen) == few == 5, seen  # version; reload: version, partners, brands, stores


async def test_operator_mistakes_are_one_line(operator: Operator) -> None:
    assert (await operator("demo")).code == 0
    bad = await operator("partner", "set", "SPAR", "--logo-url", "javascript:alert(1)")
    assert bad.code == 1 and "Traceback" not in bad.err
    assert bad.err.strip() == (
        "happy: --logo-url must be an https:// URL or a path on this server starting with /, "
        "500 characters at most, without spaces"
    )
    plain = await operator("partner", "set", "SPAR", "--logo-url", "http://example.com/x.png")
    assert plain.code == 1
    nobody = await operator("partner", "set", "NOPE", "--logo-url", "/x.svg")
    assert nobody.code == 1 and nobody.err.startswith("happy: no partner NOPE;")
    nowhere = await operator("store", "set", "NOPE-01", "--address", "Rruga 1")
    assert nowhere.err.strip() == "happy: no store NOPE-01; see `happy store list`"
    long = await operator("store", "set", "SPAR-VLO-01", "--address", "x" * 201)
    assert long.code == 1 and "200 characters" in long.err
    cleared = await operator("store", "set", "SPAR-VLO-01", "--address", "")
    assert cleared.code == 0 and cleared.out.strip() == "SPAR-VLO-01: address removed"
