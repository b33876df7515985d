"""Access tokens: the signature check is remembered per token, the time checks are not."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from app.errors import AuthenticationRequired
from app.keys import Keys
from app.settings import Settings
from auth.tokens import decode_access_token, issue_access_token


def _keys(secret: bytes) -> Keys:
    return Keys(jwt_secret=secret, hash_secret=b"h" * 48)


def test_a_remembered_token_still_expires(settings: Settings) -> None:
    keys = _keys(b"a" * 48)
    now = clock.now()
    token, expires_at = issue_access_token(
        keys, settings, member_public_id="m1", session_id="s1", now=now
    )
    for _ in range(2):  # the second check comes from the remembered signature check
        claims = decode_access_token(keys, settings, token, now=now)
        assert (claims.member_public_id, claims.session_id) == ("m1", "s1")
    with pytest.raises(AuthenticationRequired, match="expired"):
        decode_access_token(keys, settings, token, now=expires_at + timedelta(seconds=10))


def test_a_remembered_token_is_refused_under_another_secret(settings: Settings) -> None:
    now = clock.now()
    token, _ = issue_access_token(
        _keys(b"a" * 48), settings, member_public_id="m1", session_id="s1", now=now
    )
    decode_access_token(_keys(b"a" * 48), settings, token, now=now)
    with pytest.raises(AuthenticationRequired):
        decode_access_token(_keys(b"b" * 48), settings, token, now=now)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    for _ in range(2):  # failures are checked every time, never remembered
        with pytest.raises(AuthenticationRequired):
            decode_access_token(_keys(b"a" * 48), settings, tampered, now=now)
