"""Terms and privacy pages, and the operator named in the microsite's footer.

The texts are the operator's (``HAPPY_TERMS_FILE``, ``HAPPY_PRIVACY_FILE``, ``{lang}`` in
the path), the name and contact come from ``HAPPY_OPERATOR_NAME`` and
``HAPPY_OPERATOR_CONTACT``; the repository ships placeholders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Operator, Settings, SettingsError, load_settings
from tests.conftest import with_settings
from tests.microsite.test_pages import _InlineFinder, assert_security_headers
from web.microsite import contact_html


async def _get(app: Any, path: str, **kw: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        return await c.get(path, **kw)


def _operator_texts(tmp_path: Path) -> Operator:
    for page in ("terms", "privacy"):
        (tmp_path / f"{page}.sq.html").write_text(
            f"<h2>{page} sq</h2><p>Operatori: {{{{operator_name}}}}</p>", encoding="utf-8"
        )
    (tmp_path / "terms.en.html").write_text("<h2>terms en</h2>", encoding="utf-8")
    return Operator(
        name="Happy Loyalty Sh.p.k. <&>",
        contact="ndihma@happy.al",
        terms_file=str(tmp_path / "terms.{lang}.html"),
        privacy_file=str(tmp_path / "privacy.{lang}.html"),
    )


async def test_placeholder_terms_and_privacy_in_both_languages(client: httpx.AsyncClient) -> None:
    for path, sq_title, en_title in (
        ("/terms", "Rregullat e programit Happy", "Happy programme rules"),
        ("/privacy", "Njoftimi i privatësisë", "Privacy notice"),
    ):
        sq = await client.get(path)
        assert sq.status_code == 200, sq.text
        assert sq.headers["content-type"].startswith("text/html")
        assert sq.headers["cache-control"] == "no-cache"
        assert_security_headers(sq)
        assert '<html lang="sq">' in sq.text and f"<h1>{sq_title}</h1>" in sq.text
        assert "tekst shembull" in sq.text  # the placeholder says it is one
        assert "Happy (demo operator)" in sq.text
        assert "{{" not in sq.text and "{lang}" not in sq.text
        en = await client.get(path + "?lang=en")
        assert '<html lang="en">' in en.text and f"<h1>{en_title}</h1>" in en.text
        assert "sample text" in en.text
        by_header = await client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
        assert '<html lang="en">' in by_header.text
        unknown = await client.get(path + "?lang=xx", headers={"Accept-Language": "de"})
        assert '<html lang="sq">' in unknown.text
        finder = _InlineFinder()
        finder.feed(sq.text)
        assert finder.problems == []


async def test_operator_texts_name_and_contact_from_settings(
    settings: Settings, db: Any, tmp_path: Path
) -> None:
    app = create_app(with_settings(settings, operator=_operator_texts(tmp_path)), db)
    terms = await _get(app, "/terms?lang=sq")
    assert "<h2>terms sq</h2>" in terms.text
    # The name is escaped wherever it appears; the e-mail becomes a mailto link.
    assert "Operatori: Happy Loyalty Sh.p.k. &lt;&amp;&gt;" in terms.text
    assert "<&>" not in terms.text
    assert '<a href="mailto:ndihma@happy.al">ndihma@happy.al</a>' in terms.text
    assert "<h2>terms en</h2>" in (await _get(app, "/terms?lang=en")).text
    # No English privacy text: the Albanian one, in an English page.
    privacy_en = await _get(app, "/privacy?lang=en")
    assert "<h2>privacy sq</h2>" in privacy_en.text and "<h1>Privacy notice</h1>" in privacy_en.text

    page = await _get(app, "/")
    assert page.status_code == 200
    assert '<span class="operator-name">Happy Loyalty Sh.p.k. &lt;&amp;&gt;</span>' in page.text
    assert '<a href="mailto:ndihma@happy.al">ndihma@happy.al</a>' in page.text
    assert "{{" not in page.text
    assert_security_headers(page)


async def test_sign_in_and_footer_link_to_the_terms_and_privacy(client: httpx.AsyncClient) -> None:
    page = (await client.get("/")).text
    fineprint = page.split('<p class="fineprint">', 1)[1].split("</p>", 1)[0]
    assert 'href="/terms"' in fineprint and 'href="/privacy"' in fineprint
    footer = page.split('<footer class="footer">', 1)[1].split("</footer>", 1)[0]
    assert 'href="/terms"' in footer and 'href="/privacy"' in footer
    assert "Happy (demo operator)" in footer
    assert 'href="mailto:info@happy.example"' in footer


@pytest.mark.parametrize(
    ("contact", "expected"),
    [
        ("info@happy.al", '<a href="mailto:info@happy.al">info@happy.al</a>'),
        ("+355 4 123 4567", '<a href="tel:+35541234567">+355 4 123 4567</a>'),
        (
            "https://happy.al/kontakt",
            '<a href="https://happy.al/kontakt">https://happy.al/kontakt</a>',
        ),
        ("Rruga e Kavajës 1, Tiranë", "Rruga e Kavajës 1, Tiranë"),
        ('javascript:alert("x")', "javascript:alert(&quot;x&quot;)"),
        ("<b>x</b>@evil.com", "&lt;b&gt;x&lt;/b&gt;@evil.com"),
    ],
)
def test_contact_becomes_a_link_only_when_it_is_safe(contact: str, expected: str) -> None:
    assert contact_html(contact) == expected


def test_settings_read_the_operator_and_refuse_missing_texts(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    operator = _operator_texts(tmp_path)
    monkeypatch.setenv("HAPPY_OPERATOR_NAME", "  Happy Loyalty  ")
    monkeypatch.setenv("HAPPY_OPERATOR_CONTACT", "+355 4 123 4567")
    monkeypatch.setenv("HAPPY_TERMS_FILE", operator.terms_file)
    monkeypatch.setenv("HAPPY_PRIVACY_FILE", operator.privacy_file)
    loaded = load_settings().operator
    assert loaded.name == "Happy Loyalty"
    assert loaded.contact == "+355 4 123 4567"
    assert loaded.legal_file("terms", "en") == tmp_path / "terms.en.html"
    assert loaded.legal_file("privacy", "en") == tmp_path / "privacy.sq.html"

    monkeypatch.setenv("HAPPY_PRIVACY_FILE", str(tmp_path / "missing.{lang}.html"))
    monkeypatch.setenv("HAPPY_OPERATOR_NAME", " ")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert "HAPPY_OPERATOR_NAME" in str(refused.value)
    assert "HAPPY_PRIVACY_FILE" in str(refused.value) and "missing.sq.html" in str(refused.value)
