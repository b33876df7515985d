"""Per-request context of the partner door: the caller is the store of the API key."""

from __future__ import annotations

from dataclasses import dataclass, field

from graphql import GraphQLError

from app import clock, i18n
from app.callers import Channel, StoreCaller
from app.errors import ErrorCode
from app.partners import service as partners
from auth import api_keys
from graphql_schema.context import RequestContext


@dataclass
class PartnerContext(RequestContext):
    _caller: StoreCaller | None = field(default=None, init=False)

    async def caller(self) -> StoreCaller:
        """The key's store and partner; a missing, unknown or revoked key is a top-level
        UNAUTHENTICATED error (never data of anyone)."""
        if self._caller is not None:
            return self._caller
        token = self.bearer_token()
        if token is None:
            raise self._unauthenticated()
        async with self.db.read_session() as session:
            credential = await api_keys.authenticate(session, self.runtime.keys, token)
            caller = None
            if credential is not None:
                caller = await partners.store_caller(
                    session,
                    credential.store_id,
                    channel=Channel.POS,
                    limit_key=credential.limit_key,
                )
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
