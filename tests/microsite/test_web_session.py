"""The microsite's refresh token in an HttpOnly cookie, through the member door."""

from __future__ import annotations

from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.conftest import with_settings
from tests.helpers import VERIFY_OTP, Api, Outbox

PHONE = "+355691234567"
WEB = {"X-Happy-Client": "web"}
REFRESH = """
mutation($token: String) {
  refreshSession(refreshToken: $token) {
    __typename
    ... on Session { accessToken refreshToken refreshTokenExpiresAt member { phone } }
    ... on Error { code message }
  }
}"""
LOGOUT = "mutation { logout { sessionsEnded } }"
DELETE = "mutation { deleteAccount { deletedAt } }"


async def post(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    web: bool = True,
    cookie: str | None = None,
    token: str | None = None,
    language: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """One request as a browser (web=True) or the app would send it; the Set-Cookie lines."""
    headers = dict(WEB) if web else {}
    if cookie is not None:
        headers["Cookie"] = f"happy_refresh={cookie}"
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if language is not None:
        headers["Accept-Language"] = language
    client.cookies.clear()  # the test decides which cookie is sent
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json(), response.headers.get_list("set-cookie")


def refresh_cookie(set_cookie: list[str]) -> Any:
    [line] = [c for c in set_cookie if c.startswith("happy_refresh=")]
    parsed: SimpleCookie = SimpleCookie()
    parsed.load(line)
    return parsed["happy_refresh"], line


async def web_sign_in(
    client: httpx.AsyncClient, api: Api, outbox: Outbox
) -> tuple[dict[str, Any], str, str]:
    await api.request_otp(PHONE)
    body, set_cookie = await post(
        client,
        VERIFY_OTP,
        {"phone": PHONE, "code": outbox.last_code(PHONE), "channel": "MICROSITE"},
    )
    result = body["data"]["verifyOtp"]
    assert result["__typename"] == "Session", result
    morsel, line = refresh_cookie(set_cookie)
    return result, morsel.value, line


async def test_web_sign_in_puts_refresh_token_in_strict_httponly_cookie(
    client: httpx.AsyncClient, api: Api, outbox: Outbox, settings: Settings, frozen_now: Any
) -> None:
    result, token, line = await web_sign_in(client, api, outbox)
    assert result["refreshToken"] is None
    assert result["accessToken"]
    assert result["member"]["balance"]["available"] == 80
    assert len(token) >= 40
    morsel, _ = refresh_cookie([line])
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "strict"
    assert morsel["path"] == "/graphql"
    assert morsel["secure"] is True  # settings.env is "test": only development may use http
    assert int(morsel["max-age"]) == settings.refresh_token_ttl_days * 86400
    assert token not in str(result)


async def test_development_cookie_is_not_secure_so_http_localhost_works(
    settings: Settings, db: Any, outbox: Outbox
) -> None:
    app = create_app(with_settings(settings, env="development"), db)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.11", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        _, _, line = await web_sign_in(client, Api(client, outbox), outbox)
    morsel, _ = refresh_cookie([line])
    assert morsel["secure"] == ""
    assert "secure" not in line.lower()
    assert morsel["httponly"] is True and morsel["samesite"] == "strict"


async def test_refresh_from_cookie_rotates_it(
    client: httpx.AsyncClient, api: Api, outbox: Outbox
) -> None:
    _, token, _ = await web_sign_in(client, api, outbox)
    body, set_cookie = await post(client, REFRESH, cookie=token)
    result = body["data"]["refreshSession"]
    assert result["__typename"] == "Session", result
    assert result["refreshToken"] is None
    assert result["member"]["phone"] == PHONE
    new_token = refresh_cookie(set_cookie)[0].value
    assert new_token != token
    me = await api.me(result["accessToken"])
    assert me["phone"] == PHONE

    # The spent token coming back means it leaked: refused, the cookie cleared, and the
    # session revoked, so the newer cookie no longer works either.
    body, set_cookie = await post(client, REFRESH, cookie=token, language="en")
    assert body["data"]["refreshSession"]["__typename"] == "SessionError"
    assert body["data"]["refreshSession"]["message"] == (
        "Your session has ended. Please sign in again."
    )
    cleared, line = refresh_cookie(set_cookie)
    assert cleared.value == "" and cleared["max-age"] == "0", line
    body, _ = await post(client, REFRESH, cookie=new_token)
    assert body["data"]["refreshSession"]["__typename"] == "SessionError"


async def test_cookie_is_ignored_without_the_web_client_header(
    client: httpx.AsyncClient, api: Api, outbox: Outbox
) -> None:
    """A cross-site form post cannot set the header, so it cannot use the cookie."""
    _, token, _ = await web_sign_in(client, api, outbox)
    body, set_cookie = await post(client, REFRESH, cookie=token, web=False)
    assert body["data"]["refreshSession"]["__typename"] == "SessionError"
    assert set_cookie == []
    body, _ = await post(client, REFRESH, cookie=token)  # still valid for the real page
    assert body["data"]["refreshSession"]["__typename"] == "Session"


async def test_refresh_without_token_or_cookie_is_a_session_error(
    client: httpx.AsyncClient,
) -> None:
    body, _ = await post(client, REFRESH, language="sq")
    result = body["data"]["refreshSession"]
    assert result == {
        "__typename": "SessionError",
        "code": "UNAUTHENTICATED",
        "message": "Seanca juaj ka përfunduar. Ju lutem hyni përsëri.",
    }
    body, _ = await post(client, REFRESH, web=False)
    assert body["data"]["refreshSession"]["__typename"] == "SessionError"


async def test_logout_clears_the_cookie_and_ends_the_session(
    client: httpx.AsyncClient, api: Api, outbox: Outbox
) -> None:
    result, token, _ = await web_sign_in(client, api, outbox)
    body, set_cookie = await post(client, LOGOUT, token=result["accessToken"])
    assert body["data"]["logout"] == {"sessionsEnded": 1}
    cleared, line = refresh_cookie(set_cookie)
    assert cleared.value == "" and cleared["max-age"] == "0"
    assert cleared["path"] == "/graphql" and cleared["httponly"] is True, line
    body, _ = await post(client, REFRESH, cookie=token)
    assert body["data"]["refreshSession"]["__typename"] == "SessionError"


async def test_logout_without_access_token_still_clears_the_cookie(
    client: httpx.AsyncClient, api: Api, outbox: Outbox
) -> None:
    await web_sign_in(client, api, outbox)
    body, set_cookie = await post(client, LOGOUT)
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    cleared, _ = refresh_cookie(set_cookie)
    assert cleared.value == ""


async def test_delete_account_clears_the_cookie(
    client: httpx.AsyncClient, api: Api, outbox: Outbox
) -> None:
    result, token, _ = await web_sign_in(client, api, outbox)
    body, set_cookie = await post(client, DELETE, token=result["accessToken"])
    assert body["data"]["deleteAccount"]["deletedAt"]
    assert refresh_cookie(set_cookie)[0].value == ""
    body, _ = await post(client, REFRESH, cookie=token)
    assert body["data"]["refreshSession"]["__typename"] == "SessionError"


@pytest.mark.parametrize("channel", ["APP", "MICROSITE"])
async def test_mobile_flow_is_unchanged(
    client: httpx.AsyncClient, api: Api, outbox: Outbox, channel: str
) -> None:
    await api.request_otp(PHONE)
    body, set_cookie = await post(
        client,
        VERIFY_OTP,
        {"phone": PHONE, "code": outbox.last_code(PHONE), "channel": channel},
        web=False,
    )
    result = body["data"]["verifyOtp"]
    assert result["__typename"] == "Session"
    assert result["refreshToken"]
    assert set_cookie == []
    body, set_cookie = await post(client, REFRESH, {"token": result["refreshToken"]}, web=False)
    rotated = body["data"]["refreshSession"]
    assert rotated["__typename"] == "Session"
    assert rotated["refreshToken"] and rotated["refreshToken"] != result["refreshToken"]
    assert set_cookie == []
    body, set_cookie = await post(client, LOGOUT, token=rotated["accessToken"], web=False)
    assert body["data"]["logout"] == {"sessionsEnded": 1}
    assert set_cookie == []
