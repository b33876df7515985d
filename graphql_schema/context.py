"""Per-request context: the database, the caller, the language, the DataLoaders."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Select
from starlette.requests import Request
from starlette.responses import Response

from app import i18n
from app.db import Database
from app.errors import AuthenticationRequired
from app.members import service as members
from app.members.models import Member
from app.runtime import Runtime
from auth import sessions
from auth.tokens import decode_access_token
from graphql_schema.dataloaders import Loaders
from graphql_schema.errors import unauthenticated


@dataclass
class RequestContext:
    request: Request
    response: Response | None
    db: Database
    runtime: Runtime
    language: str
    client_address: str
    _loaders: Loaders | None = field(default=None, init=False)

    @property
    def loaders(self) -> Loaders:
        """The request's DataLoaders, made on first use (most requests need none or a few)."""
        if self._loaders is None:
            self._loaders = Loaders(self.db)
        return self._loaders

    @classmethod
    def base_kwargs(
        cls, request: Request, response: Response | None, db: Database, runtime: Runtime
    ) -> dict[str, Any]:
        return {
            "request": request,
            "response": response,
            "db": db,
            "runtime": runtime,
            "language": i18n.normalise_language(request.headers.get("accept-language")),
            "client_address": request.client.host if request.client else "unknown",
        }

    def bearer_token(self) -> str | None:
        header = self.request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None


@cache
def _signed_in_member() -> Select[Any]:
    """The active member of a token, with their points account, if the token's session is
    live: one statement (built once), one round trip without a transaction."""
    return members.active_member_query().where(
        sessions.live_session_condition(Member.__table__.c.id)
    )


@dataclass
class MemberContext(RequestContext):
    _caller: Member | None = field(default=None, init=False)
    _session_id: str | None = field(default=None, init=False)

    async def caller(self) -> Member:
        """The signed-in member (token valid, session not revoked, account active)."""
        if self._caller is not None:
            return self._caller
        token = self.bearer_token()
        if token is None:
            raise unauthenticated(self.language)
        try:
            claims = decode_access_token(self.runtime.keys, self.runtime.settings, token)
        except AuthenticationRequired as exc:
            raise unauthenticated(self.language) from exc
        async with self.db.single_read_connection() as connection:
            row = (
                await connection.execute(
                    _signed_in_member(),
                    {"member_public_id": claims.member_public_id, "session_id": claims.session_id},
                )
            ).one_or_none()
        if row is None:
            raise unauthenticated(self.language)
        # The points account came with the member: priming the loader saves a round trip.
        member, account = members.member_from_row(row)
        self.loaders.account.prime(member.id, account)
        self._caller = member
        self._session_id = claims.session_id
        return member

    async def caller_session_id(self) -> str:
        await self.caller()
        assert self._session_id is not None
        return self._session_id
