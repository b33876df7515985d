"""Per-request context of the kiosk door: the caller is the store of the device token.

The tablet app keeps its token in an HttpOnly cookie (``happy_kiosk``, Path
``/kiosk/graphql``, SameSite=Strict) that page scripts cannot read; the cookie is only
accepted with the ``X-Happy-Client: web`` header, which a cross-site form cannot send
without a CORS preflight (never allowed). Other kiosk vendors send
``Authorization: Bearer <device token>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from graphql import GraphQLError
from starlette.responses import Response

from app import clock, i18n
from app.errors import ErrorCode
from app.kiosks import service as kiosks
from app.settings import Settings
from auth import kiosk_devices
from graphql_schema.context import RequestContext
from graphql_schema.web_session import cookie_is_secure, is_web_client

DEVICE_COOKIE = "happy_kiosk"
DEVICE_COOKIE_PATH = "/kiosk/graphql"
# Browsers cap cookie lifetimes at about 400 days; a kiosk re-enrols after that.
DEVICE_COOKIE_MAX_AGE = int(timedelta(days=400).total_seconds())


def set_device_cookie(response: Response, settings: Settings, token: str) -> None:
    response.set_cookie(
        DEVICE_COOKIE,
        token,
        max_age=DEVICE_COOKIE_MAX_AGE,
        path=DEVICE_COOKIE_PATH,
        secure=cookie_is_secure(settings),
        httponly=True,
        samesite="strict",
    )


@dataclass
class KioskContext(RequestContext):
    _caller: kiosks.KioskCaller | None = field(default=None, init=False)

    def device_token(self) -> str | None:
        token = self.bearer_token()
        if token is None and is_web_client(self.request):
            token = self.request.cookies.get(DEVICE_COOKIE, "").strip() or None
        return token

    async def caller(self) -> kiosks.KioskCaller:
        """The enrolled kiosk; a missing, unknown or revoked token is a top-level
        UNAUTHENTICATED error."""
        if self._caller is not None:
            return self._caller
        token = self.device_token()
        if token is None:
            raise self._unauthenticated()
        async with self.db.read_session() as session:
            credential = await kiosk_devices.authenticate(session, self.runtime, token)
            caller = None
            if credential is not None:
                caller = await kiosks.kiosk_caller(session, credential.kiosk_id)
        if credential is None or caller is None:
            raise self._unauthenticated()
        if (
            credential.last_used_at is None
            or clock.now() - clock.as_utc(credential.last_used_at)
            > kiosk_devices.LAST_USED_RESOLUTION
        ):
            async with self.db.unit_of_work() as session:
                await kiosk_devices.touch(session, credential, clock.now())
        self._caller = caller
        return caller

    def _unauthenticated(self) -> GraphQLError:
        return GraphQLError(
            i18n.translate("kiosk.unauthenticated", self.language),
            extensions={"code": ErrorCode.UNAUTHENTICATED.value},
        )
