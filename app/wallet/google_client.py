"""Google Wallet REST clients behind ``wallet_passes.google.GoogleWalletClient``.

``OutboxGoogleWalletClient`` records requests (memory and a JSON-lines file) for development
and tests; ``GoogleRestClient`` sends them with an OAuth access token obtained from the
service account key (JWT bearer grant, RFC 7523), kept until shortly before it expires.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt

from wallet_passes.google import ISSUER_SCOPE, RecordingGoogleWalletClient, WalletRequest


class OutboxGoogleWalletClient(RecordingGoogleWalletClient):
    """Records requests instead of sending them; also appends them to ``log_path``."""

    def __init__(self, log_path: Path | None = None) -> None:
        super().__init__()
        self.log_path = log_path

    async def send(self, request: WalletRequest) -> int:
        status = await super().send(request)
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            line = json.dumps(
                {"method": request.method, "url": request.url, "json": request.json},
                sort_keys=True,
            )
            with self.log_path.open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
        return status


class GoogleRestClient:
    """Sends Wallet REST requests as the service account (production)."""

    def __init__(
        self,
        service_account: dict[str, Any],
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.service_account = service_account
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._token: str | None = None
        self._token_expires = 0.0

    async def _access_token(self) -> str:
        if self._token is not None and time.time() < self._token_expires - 60:
            return self._token
        account = self.service_account
        token_uri = str(account.get("token_uri", "https://oauth2.googleapis.com/token"))
        issued = int(time.time())
        assertion = jwt.encode(
            {
                "iss": account["client_email"],
                "scope": ISSUER_SCOPE,
                "aud": token_uri,
                "iat": issued,
                "exp": issued + 3600,
            },
            account["private_key"],
            algorithm="RS256",
            headers={"kid": account["private_key_id"]},
        )
        response = await self._client.post(
            token_uri,
            data={
                "grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": assertion,
            },
        )
        response.raise_for_status()
        body = response.json()
        self._token = str(body["access_token"])
        self._token_expires = time.time() + float(body.get("expires_in", 3600))
        return self._token

    async def send(self, request: WalletRequest) -> int:
        token = await self._access_token()
        response = await self._client.request(
            request.method,
            request.url,
            json=request.json,
            headers={"Authorization": f"Bearer {token}"},
        )
        return response.status_code

    async def aclose(self) -> None:
        await self._client.aclose()
