"""The member microsite: static pages (plain HTML, CSS, JavaScript modules) at ``/``.

The pages talk only to the member GraphQL door at ``/graphql``, like the mobile app.
``/`` is the page itself; its files live under ``/microsite/``; ``/terms`` and
``/privacy`` are the operator's texts (settings: ``HAPPY_TERMS_FILE`` ...), plain HTML
pages that need no script. Exact routes, so the microsite never shadows another door
whatever the order of mounts.
"""

from __future__ import annotations

import html
import os
import re

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from app.settings import LEGAL_LANGUAGES, PROJECT_ROOT, Operator, Settings

MICROSITE_DIR = PROJECT_ROOT / "static" / "microsite"


class MicrositeFiles(StaticFiles):
    """Static files that browsers revalidate, so a deploy is seen at the next visit."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("cache-control", "no-cache")
        return response


NO_CACHE = {"cache-control": "no-cache"}


def _operator(request: Request) -> Operator:
    settings: Settings = request.app.state.settings
    return settings.operator


def contact_html(contact: str) -> str:
    """The operator's contact as a link where it is an e-mail, a phone or a web address."""
    text = html.escape(contact)
    if re.fullmatch(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", contact):
        return f'<a href="mailto:{text}">{text}</a>'
    if re.fullmatch(r"\+?[\d\s()-]{6,}", contact):
        number = re.sub(r"[^\d+]", "", contact)
        return f'<a href="tel:{number}">{text}</a>'
    if re.fullmatch(r"https://\S+", contact):
        return f'<a href="{text}">{text}</a>'
    return text


def fill_operator(template: str, operator: Operator) -> str:
    """``{{operator_name}}`` and ``{{operator_contact}}`` in a page or legal text."""
    return template.replace("{{operator_name}}", html.escape(operator.name)).replace(
        "{{operator_contact}}", contact_html(operator.contact)
    )


async def microsite_page(request: Request) -> Response:
    page = (MICROSITE_DIR / "index.html").read_text(encoding="utf-8")
    return HTMLResponse(fill_operator(page, _operator(request)), headers=NO_CACHE)


LEGAL_TEXTS = {
    "sq": {
        "terms": "Rregullat e programit Happy",
        "privacy": "Njoftimi i privatësisë",
        "back": "Kthehu te Happy",
        "language": "Gjuha",
        "run_by": "Programi Happy drejtohet nga",
        "contact": "Kontakt",
        "terms_link": "Rregullat e programit",
        "privacy_link": "Privatësia",
        "skip": "Kalo te përmbajtja",
    },
    "en": {
        "terms": "Happy programme rules",
        "privacy": "Privacy notice",
        "back": "Back to Happy",
        "language": "Language",
        "run_by": "The Happy programme is run by",
        "contact": "Contact",
        "terms_link": "Programme rules",
        "privacy_link": "Privacy",
        "skip": "Skip to content",
    },
}

LEGAL_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light">
  <title>{title} · Happy</title>
  <link rel="icon" href="/microsite/img/logo.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/microsite/styles.css">
</head>
<body>
  <a class="skip-link" href="#main">{skip}</a>
  <header class="topbar">
    <a class="brand" href="/?lang={lang}" aria-label="Happy">
      <img src="/microsite/img/logo.svg" alt="" width="36" height="36">
      <span class="brand-name">Happy</span>
    </a>
    <nav class="lang-switch" aria-label="{language}">{switch}</nav>
  </header>
  <main id="main" tabindex="-1" class="legal">
    <a class="back" href="/?lang={lang}">{back}</a>
    <h1>{title}</h1>
    <article class="panel legal-text">
{text}
    </article>
  </main>
  <footer class="footer">
    <p>{run_by} <span class="operator-name">{{{{operator_name}}}}</span></p>
    <p>{contact}: {{{{operator_contact}}}}</p>
    <p><a href="/terms?lang={lang}">{terms_link}</a> ·
       <a href="/privacy?lang={lang}">{privacy_link}</a></p>
  </footer>
</body>
</html>
"""


def page_language(request: Request) -> str:
    """``?lang=`` if it is one of ours, else the first of ours in Accept-Language, else sq."""
    asked = request.query_params.get("lang", "").lower()
    if asked in LEGAL_LANGUAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LEGAL_LANGUAGES:
            return tag
    return "sq"


def render_legal_page(page: str, lang: str, operator: Operator) -> str:
    texts = LEGAL_TEXTS[lang]
    switch = "".join(
        f'<a class="lang" href="?lang={code}" lang="{code}"'
        + (' aria-current="page"' if code == lang else "")
        + f">{code.upper()}</a>"
        for code in LEGAL_LANGUAGES
    )
    text = operator.legal_file(page, lang).read_text(encoding="utf-8")
    document = LEGAL_PAGE.format(lang=lang, title=texts[page], switch=switch, text=text, **texts)
    return fill_operator(document, operator)


async def terms_page(request: Request) -> Response:
    html_text = render_legal_page("terms", page_language(request), _operator(request))
    return HTMLResponse(html_text, headers=NO_CACHE)


async def privacy_page(request: Request) -> Response:
    html_text = render_legal_page("privacy", page_language(request), _operator(request))
    return HTMLResponse(html_text, headers=NO_CACHE)


def microsite_routes() -> list[BaseRoute]:
    """``/`` serves the microsite; ``/microsite/...`` its scripts, styles and images;
    ``/terms`` and ``/privacy`` the operator's texts."""
    return [
        Route("/", microsite_page, methods=["GET", "HEAD"]),
        Route("/terms", terms_page, methods=["GET", "HEAD"]),
        Route("/privacy", privacy_page, methods=["GET", "HEAD"]),
        Mount("/microsite", app=MicrositeFiles(directory=MICROSITE_DIR), name="microsite"),
    ]
