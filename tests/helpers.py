"""Clients for the doors, used by tests as the apps would call them."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self, to: str | None = None) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        rows = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [r for r in rows if to is None or r["to"] == to]

    def last_code(self, to: str) -> str:
        messages = self.messages(to)
        assert messages, f"no SMS sent to {to}"
        match = re.search(r"\b(\d{6})\b", messages[-1]["text"])
        assert match, messages[-1]
        return match.group(1)


class Api:
    """Small client for the member door, as the app would call it."""

    def __init__(self, client: httpx.AsyncClient, outbox: Outbox) -> None:
        self.client = client
        self.outbox = outbox

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if language:
            headers["Accept-Language"] = language
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def request_otp(self, phone: str, **kw: Any) -> dict[str, Any]:
        body = await self.gql(REQUEST_OTP, {"phone": phone}, **kw)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["requestOtp"]
        return result

    async def verify_otp(
        self, phone: str, code: str, channel: str = "APP", **kw: Any
    ) -> dict[str, Any]:
        body = await self.gql(VERIFY_OTP, {"phone": phone, "code": code, "channel": channel}, **kw)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["verifyOtp"]
        return result

    async def sign_up(self, phone: str, channel: str = "APP") -> dict[str, Any]:
        sent = await self.request_otp(phone)
        assert sent["__typename"] == "OtpRequested", sent
        session = await self.verify_otp(
            sent["phone"], self.outbox.last_code(sent["phone"]), channel
        )
        assert session["__typename"] == "Session", session
        return session

    async def me(self, token: str) -> dict[str, Any]:
        body = await self.gql(ME, token=token)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["me"]
        return result


REQUEST_OTP = """
mutation($phone: String!) {
  requestOtp(phone: $phone) {
    __typename
    ... on OtpRequested { phone expiresAt resendAfterSeconds }
    ... on Error { code message field }
    ... on RateLimitedError { retryAfterSeconds }
  }
}"""

VERIFY_OTP = """
mutation($phone: String!, $code: String!, $channel: Channel!) {
  verifyOtp(phone: $phone, code: $code, channel: $channel) {
    __typename
    ... on Session {
      accessToken refreshToken isNewMember accessTokenExpiresAt
      member { id phone registrationChannel card { number } balance { available lifetime } }
    }
    ... on Error { code message field }
    ... on CodeError { attemptsLeft }
    ... on RateLimitedError { retryAfterSeconds }
  }
}"""

ME = """
query {
  me {
    id phone firstName lastName language registrationChannel
    card { number }
    balance { available pending lifetime }
    activity(first: 10) { edges { cursor node { kind points balanceAfter } } pageInfo { hasNextPage endCursor } }
  }
}"""
