"""A new tablet enrolled and used through the whole kiosk journey in Chromium (1280x800):
enrol, identify by the card's rotating token, check in (twice: refused), spin the wheel,
exchange a prize with the SMS code, see the pickup code, and the idle timeout."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer
from tests.e2e.test_microsite_journey import accessibility_problems, new_context

pytestmark = pytest.mark.e2e

TABLET = {"width": 1280, "height": 800}
DOCS_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "img" / "kiosk.png"
PHONE = "+355697770011"

# Touch targets: every visible button and input at least 48 x 48 CSS pixels.
SMALL_TARGETS = """
() => [...document.querySelectorAll("button, input")]
  .filter((el) => el.offsetParent !== null)
  .map((el) => [el.id || el.textContent.trim(), el.getBoundingClientRect()])
  .filter(([, r]) => r.width < 48 || r.height < 48)
  .map(([name, r]) => `${name}: ${Math.round(r.width)}x${Math.round(r.height)}`)
"""


def _member_gql(server: LiveServer, query: str, variables: dict[str, Any], token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = httpx.post(
        f"{server.base_url}/graphql",
        json={"query": query, "variables": variables},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]


def sign_up_in_the_app(server: LiveServer) -> str:
    """A member signs up in the app; returns the access token."""
    _member_gql(
        server,
        "mutation($p: String!) { requestOtp(phone: $p) { __typename } }",
        {"p": PHONE},
    )
    done = _member_gql(
        server,
        "mutation($p: String!, $c: String!) { verifyOtp(phone: $p, code: $c, channel: APP) "
        "{ ... on Session { accessToken } } }",
        {"p": PHONE, "c": server.last_code(PHONE)},
    )
    token: str = done["verifyOtp"]["accessToken"]
    return token


def rotating_card_token(server: LiveServer, access_token: str) -> str:
    """What the app's card shows as its QR: the rotating signed token."""
    me = _member_gql(server, "{ me { card { dynamicQr { token } } } }", {}, access_token)
    token: str = me["me"]["card"]["dynamicQr"]["token"]
    return token


