"""The refresh token of browser clients, kept in an HttpOnly cookie instead of the body.

A request that says ``X-Happy-Client: web`` is the microsite. For it, ``verifyOtp`` and
``refreshSession`` put the refresh token in a cookie the page's JavaScript cannot read
(HttpOnly), that the browser only sends to the GraphQL endpoint (Path) of this site
(SameSite=Strict), over HTTPS outside development (Secure), and return
``refreshToken: null``. ``refreshSession`` without an argument reads the cookie, but
only with that header: a custom header cannot be sent cross-site without a CORS
preflight, which this server never allows, so a forged form post cannot use the cookie.
The mobile app (no header) keeps receiving and sending the token in the body.
"""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request
from starlette.responses import Response

from app.settings import Settings

WEB_CLIENT_HEADER = "x-happy-client"
WEB_CLIENT_VALUE = "web"
REFRESH_COOKIE = "happy_refresh"
REFRESH_COOKIE_PATH = "/graphql"


def is_web_client(request: Request) -> bool:
    """The caller is a browser page of ours (the microsite)."""
    return request.headers.get(WEB_CLIENT_HEADER, "").strip().lower() == WEB_CLIENT_VALUE


def cookie_is_secure(settings: Settings) -> bool:
    """Plain http is only acceptable on a developer's machine."""
    return settings.env != "development"


def refresh_token_from_cookie(request: Request) -> str | None:
    """The refresh token a web client's browser sent, if any."""
    if not is_web_client(request):
        return None
    token = request.cookies.get(REFRESH_COOKIE, "").strip()
    return token or None


def set_refresh_cookie(
    response: Response, settings: Settings, token: str, expires_at: datetime, now: datetime
) -> None:
    """Hand the refresh token to the browser as an HttpOnly, SameSite=Strict cookie."""
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=max(0, int((expires_at - now).total_seconds())),
        path=REFRESH_COOKIE_PATH,
        secure=cookie_is_secure(settings),
        httponly=True,
        samesite="strict",
    )


def clear_refresh_cookie(response: Response, settings: Settings) -> None:
    """Tell the browser to forget the refresh token."""
    response.delete_cookie(
        REFRESH_COOKIE,
        path=REFRESH_COOKIE_PATH,
        secure=cookie_is_secure(settings),
        httponly=True,
        samesite="strict",
    )
