"""The microsite's files and the security headers, through the app as a browser gets them."""

from __future__ import annotations

import re
from typing import Any

import httpx

from app.main import create_app
from app.security_headers import CONTENT_SECURITY_POLICY, SecurityHeadersMiddleware
from app.settings import Settings
from tests.conftest import with_settings
from tests.helpers import InlineFinder, assert_security_headers, csp_directives
from web.microsite import MICROSITE_DIR


async def test_page_at_root_with_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="sq">' in response.text
    assert '<script type="module" src="/microsite/js/app.js">' in response.text
    assert response.headers["cache-control"] == "no-cache"
    assert_security_headers(response)
    assert "strict-transport-security" not in response.headers  # only in production


async def test_scripts_and_styles_are_served_with_the_right_types(
    client: httpx.AsyncClient,
) -> None:
    script = await client.get("/microsite/js/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].split(";")[0] in {
        "text/javascript",
        "application/javascript",
    }
    assert_security_headers(script)
    style = await client.get("/microsite/styles.css")
    assert style.status_code == 200 and style.headers["content-type"].startswith("text/css")
    logo = await client.get("/microsite/img/logo.svg")
    assert logo.status_code == 200 and logo.headers["content-type"] == "image/svg+xml"
    missing = await client.get("/microsite/nothing.js")
    assert missing.status_code == 404
    assert_security_headers(missing)
    escape = await client.get("/microsite/../app/settings.py")
    assert escape.status_code == 404


async def test_api_answers_carry_the_headers_too(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", json={"query": "{ __typename }"})
    assert response.status_code == 200
    assert_security_headers(response)
    health = await client.get("/healthz")
    assert_security_headers(health)


async def test_https_only_adds_hsts(app: Any) -> None:
    """Production turns it on (create_app: https_only=settings.is_production)."""
    wrapped = SecurityHeadersMiddleware(app, https_only=True)
    transport = httpx.ASGITransport(app=wrapped)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        response = await c.get("/")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")
    assert_security_headers(response)


async def test_graphiql_keeps_its_own_page_in_development(settings: Settings, db: Any) -> None:
    app = create_app(with_settings(settings, graphiql=True), db)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        ide = await c.get("/graphql", headers={"Accept": "text/html"})
        page = await c.get("/")
    assert ide.status_code == 200 and ide.headers["content-type"].startswith("text/html")
    assert "content-security-policy" not in ide.headers  # inline scripts of GraphiQL
    assert ide.headers["x-content-type-options"] == "nosniff"
    assert_security_headers(page)


def test_pages_have_nothing_inline_and_nothing_from_other_sites() -> None:
    finder = InlineFinder()
    finder.feed((MICROSITE_DIR / "index.html").read_text())
    assert finder.problems == []
    for script in (MICROSITE_DIR / "js").glob("*.js"):
        text = script.read_text()
        assert "innerHTML" not in text and "insertAdjacentHTML" not in text, script.name
        assert "sessionStorage" not in text, script.name
        if script.name == "i18n.js":
            # The language choice is the one thing kept in storage: one key, never a token.
            assert set(re.findall(r"localStorage\.(\w+)\(([^,)]*)", text)) == {
                ("getItem", "LANGUAGE_KEY"),
                ("setItem", "LANGUAGE_KEY"),
            }, script.name
        else:
            assert "localStorage" not in text, script.name
        assert "document.cookie" not in text, script.name
        assert not re.search(r"import .* from \"https?:", text), script.name


def test_csp_constant_matches_the_brief() -> None:
    assert csp_directives(CONTENT_SECURITY_POLICY)["frame-ancestors"] == "'none'"


def _catalogue_keys() -> dict[str, set[str]]:
    source = (MICROSITE_DIR / "js" / "i18n.js").read_text()
    sq_part, en_part = source.split("\n  en: {", 1)
    sq_part = sq_part.split("\n  sq: {", 1)[1]
    en_part = en_part.split("\n};", 1)[0]
    key = re.compile(r'^\s+"([\w.]+)":', re.M)
    return {"sq": set(key.findall(sq_part)), "en": set(key.findall(en_part))}


def test_every_ui_text_exists_in_albanian_and_english() -> None:
    keys = _catalogue_keys()
    assert keys["sq"] == keys["en"], keys["sq"] ^ keys["en"]
    used = set(
        re.findall(
            r'data-i18n(?:-aria-label)?="([\w.]+)"', (MICROSITE_DIR / "index.html").read_text()
        )
    )
    for script in (MICROSITE_DIR / "js").glob("*.js"):
        used |= set(re.findall(r'\bt\("([\w.]+)"', script.read_text()))
    assert used, "no texts found: the pattern is wrong"
    assert used - keys["sq"] == set()