def test_kiosk_journey_in_chromium(
    live_server: LiveServer, browser: Any, artifacts: Path, axe_js: Path
) -> None:
    code = live_server.happy("kiosk", "create", "--store", "SPAR-TIR-01").strip().splitlines()[-1]
    access_token = sign_up_in_the_app(live_server)

    context = new_context(browser, axe_js, viewport=TABLET, reduced_motion="reduce", locale="en-GB")
    page = context.new_page()
    page.clock.install()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    shots = iter(range(1, 100))
    # A folder of its own: each e2e module's server clears the *.png files beside it.
    folder = artifacts / "kiosk"
    folder.mkdir(exist_ok=True)
    for stale in folder.glob("*.png"):
        stale.unlink()
    taken: dict[str, Path] = {}

    def shot(name: str) -> None:
        taken[name] = folder / f"{next(shots):02d}-{name}.png"
        page.screenshot(path=str(taken[name]))
        small = page.evaluate(SMALL_TARGETS)
        assert small == [], f"touch targets under 48 px on {name}: {small}"
        found = accessibility_problems(page)
        assert found == [], f"axe-core on {name}: {found}"

    response = page.goto(f"{live_server.base_url}/kiosk/?lang=en")
    assert response is not None and response.ok
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "camera=(self)" in response.headers["permissions-policy"]

    # Enrolment: the token goes into an HttpOnly cookie that page scripts cannot read.
    page.get_by_role("heading", name="Enrol this tablet").wait_for()
    page.get_by_label("Enrolment code").fill(code)
    page.get_by_label("Tablet name").fill("Entrance tablet")
    shot("enrol")
    page.get_by_role("button", name="Enrol").click()
    page.get_by_role("heading", name="Welcome to Happy!").wait_for()
    assert "hkd_" not in page.evaluate("document.cookie")
    cookies = {c["name"]: c for c in context.cookies()}
    assert cookies["happy_kiosk"]["httpOnly"] is True
    assert page.locator("#store-name").text_content() == "Spar Kombinat"
    shot("start")

    # Identify by the card's rotating token (typed entry: headless Chromium has no camera).
    page.get_by_role("button", name="Scan your card").click()
    page.get_by_label("Card number or code").fill(rotating_card_token(live_server, access_token))
    shot("scan")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Hello!").wait_for()
    assert page.locator("#home-balance").text_content() == "80"
    shot("home")

    # Check in, then again: refused.
    page.get_by_role("button", name="Check in").click()
    page.get_by_text("Thank you! +10 points.").wait_for()
    assert page.locator("#home-balance").text_content() == "90"
    page.get_by_role("button", name="Checked in today ✓").click()
    page.get_by_role("alert").get_by_text(
        "You have already checked in at this store today."
    ).wait_for()
    shot("checked-in")

    # Spin: the wheel lands on the server's outcome.
    page.get_by_role("button", name="Spin the wheel (3)").click()
    page.get_by_role("heading", name="Prize wheel").wait_for()
    page.get_by_role("button", name="Spin! (3)").click()
    result = page.locator("#wheel-result")
    result.filter(has_text="!").wait_for()
    page.get_by_role("button", name="Spin! (2)").wait_for()
    shot("wheel")
    page.locator("#screen-wheel").get_by_role("button", name="Back").click()
    balance = int(page.locator("#home-balance").text_content().replace(",", ""))
    assert balance >= 90

    # Exchange the cheapest prize with the SMS code from the outbox.
    page.get_by_role("button", name="Prizes").click()
    page.get_by_role("heading", name="Exchange points for prizes").wait_for()
    shot("prizes")
    page.get_by_role("button", name="Exchange: Chocolate bar").click()
    page.get_by_role("heading", name="Chocolate bar for 50 points").wait_for()
    page.locator("#screen-exchange").get_by_label("6-digit code from the SMS").fill("000000")
    page.get_by_role("button", name="Confirm exchange").click()
    page.get_by_role("alert").get_by_text("Tries left: 4").wait_for()
    page.locator("#screen-exchange").get_by_label("6-digit code from the SMS").fill(
        live_server.last_code(PHONE)
    )
    shot("exchange")
    page.get_by_role("button", name="Confirm exchange").click()
    page.get_by_role("heading", name="Your prize is waiting!").wait_for()
    pickup = page.locator("#pickup-code").text_content().replace(" ", "")
    assert len(pickup) == 8
    assert page.locator("#pickup-balance").text_content() == f"{balance - 50:,}"
    shot("pickup")
    if not DOCS_IMAGE.exists():  # delete it to refresh the picture in docs/kiosk.md
        shutil.copyfile(taken["pickup"], DOCS_IMAGE)
    page.get_by_role("button", name="Done").click()

    # The staff's till hands it over with the pickup code.
    key = live_server.happy("partner", "key", "create", "--store", "SPAR-TIR-01")
    handed = httpx.post(
        f"{live_server.base_url}/partner/graphql",
        json={
            "query": "mutation($c: String!) { handOverPrize(pickupCode: $c) { __typename } }",
            "variables": {"c": pickup},
        },
        headers={"Authorization": f"Bearer {key.strip().splitlines()[-1]}"},
        timeout=10,
    ).json()
    assert handed["data"]["handOverPrize"]["__typename"] == "PrizeHandedOver"

    # 60 s without a touch: back to the start screen, the visit ended on the server.
    page.clock.fast_forward("01:01")
    page.get_by_role("heading", name="Welcome to Happy!").wait_for()
    shot("idle-start")
    page.get_by_role("button", name="SQ").click()
    page.get_by_role("heading", name="Mirë se vini në Happy!").wait_for()
    page.get_by_role("button", name="Skano kartën").wait_for()
    shot("start-sq")
    assert problems == [], problems
    context.close()
