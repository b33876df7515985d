"""Member access tokens: short-lived JWTs (HS256, fixed on the server)."""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from app import clock
from app.errors import AuthenticationRequired
from app.keys import Keys
from app.settings import Settings

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["iss", "aud", "exp", "iat", "jti", "sub", "sid"]
LEEWAY_SECONDS = 5


@dataclass(frozen=True)
class AccessClaims:
    member_public_id: str
    session_id: str


def issue_access_token(
    keys: Keys, settings: Settings, *, member_public_id: str, session_id: str, now: datetime
) -> tuple[str, datetime]:
    """A signed access token and its expiry (at most 15 minutes)."""
    expires_at = now + timedelta(seconds=min(settings.access_token_ttl_seconds, 900))
    claims = {
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "sub": member_public_id,
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, keys.jwt_secret, algorithm=ALGORITHM), expires_at


def decode_access_token(
    keys: Keys, settings: Settings, token: str, now: datetime | None = None
) -> AccessClaims:
    """Verify signature, algorithm, issuer, audience and expiry; raise on anything else.

    Expiry and issue time are checked against :func:`app.clock.now` (not the system
    clock directly) so the rules can be tested, on every call; the signature, issuer and
    audience check of a token is remembered (:func:`_verified_claims`).
    """
    try:
        sub, sid, exp, iat = _verified_claims(
            token, keys.jwt_secret, settings.jwt_audience, settings.jwt_issuer
        )
    except jwt.PyJWTError as exc:
        raise AuthenticationRequired(str(exc)) from exc
    moment = (now or clock.now()).timestamp()
    if not isinstance(exp, int | float) or not isinstance(iat, int | float):
        raise AuthenticationRequired("malformed time claims")
    if exp <= moment - LEEWAY_SECONDS:
        raise AuthenticationRequired("token expired")
    if iat > moment + LEEWAY_SECONDS or exp - iat > 900:
        raise AuthenticationRequired("token issued in the future or lives too long")
    return AccessClaims(member_public_id=sub, session_id=sid)


# A member's app sends the same token with every request for up to 15 minutes: its
# signature (HMAC, base64, JSON) is checked once per process and the verified claims kept,
# keyed by the token *and* the secret, issuer and audience it was checked with (a new
# secret checks every token anew). Failures are not kept: a bad token is checked each time.
@functools.lru_cache(maxsize=8192)
def _verified_claims(
    token: str, secret: bytes, audience: str, issuer: str
) -> tuple[str, str, object, object]:
    claims = jwt.decode(
        token,
        secret,
        algorithms=[ALGORITHM],
        audience=audience,
        issuer=issuer,
        options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
    )
    return str(claims["sub"]), str(claims["sid"]), claims["exp"], claims["iat"]
