"""``happy ussd``: gateway tokens and the terminal simulator."""

from __future__ import annotations

import argparse
import io

import httpx
import pytest

import cli
from app.db import Database
from app.settings import get_settings
from cli.ussd import simulate
from tests.pos.conftest import happy
from tests.ussd.conftest import Handset, member_id_of


async def test_gateway_create_list_revoke(
    cli_env: None, client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await happy(["ussd", "gateway", "create", "--label", "Aggregator A"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    token = out[-1]
    prefix = token.split("_")[1]
    assert token.startswith("hug_") and prefix in out[0]
    assert (await Handset(client, token=token).dial()).startswith("CON ")
    assert await happy(["ussd", "gateway", "list"]) == 0
    listing = capsys.readouterr().out
    assert prefix in listing and "active" in listing and "Aggregator A" in listing
    assert token.split("_", 2)[2] not in listing
    assert await happy(["ussd", "gateway", "revoke", prefix]) == 0
    assert "revoked" in capsys.readouterr().out
    assert (await Handset(client, token=token).post("")).status_code == 401
    capsys.readouterr()
    assert await happy(["ussd", "gateway", "revoke", "0000000000"]) == 1
    assert "no USSD gateway token 0000000000" in capsys.readouterr().err


async def test_simulator_registers_and_shows_the_balance(cli_env: None, db: Database) -> None:
    import asyncio

    out = io.StringIO()
    args = argparse.Namespace(phone="069 111 2233", code="*505#")
    keys = io.StringIO("1\n00\n1\n\n")
    code = await asyncio.to_thread(simulate, args, get_settings(), keys, out)
    assert code == 0
    text = out.getvalue()
    assert "Mire se erdhet ne Happy!" in text and "Jeni anetar i Happy!" in text
    assert "Pike ne dispozicion: 80" in text and "/182 characters" in text
    assert await member_id_of(db, "+355691112233")


def test_simulator_refuses_a_bad_number(cli_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["ussd", "simulate", "--phone", "12"]) == 1
    assert "happy:" in capsys.readouterr().err
