"""The USSD door: a gateway's callback -> the gateway checked -> one unit of work -> a screen.

Only configured gateways are served: a token (``HAPPY_USSD_GATEWAY_TOKEN`` or one made
with ``happy ussd gateway create``) as ``Authorization: Bearer <token>`` or as the callback
URL's ``token`` parameter, and, when ``HAPPY_USSD_ALLOWED_IPS`` is set, only from those
addresses. Anything else gets 401 with an empty body. The phone number is the gateway's
(the mobile network's), normalised to E.164 in the allowed regions.

A resend (same dialogue, same ``text``) gets the reply kept for it; nothing runs twice.
"""

from __future__ import annotations

import ipaddress
import logging

from starlette.requests import Request
from starlette.responses import Response

from app import clock
from app.client_address import parse_address
from app.db import Database, is_transport_failure
from app.errors import Conflict, InvalidInput
from app.members import service as members
from app.runtime import Runtime
from app.settings import SettingsError
from app.ussd import service as ussd
from auth import ussd_gateways
from web.ussd import gsm, texts
from web.ussd.convention import MAX_INPUTS, MAX_TEXT, Convention
from web.ussd.menus import Dialogue, Menus, Screen

log = logging.getLogger(__name__)

UNAUTHORISED = {"WWW-Authenticate": 'Bearer realm="ussd"', "Cache-Control": "no-store"}


def allowed_networks(
    entries: tuple[str, ...],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise SettingsError(
                f"HAPPY_USSD_ALLOWED_IPS: {entry!r} is not an IP address or CIDR network"
            ) from exc
    return tuple(networks)


def _end(key: str, language: str = "sq", **params: object) -> Screen:
    return Screen(gsm.to_gsm(texts.text(key, language, **params)), False)


class UssdDoor:
    def __init__(self, db: Database, runtime: Runtime, convention: Convention) -> None:
        self.db = db
        self.runtime = runtime
        self.settings = runtime.settings
        self.convention = convention
        self.menus = Menus(runtime)
        self.networks = allowed_networks(self.settings.ussd_allowed_ips)

    def _address_allowed(self, request: Request) -> bool:
        if not self.networks:
            return True
        peer = request.client.host if request.client else None
        address = parse_address(peer) if peer else None
        if address is None:
            return False
        return any(address.version == n.version and address in n for n in self.networks)

    @staticmethod
    def _token(request: Request) -> str | None:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return request.query_params.get("token") or None

    async def callback(self, request: Request) -> Response:
        if not self._address_allowed(request):
            log.warning("USSD callback refused: address not allowed")
            return Response(status_code=401, headers=UNAUTHORISED)
        token = self._token(request)
        async with self.db.read_session() as session:
            credential = await ussd_gateways.authenticate(
                session, self.runtime.keys, self.settings.ussd_gateway_token, token
            )
        if credential is None:
            log.warning("USSD callback refused: missing, unknown or revoked gateway token")
            return Response(status_code=401, headers=UNAUTHORISED)
        parsed = await self.convention.read(request)
        if parsed is None:
            return self.convention.answer(_end("error.CONFLICT"), status_code=400)
        try:
            phone = members.parse_phone(self.runtime, parsed.phone)
        except InvalidInput as exc:
            return self.convention.answer(_end(f"error.{exc.code}"))
        if len(parsed.text) > MAX_TEXT or len(parsed.inputs) > MAX_INPUTS:
            return self.convention.answer(_end("error.too_long"))
        try:
            screen = await self._answer(
                credential, parsed.session_id, phone, parsed.text, parsed.inputs
            )
        except Conflict:
            screen = _end("error.CONFLICT")
        except Exception as exc:
            if is_transport_failure(exc):
                raise  # 503 with Retry-After: the gateway may send the same request again
            log.exception("USSD request failed")
            screen = _end("error.unavailable")
        return self.convention.answer(screen)

    async def _answer(
        self,
        credential: ussd_gateways.GatewayCredential,
        session_id: str,
        phone: str,
        text: str,
        inputs: tuple[str, ...],
    ) -> Screen:
        return await self.answer(
            credential.key, session_id, phone, text, inputs, credential=credential
        )

    async def answer(
        self,
        gateway_key: str,
        session_id: str,
        phone: str,
        text: str,
        inputs: tuple[str, ...],
        *,
        credential: ussd_gateways.GatewayCredential | None = None,
    ) -> Screen:
        """The screen for one request of a dialogue (a resend gets the kept one). Also the
        terminal simulator's way in (``happy ussd simulate``), as gateway ``simulator``."""
        now = clock.now()
        async with self.db.unit_of_work() as session:
            if credential is not None:
                await ussd_gateways.touch(session, credential, now)
            row = await ussd.open_session(
                session,
                gateway_key=gateway_key,
                session_id=session_id,
                phone_e164=phone,
                now=now,
                lifetime_seconds=self.settings.ussd_session_seconds,
            )
            kept = await ussd.reply_for(session, row.id, text)
            if kept is None:
                dialogue = Dialogue(
                    session=session,
                    runtime=self.runtime,
                    session_pk=row.id,
                    gateway_key=gateway_key,
                    session_id=session_id,
                    phone_e164=phone,
                    started_as_member=row.started_as_member,
                    member=await ussd.member_by_phone(session, phone),
                    now=now,
                )
                screen = await self.menus.answer(dialogue, list(inputs))
                kept = await ussd.keep_reply(session, row.id, text, _encode(screen), now)
        return _decode(kept)


def _encode(screen: Screen) -> str:
    return ("C" if screen.more else "E") + screen.text


def _decode(kept: str) -> Screen:
    return Screen(kept[1:], kept[:1] == "C")
