"""Per-request context of the partner door: the caller is the store of the API key."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError

from app import clock, i18n
from app.callers import StoreCaller
from app.errors import ErrorCode
from auth import api_keys
from graphql_schema.context import RequestContext
from graphql_schema.partner.gate import check_key


@dataclass
class PartnerContext(RequestContext):
    _caller: StoreCaller | None = field(default=None, init=False)

    async def caller(self) -> StoreCaller:
        """The key's store and partner; a missing, unknown or revoked key is a top-level
        UNAUTHENTICATED error (never data of anyone)."""
        if self._caller is not None:
            return self._caller
        # The gate checked the key with its store in one statement (kept in the scope).
        checked = await check_key(self.request.scope, self.db, self.runtime)
        credential, caller = checked.credential, checked.caller
        if credential is None or caller is None:
            raise self._unauthenticated()
        if credential.last_used_at is None or clock.now() - credential.last_used_at > (
            api_keys.LAST_USED_RESOLUTION
        ):
            async with self.db.unit_of_work() as session:
                await api_keys.touch(session, credential, clock.now())
        self._caller = caller
        return caller

    def _unauthenticated(self) -> GraphQLError:
        return GraphQLError(
            i18n.translate("partner.unauthenticated", self.language),
            extensions={"code": ErrorCode.UNAUTHENTICATED.value},
        )
