"""``happy partner create|list|update`` and ``happy store create|list|close``: a closed
store's API key and kiosk stop working at once, and the directory hides it."""

from __future__ import annotations

from typing import Any

import httpx

from app.db import Database
from app.partners import service as partners
from app.settings import Settings
from tests.helpers import Outbox
from tests.toolbox.conftest import Pos, enrolled_kiosk, make_key

STORE_QUERY = "query { store { code currency partnerCode } }"
KIOSK_QUERY = "query { kiosk { kioskId storeCode } }"


async def test_partner_and_store_from_the_cli(happy: Any, db: Database) -> None:
    made = await happy(
        "partner", "create", "--code", "conad", "--name", "Conad", "--sector", "grocery"
    )
    assert made.code == 0, made.err
    assert "partner CONAD" in made.out
    again = await happy("partner", "create", "--code", "CONAD", "--name", "X", "--sector", "y")
    assert again.code == 1 and "CONAD is taken" in again.err
    bad = await happy("partner", "create", "--code", "no spaces!", "--name", "X", "--sector", "y")
    assert bad.code == 1 and "2 to 32 characters" in bad.err
    empty = await happy("partner", "create", "--code", "OK", "--name", "  ", "--sector", "y")
    assert empty.code == 1 and "--name" in empty.err

    for code, country, currency in (
        ("CONAD-TIR", "AL", "ALL"),
        ("CONAD-PRN", "xk", "EUR"),
        ("CONAD-SKP", "MK", "MKD"),
        ("CONAD-POD", "ME", "EUR"),
    ):
        store = await happy(
            "store", "create", "--partner", "conad", "--code", code,
            "--name", f"Conad {code}", "--city", "City", "--country", country,
        )  # fmt: skip
        assert store.code == 0, store.err
        assert f"receipts in {currency}" in store.out
    wrong = await happy(
        "store", "create", "--partner", "CONAD", "--code", "CONAD-X",
        "--name", "X", "--city", "Rome", "--country", "IT",
    )  # fmt: skip
    assert wrong.code == 1 and "AL, XK, MK, ME" in wrong.err
    nobody = await happy(
        "store", "create", "--partner", "NOPE", "--code", "NOPE-1",
        "--name", "X", "--city", "Tirana", "--country", "AL",
    )  # fmt: skip
    assert nobody.code == 1 and "no partner" in nobody.err

    listed = await happy("partner", "list")
    header, *rows = listed.out.splitlines()
    assert header.split("\t") == ["PARTNER", "NAME", "SECTOR", "STATE", "STORES", "OPEN STORES"]
    assert rows == ["CONAD\tConad\tgrocery\tactive\t4\t4"]

    closed = await happy("store", "close", "conad-skp")
    assert closed.code == 0 and "closed" in closed.out
    assert "already closed" in (await happy("store", "close", "CONAD-SKP")).out
    assert (await happy("store", "close", "NOPE")).code == 1
    stores = (await happy("store", "list")).out.splitlines()
    assert stores[0].endswith("\tCURRENCY\tSTATE")
    skp = next(line for line in stores if line.startswith("CONAD-SKP\t"))
    assert "\tMKD\tclosed " in skp

    updated = await happy("partner", "update", "CONAD", "--name", "Conad Albania", "--inactive")
    assert updated.code == 0 and "inactive" in updated.out
    assert (await happy("partner", "update", "CONAD")).code == 2  # nothing to change
    assert (await happy("partner", "update", "NOPE", "--active")).code == 1
    assert (
        (await happy("partner", "list"))
        .out.splitlines()[1]
        .startswith("CONAD\tConad Albania\tgrocery\tinactive\t4\t3")
    )


async def test_closing_a_store_stops_its_key_and_kiosk_at_once(
    coalition: None,
    happy: Any,
    db: Database,
    settings: Settings,
    client: httpx.AsyncClient,
    outbox: Outbox,
) -> None:
    till = Pos(client, await make_key(db, settings, "SPAR-TIR-01"))
    other = Pos(client, await make_key(db, settings, "SPAR-TIR-02"))
    tablet = await enrolled_kiosk(db, settings, client, outbox, "SPAR-TIR-01")
    assert (await till.call(STORE_QUERY, "store"))["code"] == "SPAR-TIR-01"
    assert (await tablet.call(KIOSK_QUERY, "kiosk"))["storeCode"] == "SPAR-TIR-01"

    assert (await happy("store", "close", "SPAR-TIR-01")).code == 0

    refused = await till.gql(STORE_QUERY)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    refused = await tablet.gql(KIOSK_QUERY)
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    # The partner's other store carries on.
    assert (await other.call(STORE_QUERY, "store"))["code"] == "SPAR-TIR-02"

    async with db.read_session() as session:
        directory = await partners.load_directory(session, 0)
    spar = next(p for p in directory.partners if p.code == "SPAR")
    codes = {s.code for s in spar.stores}
    assert "SPAR-TIR-01" not in codes and "SPAR-TIR-02" in codes
