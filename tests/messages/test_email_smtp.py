"""Email through a real local SMTP server process (aiosmtpd, delivering to a Maildir):
a transactional message and a marketing one with its List-Unsubscribe header, the open
pixel counted in the campaign's statistics."""

from __future__ import annotations

import json
import mailbox
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path

import httpx
import pytest

from app.settings import Settings
from tests.helpers import Api
from tests.messages.conftest import Member, Pos, Sent, happy, receipt

pytestmark = pytest.mark.usefixtures("coalition")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture(scope="module")
def smtp_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    port = _free_port()
    maildir = tmp_path_factory.mktemp("smtp") / "Maildir"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Mailbox",
            str(maildir),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("aiosmtpd did not start") from None
                time.sleep(0.1)
        yield port, maildir
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def settings(settings: Settings, smtp_server: tuple[int, Path]) -> Settings:
    return replace(
        settings,
        messages=replace(
            settings.messages,
            email_backend="smtp",
            smtp_host="127.0.0.1",
            smtp_port=smtp_server[0],
            smtp_security="none",
            email_from="Happy <no-reply@happy.example>",
        ),
    )


@pytest.fixture
def smtp_cli_env(
    messages_cli_env: None, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HAPPY_EMAIL_BACKEND", "smtp")
    monkeypatch.setenv("HAPPY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("HAPPY_SMTP_PORT", str(settings.messages.smtp_port))
    monkeypatch.setenv("HAPPY_SMTP_SECURITY", "none")


def delivered(maildir: Path, to: str) -> list[Message]:
    box = mailbox.Maildir(maildir, create=False)
    return [m for m in box if m["To"] == to]


async def test_email_reaches_the_smtp_server(
    api: Api,
    member: Member,
    spar: Pos,
    smtp_server: tuple[int, Path],
    smtp_cli_env: None,
    client: httpx.AsyncClient,
    tmp_path: Path,
    frozen_now: list[datetime],
    capsys: pytest.CaptureFixture[str],
    sent: Sent,
) -> None:
    address = "arta.smtp@example.com"
    for mutation in (
        f'updateProfile(input: {{email: "{address}", language: EN}}) {{ __typename }}',
        "setMarketingConsent(channel: SMS, granted: false) { __typename }",
        "setMarketingConsent(channel: EMAIL, granted: true) { __typename }",
    ):
        body = await api.gql("mutation { " + mutation + " }", token=member.token)
        assert "errors" not in body, body
    # Transactional: SMS refused, no push device, an address on file: by email.
    assert (await spar.submit(receipt("R-mail", member.card)))["__typename"] == "ReceiptAccepted"
    assert delivered(smtp_server[1], address) == []  # real providers: the worker sends
    assert await happy(["worker", "--once"]) == 0
    (earned,) = delivered(smtp_server[1], address)
    assert earned["Subject"].startswith("You earned")
    assert "happy-msg-" in earned["Message-ID"]
    assert earned["List-Unsubscribe"] is None  # transactional

    noon = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)
    path = tmp_path / "mail.json"
    path.write_text(
        json.dumps(
            {"code": "mail", "send_at": noon.isoformat(), "channel": "email", "template": "news"}
        )
    )
    assert await happy(["campaign", "create", str(path)]) == 0
    frozen_now[0] = noon
    assert await happy(["worker", "--once", "--run", "campaigns"]) == 0
    news = [m for m in delivered(smtp_server[1], address) if m["Subject"] == "News from Happy"]
    assert len(news) == 1
    unsubscribe = "".join(str(news[0]["List-Unsubscribe"]).split()).strip("<>")  # unfolded
    assert "/m/u/" in unsubscribe, unsubscribe
    assert "://" in unsubscribe, repr(unsubscribe)
    assert news[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    html_part = next(p for p in news[0].walk() if p.get_content_type() == "text/html")
    html = html_part.get_payload(decode=True).decode()
    pixel = html.split('src="', 1)[1].split('"', 1)[0]
    response = await client.get("/" + pixel.split("://", 1)[1].split("/", 1)[1])
    assert response.status_code == 200 and response.headers["content-type"] == "image/gif"
    capsys.readouterr()
    assert await happy(["campaign", "stats", "mail"]) == 0
    out = capsys.readouterr().out
    assert "sent: 1" in out and "opened: 1" in out
    # One-click unsubscribe (RFC 8058), as a mail client does it.
    done = await client.post(
        "/" + unsubscribe.split("://", 1)[1].split("/", 1)[1],
        data={"List-Unsubscribe": "One-Click"},
    )
    assert done.status_code == 200
    assert sent.lines("email") == []  # nothing went to the recording file
