"""Sessions: short access tokens checked strictly, rotating refresh tokens, logout."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta
from typing import Any

import jwt

from app.settings import Settings
from tests.helpers import Api

PHONE = "069 123 4567"

REFRESH = """
mutation($t: String!) {
  refreshSession(refreshToken: $t) {
    __typename
    ... on Session { accessToken refreshToken member { phone } }
    ... on Error { code message }
  }
}"""

LOGOUT = "mutation($e: Boolean!) { logout(everywhere: $e) { sessionsEnded } }"


async def refresh(api: Api, token: str) -> dict[str, Any]:
    body = await api.gql(REFRESH, {"t": token})
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["refreshSession"]
    return result


async def me_error_code(api: Api, token: str) -> str | None:
    body = await api.gql("{ me { phone } }", token=token)
    if "errors" not in body:
        return None
    assert body["data"] is None
    code: str = body["errors"][0]["extensions"]["code"]
    return code


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_access_token_is_short_lived_and_fully_claimed(api: Api, settings: Settings) -> None:
    session = await api.sign_up(PHONE)
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    assert set(claims) >= {"iss", "aud", "exp", "iat", "jti", "sub", "sid"}
    assert claims["exp"] - claims["iat"] <= 15 * 60
    assert jwt.get_unverified_header(session["accessToken"])["alg"] == "HS256"


async def test_refresh_rotates_and_old_token_stops_working(api: Api) -> None:
    first = await api.sign_up(PHONE)
    second = await refresh(api, first["refreshToken"])
    assert second["__typename"] == "Session"
    assert second["refreshToken"] != first["refreshToken"]
    assert second["member"]["phone"] == "+355691234567"
    assert await me_error_code(api, second["accessToken"]) is None
    third = await refresh(api, second["refreshToken"])
    assert third["__typename"] == "Session"


async def test_reuse_of_a_rotated_refresh_token_revokes_the_family(api: Api) -> None:
    first = await api.sign_up(PHONE)
    second = await refresh(api, first["refreshToken"])
    # An attacker replays the stolen, already rotated token:
    replay = await refresh(api, first["refreshToken"])
    assert replay["__typename"] == "SessionError"
    assert replay["code"] == "UNAUTHENTICATED"
    # ... which ends the whole session: the legitimate newest tokens stop working too.
    assert (await refresh(api, second["refreshToken"]))["__typename"] == "SessionError"
    assert await me_error_code(api, second["accessToken"]) == "UNAUTHENTICATED"


async def test_unknown_refresh_token_is_refused(api: Api) -> None:
    await api.sign_up(PHONE)
    result = await refresh(api, "not-a-token")
    assert result["__typename"] == "SessionError"
    assert result["message"]


async def test_refresh_token_expires(api: Api, frozen_now: list[Any], settings: Settings) -> None:
    first = await api.sign_up(PHONE)
    frozen_now[0] += timedelta(days=settings.refresh_token_ttl_days, seconds=1)
    assert (await refresh(api, first["refreshToken"]))["__typename"] == "SessionError"


async def test_logout_ends_this_session_only(api: Api) -> None:
    phone_session = await api.sign_up(PHONE)
    sent = await api.request_otp(PHONE)
    assert sent["__typename"] == "RateLimitedError"  # 30 s between codes
    other = await api.sign_up("+38344123456")
    body = await api.gql(LOGOUT, {"e": False}, token=phone_session["accessToken"])
    assert body["data"]["logout"]["sessionsEnded"] == 1
    assert await me_error_code(api, phone_session["accessToken"]) == "UNAUTHENTICATED"
    assert (await refresh(api, phone_session["refreshToken"]))["__typename"] == "SessionError"
    assert await me_error_code(api, other["accessToken"]) is None


async def test_logout_everywhere(api: Api, frozen_now: list[Any]) -> None:
    one = await api.sign_up(PHONE)
    frozen_now[0] += timedelta(seconds=31)
    two = await api.sign_up(PHONE)
    assert two["isNewMember"] is False
    body = await api.gql(LOGOUT, {"e": True}, token=two["accessToken"])
    assert body["data"]["logout"]["sessionsEnded"] == 2
    for session in (one, two):
        assert await me_error_code(api, session["accessToken"]) == "UNAUTHENTICATED"


async def test_logout_needs_a_session(api: Api) -> None:
    body = await api.gql(LOGOUT, {"e": False})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_alg_none_token_is_refused(api: Api) -> None:
    session = await api.sign_up(PHONE)
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    assert await me_error_code(api, forged) == "UNAUTHENTICATED"


async def test_tampered_token_is_refused(api: Api) -> None:
    session = await api.sign_up(PHONE)
    other = await api.sign_up("+38970123456")
    header, _payload, signature = session["accessToken"].split(".")
    other_claims = jwt.decode(other["accessToken"], options={"verify_signature": False})
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    claims["sub"] = other_claims["sub"]
    tampered = f"{header}.{_b64(claims)}.{signature}"
    assert await me_error_code(api, tampered) == "UNAUTHENTICATED"


async def test_token_signed_with_another_key_or_algorithm_is_refused(
    api: Api, settings: Settings
) -> None:
    session = await api.sign_up(PHONE)
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    wrong_key = jwt.encode(claims, "another-secret-" + "z" * 32, algorithm="HS256")
    assert await me_error_code(api, wrong_key) == "UNAUTHENTICATED"
    wrong_alg = jwt.encode(claims, settings.jwt_secret, algorithm="HS384")
    assert await me_error_code(api, wrong_alg) == "UNAUTHENTICATED"


async def test_wrong_audience_or_issuer_is_refused(api: Api, settings: Settings) -> None:
    session = await api.sign_up(PHONE)
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    for change in ({"aud": "happy-partner"}, {"iss": "someone-else"}):
        token = jwt.encode({**claims, **change}, settings.jwt_secret, algorithm="HS256")
        assert await me_error_code(api, token) == "UNAUTHENTICATED"
    missing_jti = {k: v for k, v in claims.items() if k != "jti"}
    token = jwt.encode(missing_jti, settings.jwt_secret, algorithm="HS256")
    assert await me_error_code(api, token) == "UNAUTHENTICATED"


async def test_long_lived_token_even_if_signed_is_refused(api: Api, settings: Settings) -> None:
    session = await api.sign_up(PHONE)
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    now = int(time.time())
    long_lived = {**claims, "iat": now, "exp": now + 24 * 3600}
    token = jwt.encode(long_lived, settings.jwt_secret, algorithm="HS256")
    assert await me_error_code(api, token) == "UNAUTHENTICATED"


async def test_access_token_expires_after_15_minutes(api: Api, frozen_now: list[Any]) -> None:
    session = await api.sign_up(PHONE)
    frozen_now[0] += timedelta(minutes=14)
    assert await me_error_code(api, session["accessToken"]) is None
    frozen_now[0] += timedelta(minutes=1, seconds=10)
    assert await me_error_code(api, session["accessToken"]) == "UNAUTHENTICATED"
    # The refresh token still gets a new access token.
    renewed = await refresh(api, session["refreshToken"])
    assert await me_error_code(api, renewed["accessToken"]) is None


async def test_garbage_authorization_headers(api: Api) -> None:
    for token in ("", "abc", "a.b.c", "Bearer"):
        body = await api.client.post(
            "/graphql",
            json={"query": "{ me { phone } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert body.status_code == 200
        assert body.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
