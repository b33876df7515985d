"""The member's whole journey on the microsite, in Chromium, in Albanian and English."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

PHONE_SIZE = {"width": 390, "height": 844}
TEXTS = {
    "sq": {
        "title": "Mirë se vini në Happy",
        "invalid_phone": "Ky nuk është numër celulari i vlefshëm.",
        "wrong_code": "Kodi nuk është i saktë. Përpjekje të mbetura: 4.",
        "hello": "Përshëndetje!",
        "hello_name": "Përshëndetje, Arta!",
        "welcome_bonus": "Bonus mirëseardhjeje",
        "saved": "Profili u ruajt.",
        "invalid_input": "Disa nga të dhënat nuk janë të vlefshme.",
        "consent_saved": "Zgjedhja u ruajt.",
        "downloaded": "Skedari me të dhënat tuaja u shkarkua.",
        "signed_out": "Dolët nga llogaria.",
        "deleted": "Llogaria juaj u fshi. Faleminderit që ishit me Happy.",
        "delete": "Fshi llogarinë",
        "confirm_delete": "Po, fshi llogarinë",
        "cancel": "Anulo",
        "profile_tab": "Profili",
        "card_tab": "Karta",
        "logout": "Dil",
        "send": "Dërgo kodin",
        "confirm": "Konfirmo",
        "save": "Ruaj ndryshimet",
        "download": "Shkarko të dhënat e mia",
        "to_go": "Edhe 4\u00a0920 pikë deri te 6 kupona me vlerë 24,00\u00a0€.",
        "rewards_tab": "Shpërblimet",
        "receipts_tab": "Blerjet",
        "claim": "Merr shpërblimin",
        "claim_yes": "Po, merre",
        "claimed": "Urime! Kuponat tuaj janë gati.",
        "reached": "Keni pikë të mjaftueshme për 6 kupona me vlerë 24,00\u00a0€!",
        "voucher_value": "4,00\u00a0€",
        "used": "Të përdorur",
        "active": "Aktivë",
        "no_used": "Nuk keni përdorur ende kupona.",
        "terms": "rregullat e programit Happy",
        "privacy": "njoftimin e privatësisë",
        "terms_title": "Rregullat e programit Happy",
        "privacy_title": "Njoftimi i privatësisë",
        "back": "Kthehu te Happy",
        "earn": "Pikë nga blerja",
        "reversal": "Kthim malli: pikë të marra mbrapsht",
        "returned": "Kthyer",
        "taken_back": "Pikë të marra mbrapsht",
        "day": "Dita",
        "month": "Muaji",
        "year": "Viti",
        "bad_date": "Shkruani një datë të vërtetë: dita, muaji dhe viti me 4 shifra, p.sh. 23 11 1990.",
    },
    "en": {
        "title": "Welcome to Happy",
        "invalid_phone": "This is not a valid mobile phone number.",
        "wrong_code": "The code is not correct. Tries left: 4.",
        "hello": "Hello!",
        "hello_name": "Hello, Arta!",
        "welcome_bonus": "Welcome bonus",
        "saved": "Profile saved.",
        "invalid_input": "Some of the information is not valid.",
        "consent_saved": "Choice saved.",
        "downloaded": "The file with your data has been downloaded.",
        "signed_out": "You are signed out.",
        "deleted": "Your account has been deleted. Thank you for being with Happy.",
        "delete": "Delete account",
        "confirm_delete": "Yes, delete my account",
        "cancel": "Cancel",
        "profile_tab": "Profile",
        "card_tab": "Card",
        "logout": "Log out",
        "send": "Send code",
        "confirm": "Confirm",
        "save": "Save changes",
        "download": "Download my data",
        "to_go": "4,920 more points to 6 vouchers worth €24.00.",
        "rewards_tab": "Rewards",
        "receipts_tab": "Receipts",
        "claim": "Claim reward",
        "claim_yes": "Yes, claim it",
        "claimed": "Congratulations! Your vouchers are ready.",
        "reached": "You have enough points for 6 vouchers worth €24.00!",
        "voucher_value": "€4.00",
        "used": "Used",
        "active": "Active",
        "no_used": "You have not used any vouchers yet.",
        "terms": "Happy programme rules",
        "privacy": "privacy notice",
        "terms_title": "Happy programme rules",
        "privacy_title": "Privacy notice",
        "back": "Back to Happy",
        "earn": "Points from a purchase",
        "reversal": "Return: points taken back",
        "returned": "Returned",
        "taken_back": "Points taken back",
        "day": "Day",
        "month": "Month",
        "year": "Year",
        "bad_date": "Enter a real date: day, month and a 4-digit year, for example 23 11 1990.",
    },
}


def points_text(lang: str, points: int) -> str:
    """Points as the page writes them: 5,120 (en), 5 120 with a no-break space (sq)."""
    return f"{points:,}".replace(",", "\u00a0" if lang == "sq" else ",")


PHONES = {"sq": ("069 555 0101", "+355695550101"), "en": ("+383 44 555 010", "+38344555010")}


# WCAG 2.x contrast of every visible text against its first opaque background, and no
# sideways scrolling on a phone. Disabled controls are exempt (WCAG 1.4.3).
AUDIT_JS = """
() => {
  const parse = (c) => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage !== "none") return null;  // gradients: checked by eye
      const rgba = parse(style.backgroundColor);
      if (rgba.length === 3 || (rgba.length === 4 && rgba[3] === 1)) return rgba.slice(0, 3);
    }
    return [255, 255, 255];
  };
  const problems = [];
  for (const el of document.querySelectorAll("body *")) {
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !el.checkVisibility() || el.closest("[disabled]") || el.closest("dialog:not([open])")) continue;
    const style = getComputedStyle(el);
    const bg = background(el);
    if (!bg) continue;
    const fg = parse(style.color).slice(0, 3);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) problems.push(`${el.tagName}#${el.id}.${el.className} "${el.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
  }
  // Phone emulation widens the layout viewport to fit wide content: compare with the screen.
  const wide = [...document.querySelectorAll("body *")].filter(
    (el) => el.checkVisibility() && el.getBoundingClientRect().right > screen.width + 0.5,
  );
  if (document.documentElement.scrollWidth > screen.width || wide.length) {
    problems.push("wider than the phone: " + wide.slice(0, 3).map((el) => el.tagName + "." + el.className).join(", "));
  }
  return problems;
}
"""


# axe-core over the whole document: WCAG 2.0-2.2 A/AA rules and axe's best practices.
AXE_RUN = """
async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help} -> ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " " + n.failureSummary).join(" | "));
}
"""


def accessibility_problems(page: Any) -> list[str]:
    """axe-core's violations on the page (its script is an init script of the context)."""
    problems: list[str] = page.evaluate(AXE_RUN)
    return problems


def new_context(browser: Any, axe_js: Path, **options: Any) -> Any:
    """A browser context whose pages carry axe-core. An init script, not a script tag:
    the pages' CSP forbids inline scripts, and the journey must see the real CSP."""
    context = browser.new_context(**options)
    context.add_init_script(path=str(axe_js))
    return context


class Journey:
    """The browser page plus what the test needs around it (screenshots, CSP watch)."""

    def __init__(self, page: Any, server: LiveServer, lang: str, artifacts: Path) -> None:
        self.page = page
        self.server = server
        self.lang = lang
        self.text = TEXTS[lang]
        self.artifacts = artifacts
        self.shots = 0
        self.problems: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.problems.append(f"page error: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type == "error" and "401" not in message.text:
            self.problems.append(f"console {message.type}: {message.text}")

    def shot(self, name: str, *, full_page: bool = True) -> None:
        """Screenshot the screen; full pages from the top (the tab bar is sticky).

        Each screen is also audited: axe-core (zero violations), text contrast (WCAG AA)
        and no sideways scrolling.
        """
        problems = self.page.evaluate(AUDIT_JS)
        assert problems == [], (name, problems)
        violations = accessibility_problems(self.page)
        assert violations == [], (name, self.lang, violations)
        self.shots += 1
        if full_page:
            self.page.evaluate("window.scrollTo(0, 0)")
        self.page.wait_for_timeout(50)
        self.page.screenshot(
            path=str(self.artifacts / f"{self.lang}-{self.shots:02d}-{name}.png"),
            full_page=full_page,
        )

    def button(self, name: str) -> Any:
        return self.page.get_by_role("button", name=name, exact=True)

    def no_token_in_browser_storage(self) -> None:
        page = self.page
        # Only the language choice is kept in storage (never a token).
        stored = page.evaluate("Object.keys(localStorage)")
        assert set(stored) <= {"happy.lang"}, stored
        assert page.evaluate("sessionStorage.length") == 0
        assert page.evaluate("document.cookie") == ""  # JavaScript sees no cookie at all
        for cookie in page.context.cookies():
            assert cookie["httpOnly"] is True, cookie
            assert cookie["name"] == "happy_refresh", cookie
            assert cookie["sameSite"] == "Strict", cookie
            assert cookie["path"] == "/graphql", cookie

    def refresh_cookies(self) -> list[dict[str, Any]]:
        return [c for c in self.page.context.cookies() if c["name"] == "happy_refresh"]


def sign_in(j: Journey, typed: str, e164: str, *, wrong_code_first: bool = False) -> None:
    from playwright.sync_api import expect

    page = j.page
    page.get_by_label(re.compile("Numri i celularit|Mobile number")).fill(typed)
    j.button(j.text["send"]).click()
    code_input = page.locator("#code")
    expect(code_input).to_be_visible()
    expect(code_input).to_be_focused()
    expect(page.locator("#code-sent")).to_contain_text(e164)
    j.shot("code")
    if wrong_code_first:
        real = j.server.last_code(e164)
        wrong = "000000" if real != "000000" else "111111"
        code_input.fill(wrong)
        j.button(j.text["confirm"]).click()
        expect(page.locator("#code-error")).to_have_text(j.text["wrong_code"])
        j.shot("code-wrong")
    code_input.fill(j.server.last_code(e164))
    j.button(j.text["confirm"]).click()
    expect(page.locator("#screen-card")).to_be_visible()


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_member_journey(
    live_server: LiveServer, browser: Any, artifacts: Path, axe_js: Path, lang: str
) -> None:
    from playwright.sync_api import expect

    other = "en" if lang == "sq" else "sq"
    context = new_context(
        browser,
        axe_js,
        viewport=PHONE_SIZE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        accept_downloads=True,
        locale="sq-AL",
        reduced_motion="reduce",
    )
    page = context.new_page()
    j = Journey(page, live_server, lang, artifacts)
    typed, e164 = PHONES[lang]
    try:
        page.goto(live_server.base_url + "/")
        expect(page.locator("#screen-phone")).to_be_visible()
        assert page.evaluate("document.documentElement.lang") == "sq"
        if lang == "en":
            j.button("EN").click()
        expect(page.locator("html")).to_have_attribute("lang", lang)
        expect(page.get_by_role("heading", level=1)).to_have_text(j.text["title"])
        expect(j.button(lang.upper())).to_have_attribute("aria-pressed", "true")
        j.shot("phone")

        # "By continuing you accept the rules": the terms and the privacy notice, in the
        # page's language, with the operator's name; back to sign in.
        for link, title in (("terms", "terms_title"), ("privacy", "privacy_title")):
            page.locator("#phone-form").get_by_role("link", name=j.text[link]).click()
            expect(page.locator("html")).to_have_attribute("lang", lang)
            expect(page.get_by_role("heading", level=1)).to_have_text(j.text[title])
            expect(page.locator("footer")).to_contain_text("Happy (demo operator)")
            j.shot(link)
            page.get_by_role("link", name=j.text["back"]).click()
            expect(page.locator("#screen-phone")).to_be_visible()
            expect(page.locator("html")).to_have_attribute("lang", lang)
        footer = page.locator("footer")
        expect(footer).to_contain_text("Happy (demo operator)")
        expect(footer.get_by_role("link", name="info@happy.example")).to_have_attribute(
            "href", "mailto:info@happy.example"
        )

        # A wrong number: the API's message, in the chosen language, next to the field.
        page.get_by_label(re.compile("Numri i celularit|Mobile number")).fill("12")
        page.keyboard.press("Enter")
        expect(page.locator("#phone-error")).to_have_text(j.text["invalid_phone"])
        expect(page.locator("#phone")).to_have_attribute("aria-invalid", "true")
        j.shot("phone-error")

        sign_in(j, typed, e164, wrong_code_first=True)
        expect(page.locator("#card-title")).to_have_text(j.text["hello"])
        expect(page.locator("#balance-available")).to_have_text("80")
        card_number = page.locator("#card-number").inner_text().replace(" ", "")
        assert re.fullmatch(r"\d{16}", card_number), card_number
        expect(page.locator("#activity")).to_contain_text(j.text["welcome_bonus"])
        expect(page.locator("#activity")).to_contain_text("+80")
        j.shot("card")
        if lang == "en":
            page.screenshot(path=str(artifacts / "card.png"))
        j.no_token_in_browser_storage()
        assert len(j.refresh_cookies()) == 1

        # Reloading the page keeps the member signed in (refresh cookie -> new access token).
        page.reload()
        expect(page.locator("#screen-card")).to_be_visible()
        expect(page.locator("#card-number")).to_have_text(re.compile(card_number[:4]))
        j.no_token_in_browser_storage()

        # Two tabs restoring the session at the same moment share the refresh cookie
        # without tripping the server's reuse detection (a browser-wide Web Lock).
        second = context.new_page()
        second.goto(live_server.base_url + f"/?lang={lang}", wait_until="commit")
        page.reload(wait_until="commit")
        expect(second.locator("#screen-card")).to_be_visible()
        expect(page.locator("#screen-card")).to_be_visible()
        second.close()
        page.reload()
        expect(page.locator("#balance-available")).to_have_text("80")

        # The card's QR reads back to the card number; the wallet buttons lead to the pass
        # and to Google's save page; the next reward level is 4,920 points away.
        qr = page.locator("#card-qr img")
        expect(qr).to_be_visible()
        assert decode_qr(qr) == card_number
        apple = page.locator("#apple-wallet")
        expect(apple).to_be_visible()
        pkpass = httpx.get(str(apple.get_attribute("href")), timeout=10)
        assert pkpass.status_code == 200
        assert pkpass.headers["content-type"] == "application/vnd.apple.pkpass"
        google = page.locator("#google-wallet")
        expect(google).to_be_visible()
        assert str(google.get_attribute("href")).startswith("https://pay.google.com/gp/v/save/")
        expect(page.locator("#progress-text")).to_have_text(j.text["to_go"])
        j.shot("card-qr")

        # A purchase at Neptun, then the HDMI cable goes back: the activity names the
        # partner and store, the receipt shows the return and the points taken back.
        store, currency, key = neptun_store(live_server)
        bought = submit_tv_receipt(live_server, key, currency, card_number)
        returned = refund_line(live_server, key, bought, line=2)
        assert returned["pointsReversed"] > 0, returned
        page.reload()
        activity = page.locator("#activity .activity-receipt")
        expect(activity).to_have_count(2)
        expect(activity.first).to_contain_text(j.text["reversal"])
        expect(activity.first).to_contain_text(
            "\u2212" + points_text(lang, returned["pointsReversed"])
        )
        expect(activity.nth(1)).to_contain_text(j.text["earn"])
        for entry in (activity.first, activity.nth(1)):
            expect(entry).to_contain_text(f"Neptun · {store}")
        j.shot("card-activity")
        activity.first.get_by_role("link").click()
        detail = page.locator("#receipt")
        expect(detail.locator(".line-returned").first).to_contain_text(j.text["returned"])
        expect(detail).to_contain_text(j.text["taken_back"])
        expect(detail).to_contain_text("\u2212" + points_text(lang, returned["pointsReversed"]))
        j.shot("receipt-returned")

        # Shopping at Neptun (partner door, like the till) to 5,000 points and more.
        balance = shop_until(live_server, card_number, 5000)
        page.get_by_role("link", name=j.text["card_tab"]).click()
        page.reload()
        expect(page.locator("#balance-available")).to_have_text(points_text(lang, balance))
        expect(page.locator("#progress-reached")).to_contain_text(j.text["reached"])

        # Receipts with line items.
        page.get_by_role("link", name=j.text["receipts_tab"]).click()
        receipts = page.locator("#receipts .receipt-item")
        expect(receipts.first).to_contain_text("Neptun")
        assert receipts.count() >= 2
        expect(receipts.last).to_contain_text(j.text["returned"])  # the first, returned one
        j.shot("receipts")
        receipts.first.get_by_role("link").click()
        detail = page.locator("#receipt")
        expect(detail).to_contain_text("Televizor 55 inç")
        expect(detail).to_contain_text("Kabllo HDMI")
        expect(detail).to_contain_text("Samsung")
        expect(page.locator("#receipt-title")).to_be_focused()
        j.shot("receipt")

        # Claim level 1 (5,000 points): six vouchers with codes and scannable QR codes.
        page.get_by_role("link", name=j.text["rewards_tab"]).click()
        level = page.locator("#level-1")
        expect(level).to_contain_text(points_text(lang, 5000))
        level.get_by_role("button", name=j.text["claim"]).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(points_text(lang, 5000))
        j.shot("claim-dialog", full_page=False)
        j.button(j.text["claim_yes"]).click()
        expect(page.locator("#rewards-status")).to_have_text(j.text["claimed"])
        vouchers = page.locator("#vouchers .voucher")
        expect(vouchers).to_have_count(6)
        expect(vouchers.first).to_contain_text(j.text["voucher_value"])
        code = vouchers.first.locator(".voucher-code").inner_text()
        assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2}", code), code
        assert decode_qr(vouchers.first.locator("img")) == code.replace("-", "")
        j.shot("rewards")
        used = j.button(j.text["used"])
        used.click()
        expect(used).to_have_attribute("aria-pressed", "true")
        expect(page.locator("#vouchers")).to_have_text(j.text["no_used"])
        j.button(j.text["active"]).click()
        expect(vouchers).to_have_count(6)

        # Vouchers come a page at a time (me.vouchers is a connection): with pages of 4 (set
        # on the wire), "Show more" follows the cursor to the last two and then hides.
        def pages_of_four(route: Any) -> None:
            body = route.request.post_data_json or {}
            variables = body.get("variables") or {}
            if "vouchers(first: $first" in body.get("query", "") and "first" in variables:
                body["variables"] = {**variables, "first": 4}
                route.continue_(post_data=json.dumps(body))
            else:
                route.continue_()

        page.route("**/graphql", pages_of_four)
        used.click()
        expect(page.locator("#vouchers")).to_have_text(j.text["no_used"])
        j.button(j.text["active"]).click()
        expect(vouchers).to_have_count(4)
        more = page.locator("#vouchers-more")
        expect(more).to_be_visible()
        more.click()
        expect(vouchers).to_have_count(6)
        expect(more).to_be_hidden()
        codes = [v.inner_text() for v in vouchers.locator(".voucher-code").all()]
        assert len(set(codes)) == 6, codes
        page.unroute("**/graphql", pages_of_four)
        balance -= 5000
        page.get_by_role("link", name=j.text["card_tab"]).click()
        expect(page.locator("#balance-available")).to_have_text(points_text(lang, balance))

        # Switch language at any time: texts and <html lang> follow.
        j.button(other.upper()).click()
        expect(page.locator("html")).to_have_attribute("lang", other)
        expect(page.locator("#card-title")).to_have_text(TEXTS[other]["hello"])
        # The choice survives a bare reload (no ?lang= in the address): kept on the device,
        # over the member's profile language.
        page.goto(live_server.base_url + "/#card")
        expect(page.locator("html")).to_have_attribute("lang", other)
        expect(page.locator("#card-title")).to_have_text(TEXTS[other]["hello"])
        expect(j.button(other.upper())).to_have_attribute("aria-pressed", "true")
        j.button(lang.upper()).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)

        # Profile: a bad e-mail gets the API's message; then a good save.
        page.get_by_role("link", name=j.text["profile_tab"]).click()
        expect(page.locator("#screen-profile")).to_be_visible()
        expect(page.locator("#profile-phone")).to_have_text(e164)
        page.locator("#first-name").fill("Arta")
        page.locator("#city").fill("Tiranë")
        page.locator("#email").fill("not-an-email")
        j.button(j.text["save"]).click()
        expect(page.locator("#profile-error")).to_have_text(j.text["invalid_input"])
        expect(page.locator("#email")).to_be_focused()
        page.locator("#email").fill("arta@example.com")
        # The birth date in the page's order and words (day, month, year), never the
        # browser's mm/dd/yyyy; an impossible date is refused before it is sent.
        birth = page.locator("#birth-date")
        expect(birth.locator("label")).to_have_text(
            [j.text["day"], j.text["month"], j.text["year"]]
        )
        page.get_by_label(j.text["day"], exact=True).fill("31")
        page.get_by_label(j.text["month"], exact=True).fill("2")
        page.get_by_label(j.text["year"], exact=True).fill("1990")
        j.button(j.text["save"]).click()
        expect(page.locator("#profile-error")).to_have_text(j.text["bad_date"])
        expect(page.locator("#birth-day")).to_be_focused()
        expect(page.locator("#birth-day")).to_have_attribute("aria-invalid", "true")
        page.get_by_label(j.text["day"], exact=True).fill("23")
        page.get_by_label(j.text["month"], exact=True).fill("11")
        j.button(j.text["save"]).click()
        expect(page.locator("#profile-status")).to_have_text(j.text["saved"])
        expect(page.locator("#profile-error")).to_be_hidden()
        expect(page.locator("html")).to_have_attribute("lang", lang)  # a name never flips it

        # Choosing the other language for messages switches the page too, and back.
        page.locator("#profile-language").select_option(other.upper())
        j.button(j.text["save"]).click()
        expect(page.locator("html")).to_have_attribute("lang", other)
        expect(page.locator("#profile-status")).to_have_text(TEXTS[other]["saved"])
        page.locator("#profile-language").select_option(lang.upper())
        j.button(TEXTS[other]["save"]).click()
        expect(page.locator("html")).to_have_attribute("lang", lang)

        # Marketing consent, kept after a reload.
        sms = page.locator("#consent-SMS")
        expect(sms).not_to_be_checked()
        sms.check()
        expect(page.locator("#consents-status")).to_have_text(j.text["consent_saved"])
        j.shot("profile")
        page.reload()
        expect(page.locator("#consent-SMS")).to_be_checked()
        expect(page.locator("#first-name")).to_have_value("Arta")
        expect(page.locator("#birth-day")).to_have_value("23")
        expect(page.locator("#birth-month")).to_have_value("11")
        expect(page.locator("#birth-year")).to_have_value("1990")

        # Download my data: a JSON file with the profile and the ledger.
        with page.expect_download() as info:
            j.button(j.text["download"]).click()
        download = info.value
        assert download.suggested_filename.startswith("happy-my-data-")
        data = json.loads(Path(download.path()).read_text())
        assert data["member"]["phone"] == e164
        assert data["member"]["firstName"] == "Arta"
        assert data["member"]["birthDate"] == "1990-11-23"
        assert data["balance"]["available"] == balance
        expect(page.locator("#privacy-status")).to_have_text(j.text["downloaded"])

        page.get_by_role("link", name=j.text["card_tab"]).click()
        expect(page.locator("#card-title")).to_have_text(j.text["hello_name"])

        # Log out: back at the phone number, the cookie gone, a reload stays signed out.
        j.button(j.text["logout"]).click()
        expect(page.locator("#screen-phone")).to_be_visible()
        expect(page.locator("#notice")).to_have_text(j.text["signed_out"])
        expect(page.locator("#tabs")).to_be_hidden()
        assert j.refresh_cookies() == []
        j.no_token_in_browser_storage()
        page.reload()
        expect(page.locator("#screen-phone")).to_be_visible()
        expect(page.locator("#tabs")).to_be_hidden()

        # Sign in again (not a new member: no second welcome bonus), then delete the account.
        page.wait_for_timeout(2100)  # the resend interval of this test server
        sign_in(j, typed, e164)
        expect(page.locator("#balance-available")).to_have_text(points_text(lang, balance))
        page.get_by_role("link", name=j.text["profile_tab"]).click()
        j.button(j.text["delete"]).click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text(points_text(lang, balance))
        j.shot("delete-dialog", full_page=False)
        page.keyboard.press("Escape")  # keyboard: the dialog closes, nothing happens
        expect(dialog).to_be_hidden()
        j.button(j.text["delete"]).click()
        j.button(j.text["confirm_delete"]).click()
        expect(page.locator("#screen-phone")).to_be_visible()
        expect(page.locator("#notice")).to_have_text(j.text["deleted"])
        expect(page.locator("#tabs")).to_be_hidden()
        expect(j.button(j.text["logout"])).to_be_hidden()
        expect(page.locator("#phone")).to_have_value("")
        assert j.refresh_cookies() == []
        j.shot("deleted")
        page.reload()
        expect(page.locator("#screen-phone")).to_be_visible()
        assert j.problems == [], j.problems  # includes any Content-Security-Policy violation
    finally:
        context.close()


def test_keyboard_only_sign_in_with_visible_focus(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE_SIZE, reduced_motion="reduce")
    page = context.new_page()
    page.clock.install()
    e164 = "+38970555010"
    try:
        page.goto(live_server.base_url + "/?lang=en")
        expect(page.locator("#screen-phone")).to_be_visible()
        page.locator("body").focus()
        page.keyboard.press("Tab")
        skip = page.locator(".skip-link")
        expect(skip).to_be_focused()
        assert skip.evaluate("el => el.getBoundingClientRect().top") >= 0  # shown on focus
        page.keyboard.press("Enter")
        page.keyboard.press("Tab")
        expect(page.locator("#phone")).to_be_focused()
        outline = page.locator("#phone").evaluate(
            "el => [getComputedStyle(el).outlineStyle, getComputedStyle(el).outlineWidth]"
        )
        assert outline == ["solid", "3px"], outline
        page.keyboard.type("+389 70 555 010")
        page.keyboard.press("Enter")
        expect(page.locator("#code")).to_be_focused()
        page.keyboard.type(live_server.last_code(e164))
        page.keyboard.press("Enter")
        expect(page.locator("#card-title")).to_be_focused()
        expect(page.locator("#balance-available")).to_have_text("80")
        page.keyboard.press("Shift+Tab")  # back into the tab bar: a link with a focus ring
        focused = page.evaluate(
            "() => [document.activeElement.tagName, getComputedStyle(document.activeElement).outlineStyle]"
        )
        assert focused == ["A", "solid"], focused
        page.screenshot(path=str(artifacts / "keyboard-focus.png"))

        # 16 minutes later the in-memory access token has expired: the next request first
        # swaps the refresh cookie for a new one, and the member notices nothing.
        refreshes: list[str] = []
        page.on(
            "request",
            lambda r: refreshes.append(r.url) if "refreshSession" in (r.post_data or "") else None,
        )
        page.clock.fast_forward("16:00")
        page.keyboard.press("Enter")  # the focused tab link: Profile
        expect(page.locator("#profile-phone")).to_have_text(e164)
        assert len(refreshes) == 1, refreshes

        # The same page on a desktop screen: centred, still readable (and audited).
        page.set_viewport_size({"width": 1280, "height": 900})
        page.get_by_role("link", name="Card").click()
        expect(page.locator("#balance-available")).to_have_text("80")
        expect(page.locator("#card-content")).not_to_have_attribute("aria-busy", "true")
        assert page.evaluate(AUDIT_JS.replace("screen.width", "window.innerWidth")) == []
        page.screenshot(path=str(artifacts / "desktop-card.png"))
    finally:
        context.close()


def test_language_switch_keeps_a_visible_focus_ring(
    live_server: LiveServer, browser: Any, artifacts: Path
) -> None:
    """WCAG 2.4.7: the focus ring of SQ / EN is drawn whole, not clipped by the switch."""
    import io

    from PIL import Image
    from playwright.sync_api import expect

    context = browser.new_context(viewport=PHONE_SIZE, reduced_motion="reduce")
    page = context.new_page()
    try:
        page.goto(live_server.base_url + "/?lang=sq")
        expect(page.locator("#screen-phone")).to_be_visible()
        page.locator("body").focus()
        for _ in range(5):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.dataset.lang") == "en":
                break
        button = page.locator(".lang[data-lang=en]")
        expect(button).to_be_focused()
        box = button.bounding_box()
        assert box is not None
        margin = 8
        clip = {
            "x": box["x"] - margin,
            "y": box["y"] - margin,
            "width": box["width"] + 2 * margin,
            "height": box["height"] + 2 * margin,
        }
        page.screenshot(path=str(artifacts / "lang-switch-focus.png"), clip=clip)
        image = Image.open(io.BytesIO(page.screenshot(clip=clip))).convert("RGB")
        # The ring's blue (--focus: #1a56db) outside the button itself, on each side.
        focus = (0x1A, 0x56, 0xDB)
        width, height = image.size

        def ring(x: int, y: int) -> bool:
            pixel = image.getpixel((x, y))
            assert isinstance(pixel, tuple)
            return sum(abs(a - b) for a, b in zip(pixel, focus, strict=True)) < 60

        sides = {
            "top": [ring(x, y) for x in range(width) for y in range(margin - 1)],
            "bottom": [
                ring(x, y) for x in range(width) for y in range(height - margin + 1, height)
            ],
            "left": [ring(x, y) for x in range(margin - 1) for y in range(height)],
            "right": [ring(x, y) for x in range(width - margin + 1, width) for y in range(height)],
        }
        for side, pixels in sides.items():
            assert sum(pixels) >= 3, f"no focus ring on the {side} of EN"
    finally:
        context.close()


def decode_qr(locator: Any) -> str:
    """Read a QR code on the page back with zxing-cpp, as a till's scanner would."""
    import io

    import zxingcpp
    from PIL import Image

    image = Image.open(io.BytesIO(locator.screenshot()))
    found = zxingcpp.read_barcodes(image)
    assert found, "no QR code found"
    text: str = found[0].text
    return text


def neptun_store(server: LiveServer) -> tuple[str, str, str]:
    """A Neptun store of the demo coalition: (its name, currency, a fresh API key)."""
    stores = [line.split("\t") for line in server.happy("store", "list").splitlines()]
    header = stores[0]
    code, name, currency = (header.index(c) for c in ("STORE", "STORE NAME", "CURRENCY"))
    store = next(s for s in stores if s[header.index("PARTNER NAME")] == "Neptun")
    code, name, currency = store[code], store[name], store[currency]
    key = server.happy("partner", "key", "create", "--store", code).strip().splitlines()[-1]
    return name, currency, key


SUBMIT = """
mutation($input: ReceiptInput!) {
  submitReceipt(input: $input) {
    __typename
    ... on ReceiptAccepted { pointsEarned balance }
    ... on Error { code message }
  }
}"""

REFUND = """
mutation($input: RefundInput!) {
  refundReceipt(input: $input) {
    __typename
    ... on ReceiptRefunded { refundedAmount pointsReversed balance }
    ... on Error { code message }
  }
}"""


def partner_call(server: LiveServer, key: str, query: str, field: str, input: Any) -> Any:
    answer = httpx.post(
        server.base_url + "/partner/graphql",
        json={"query": query, "variables": {"input": input}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=10,
    ).json()
    return answer["data"][field]


def submit_tv_receipt(
    server: LiveServer, key: str, currency: str, card_number: str
) -> dict[str, Any]:
    """A television and two HDMI cables at a Neptun till; the accepted answer and its id."""
    import uuid
    from datetime import UTC, datetime

    total = 25_000_000  # minor units: 250,000 lek, a television
    receipt_id = f"e2e-{uuid.uuid4().hex[:12]}"
    result = partner_call(
        server,
        key,
        SUBMIT,
        "submitReceipt",
        {
            "receiptId": receipt_id,
            "issuedAt": datetime.now(UTC).isoformat(),
            "currency": currency,
            "total": total,
            "cardNumber": card_number,
            "lines": [
                {
                    "sku": "TV-55",
                    "name": "Televizor 55 inç",
                    "brand": "Samsung",
                    "category": "electronics",
                    "quantity": "1",
                    "unitPrice": total - 50_000,
                    "amount": total - 50_000,
                },
                {
                    "sku": "HDMI-2",
                    "name": "Kabllo HDMI",
                    "brand": None,
                    "category": "accessories",
                    "quantity": "2",
                    "unitPrice": 25_000,
                    "amount": 50_000,
                },
            ],
        },
    )
    assert result["__typename"] == "ReceiptAccepted", result
    return {**result, "receiptId": receipt_id}


def refund_line(server: LiveServer, key: str, receipt: dict[str, Any], line: int) -> dict[str, Any]:
    """The till takes one line of ``receipt`` back whole."""
    result = partner_call(
        server,
        key,
        REFUND,
        "refundReceipt",
        {
            "receiptId": receipt["receiptId"],
            "refundId": f"{receipt['receiptId']}-r{line}",
            "lines": [{"lineNumber": line}],
        },
    )
    assert result["__typename"] == "ReceiptRefunded", result
    return dict(result)


def shop_until(server: LiveServer, card_number: str, points: int) -> int:
    """Receipts at a Neptun till (partner door) until the member has ``points``; the balance."""
    _, currency, key = neptun_store(server)
    balance = 0
    for _ in range(20):
        balance = submit_tv_receipt(server, key, currency, card_number)["balance"]
        if balance >= points:
            return balance
    raise AssertionError(f"still {balance} points after 20 receipts")


OFFER_TEXTS = {
    "sq": {
        "offers_tab": "Ofertat",
        "title": "Ofertat për ju",
        "spar": "Shpenzo 1.500 lekë te Spar, merr 500 pikë",
        "mango": "Pikë dyfish te Mango",
        "needs": "Duhet aktivizuar",
        "activate": "Aktivizo ofertën",
        "activated": "Oferta u aktivizua. Blini te partneri dhe pikët vijnë vetë.",
        "already": "E keni aktivizuar tashmë këtë ofertë.",
        "active": "Aktive",
        "progress_0": "Shpenzoni 1\u00a0500,00\u00a0Lekë: deri tani 0,00\u00a0Lekë",
        "progress_1": "Shpenzoni 1\u00a0500,00\u00a0Lekë: deri tani 1\u00a0000,00\u00a0Lekë",
        "offer_line": "Ofertë: Shpenzo 1.500 lekë te Spar, merr 500 pikë",
        "tier": "Happy",
    },
    "en": {
        "offers_tab": "Offers",
        "title": "Offers for you",
        "spar": "Spend 1,500 ALL at Spar, get 500 points",
        "mango": "Double points at Mango",
        "needs": "Needs activating",
        "activate": "Activate offer",
        "activated": "Offer activated. Shop at the partner and the points come by themselves.",
        "already": "You have already activated this offer.",
        "active": "Active",
        "progress_0": "Spend ALL\u00a01,500.00: ALL\u00a00.00 so far",
        "progress_1": "Spend ALL\u00a01,500.00: ALL\u00a01,000.00 so far",
        "offer_line": "Offer: Spend 1,500 ALL at Spar, get 500 points",
        "tier": "Happy",
    },
}

OFFER_PHONES = {"sq": ("069 555 0202", "+355695550202"), "en": ("+383 44 555 020", "+38344555020")}


@pytest.mark.parametrize("lang", ["sq", "en"])
def test_offers_journey(
    live_server: LiveServer, browser: Any, artifacts: Path, axe_js: Path, lang: str
) -> None:
    """The member sees the demo offers, activates the Spar one (a second tab is told, in
    the page's language, that it is already active), two Spar receipts through the partner
    door complete it, and the receipt's breakdown shows the offer's own line."""
    from playwright.sync_api import expect

    context = new_context(
        browser, axe_js, viewport=PHONE_SIZE, device_scale_factor=2, is_mobile=True,
        has_touch=True, locale="sq-AL", reduced_motion="reduce",
    )  # fmt: skip
    page = context.new_page()
    j = Journey(page, live_server, lang, artifacts)
    o = OFFER_TEXTS[lang]
    typed, e164 = OFFER_PHONES[lang]
    try:
        page.goto(live_server.base_url + f"/?lang={lang}")
        expect(page.locator("#screen-phone")).to_be_visible()
        sign_in(j, typed, e164)
        expect(page.locator("#card-number")).to_have_text(re.compile(r"^\d{4} \d{4}"))
        card_number = page.locator("#card-number").inner_text().replace(" ", "")
        # The tier is on the card: a new member is Happy, with the way to Happy+.
        expect(page.locator("#card-tier")).to_have_text(o["tier"])
        expect(page.locator("#card-tier-next")).to_contain_text("Happy+")

        # The offers screen from the tab bar: what, where, until when, progress.
        page.get_by_role("link", name=o["offers_tab"], exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text(o["title"])
        expect(page.locator("#offers-title")).to_be_focused()
        spar = page.locator(".offer", has_text=o["spar"])
        expect(spar).to_have_count(1)
        expect(page.locator(".offer", has_text=o["mango"])).to_have_count(1)
        expect(spar).to_contain_text(o["needs"])
        expect(spar).to_contain_text("Spar")
        expect(spar.locator(".offer-progress .hint")).to_have_text(o["progress_0"])
        # An offer for Happy+ members only is not shown to a Happy member.
        expect(page.locator(".offer", has_text="Neptun")).to_have_count(0)
        j.shot("offers")

        # A second tab has the same screen open before the member activates in the first.
        second = context.new_page()
        second.goto(live_server.base_url + f"/?lang={lang}#offers")
        second_spar = second.locator(".offer", has_text=o["spar"])
        expect(second_spar.get_by_role("button", name=o["activate"])).to_be_visible()

        spar.get_by_role("button", name=o["activate"]).click()
        expect(spar.get_by_role("status")).to_have_text(o["activated"])
        expect(spar.get_by_role("button", name=o["activate"])).to_have_count(0)
        expect(spar).to_contain_text(o["active"])
        j.shot("offer-activated")

        # The second tab's tap is refused as data, in the page's language, next to the offer.
        second_spar.get_by_role("button", name=o["activate"]).click()
        expect(second_spar.get_by_role("alert")).to_have_text(o["already"])
        second.close()

        # Spar tills (partner door): 1,000 ALL shows as progress, 800 more completes it.
        store, currency, key = spar_store(live_server)
        assert currency == "ALL"
        submit_grocery_receipt(live_server, key, card_number, 100_000)
        page.reload()
        expect(spar.locator(".offer-progress .hint")).to_have_text(o["progress_1"])
        if lang == "en":
            page.screenshot(path=str(artifacts / "offers.png"), full_page=True)
        j.shot("offer-progress")
        accepted = submit_grocery_receipt(live_server, key, card_number, 80_000)
        assert accepted["pointsEarned"] >= 500, accepted
        page.reload()
        expect(page.locator(".offer", has_text=o["spar"])).to_have_count(0)  # completed

        # The receipt that completed it shows the offer's own line in the breakdown.
        page.get_by_role("link", name=j.text["receipts_tab"], exact=True).click()
        receipts = page.locator("#receipts .receipt-item")
        expect(receipts).to_have_count(2)
        expect(receipts.first).to_contain_text(store)
        receipts.first.get_by_role("link").click()
        line = page.locator("#receipt .breakdown-offer")
        expect(line).to_have_count(1)
        expect(line).to_contain_text(o["offer_line"])
        expect(line.locator(".points")).to_have_text("500")
        j.shot("receipt-offer")
        assert j.problems == [], j.problems
    finally:
        context.close()


def spar_store(server: LiveServer) -> tuple[str, str, str]:
    """A Spar store of the demo coalition: (its name, currency, a fresh API key)."""
    stores = [line.split("\t") for line in server.happy("store", "list").splitlines()]
    header = stores[0]
    code, name, currency = (header.index(c) for c in ("STORE", "STORE NAME", "CURRENCY"))
    store = next(s for s in stores if s[header.index("PARTNER NAME")] == "Spar")
    code, name, currency = store[code], store[name], store[currency]
    key = server.happy("partner", "key", "create", "--store", code).strip().splitlines()[-1]
    return name, currency, key


def submit_grocery_receipt(
    server: LiveServer, key: str, card_number: str, total: int
) -> dict[str, Any]:
    """One basket at a Spar till for ``total`` minor units of lek."""
    import uuid
    from datetime import UTC, datetime

    result = partner_call(
        server,
        key,
        SUBMIT.replace("code message", "code message field"),
        "submitReceipt",
        {
            "receiptId": f"e2e-spar-{uuid.uuid4().hex[:12]}",
            "issuedAt": datetime.now(UTC).isoformat(),
            "currency": "ALL",
            "total": total,
            "cardNumber": card_number,
            "lines": [
                {
                    "sku": "BUKE-1",
                    "name": "Bukë fshati",
                    "brand": None,
                    "category": "bakery",
                    "quantity": "1",
                    "unitPrice": total,
                    "amount": total,
                }
            ],
        },
    )
    assert result["__typename"] == "ReceiptAccepted", result
    return dict(result)
