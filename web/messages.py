"""Links in member messages: the way out of marketing and the email open pixel.

``GET /m/u/<token>`` shows a page with one button (link scanners in mail systems follow
GETs, so a GET never withdraws anything); ``POST /m/u/<token>`` withdraws that channel's
consent through the same rule as ``setMarketingConsent`` (also RFC 8058 one-click from
the email's List-Unsubscribe-Post header). ``GET /m/o/<token>`` records an email opened
and answers a 1x1 GIF.
"""

from __future__ import annotations

import base64
import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from app import clock
from app.db import Database
from app.errors import NotFound
from app.messages import service
from app.messages.links import Links
from app.runtime import Runtime

PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
HEADERS = {"cache-control": "no-store", "referrer-policy": "no-referrer"}

CHANNEL_NAMES = {
    "sms": ("SMS", "SMS"),
    "viber": ("Viber", "Viber"),
    "email": ("email", "email"),
    "push": ("njoftimet", "notifications"),
}


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        '<!doctype html><html lang="sq"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>{body}</main></body></html>",
        status_code=status,
        headers=HEADERS,
    )


def message_routes(db: Database, runtime: Runtime) -> list[BaseRoute]:
    links = Links(runtime.keys, runtime.settings.public_base_url)

    async def unsubscribe(request: Request) -> Response:
        token = request.path_params["token"]
        found = links.read_unsubscribe(token)
        if found is None or found[1] not in CHANNEL_NAMES:
            return _page(
                "Happy",
                '<p>Lidhja nuk është e vlefshme.</p><p lang="en">This link is not valid.</p>',
                404,
            )
        sq, en = CHANNEL_NAMES[found[1]]
        if request.method == "GET":
            return _page(
                "Happy",
                f"<h1>Çregjistrohu nga mesazhet me {html.escape(sq)}</h1>"
                f'<p lang="en">Stop marketing messages by {html.escape(en)}</p>'
                '<form method="post"><button type="submit">Çregjistrohu / Unsubscribe'
                "</button></form>",
            )
        try:
            async with db.unit_of_work() as session:
                await service.withdraw_by_link(session, links, token, clock.now())
        except NotFound:
            return _page("Happy", "<p>Lidhja nuk është e vlefshme.</p>", 404)
        return _page(
            "Happy",
            f"<h1>U çregjistruat nga mesazhet me {html.escape(sq)}.</h1>"
            f'<p lang="en">You will get no more marketing by {html.escape(en)}.</p>',
        )

    async def opened(request: Request) -> Response:
        message_id = links.read_open(request.path_params["token"])
        if message_id is not None:
            async with db.unit_of_work() as session:
                await service.mark_opened(session, message_id, clock.now())
        return Response(PIXEL, media_type="image/gif", headers=HEADERS)

    return [
        Route("/m/u/{token:str}", unsubscribe, methods=["GET", "POST"]),
        Route("/m/o/{token:str}", opened, methods=["GET"]),
    ]
