"""HTTP door of the digital card.

- ``GET /files/card/{token}.png`` and ``GET /wallet/passes/{token}.pkpass``: the card's QR
  image and Apple pass behind short-lived signed links (``me.card.qrPngUrl`` /
  ``appleWalletUrl``). The token names the pass serial, never a card number or member id;
  a forged link gets 404, an expired genuine one 410, with an empty body either way.
- Apple's pass web service (v1) under ``{public_base_url}/wallet`` (the pass's
  ``webServiceURL``): device (un)registration, updated serials, the latest pass, logs.
  ``Authorization: ApplePass <token>`` is checked per pass in constant time; 401 otherwise.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from app import clock
from app.db import Database
from app.runtime import Runtime
from app.wallet import files, service
from app.wallet.models import WalletPass
from wallet_passes.url_tokens import UrlTokenExpired, UrlTokenInvalid, verify_url_token

log = logging.getLogger(__name__)

PKPASS = "application/vnd.apple.pkpass"
_DEVICE = re.compile(r"[A-Za-z0-9._-]{1,128}")
_PUSH_TOKEN = re.compile(r"[0-9a-fA-F]{32,200}")
_SERIAL = re.compile(r"[0-9a-f]{1,40}")
MAX_LOG_BODY = 64 * 1024
PRIVATE = {"Cache-Control": "private, no-store"}


class WalletDoor:
    def __init__(self, db: Database, runtime: Runtime) -> None:
        self.db = db
        self.runtime = runtime
        self.settings = runtime.settings

    # --- signed member links ---------------------------------------------------------------

    def _link_serial(self, token: str, kind: str) -> str | Response:
        try:
            subject = verify_url_token(self.runtime.keys.url_token_secret, token, clock.now())
        except UrlTokenExpired:
            return Response(status_code=410, headers=PRIVATE)
        except UrlTokenInvalid:
            return Response(status_code=404, headers=PRIVATE)
        prefix, _, serial = subject.partition(":")
        if prefix != kind or not serial:
            return Response(status_code=404, headers=PRIVATE)
        return serial

    async def card_qr(self, request: Request) -> Response:
        serial = self._link_serial(request.path_params["token"], "qr")
        if isinstance(serial, Response):
            return serial
        async with self.db.read_session() as session:
            subject = await service.load_subject(session, serial)
        if subject is None:
            return Response(status_code=404, headers=PRIVATE)
        png = await files.card_qr_png(self.runtime.keys, self.runtime.wallet, subject.card_number)
        return Response(png, media_type="image/png", headers=PRIVATE)

    async def member_pkpass(self, request: Request) -> Response:
        serial = self._link_serial(request.path_params["token"], "pkpass")
        if isinstance(serial, Response):
            return serial
        async with self.db.read_session() as session:
            subject = await service.load_subject(session, serial)
        if subject is None:
            return Response(status_code=404, headers=PRIVATE)
        return await self._pkpass_response(subject, attachment=True)

    async def _pkpass_response(self, subject: service.PassSubject, *, attachment: bool) -> Response:
        data, store = await files.card_pkpass(
            self.settings, self.runtime.keys, self.runtime.wallet, subject
        )
        headers = {
            **PRIVATE,
            "Last-Modified": format_datetime(subject.wallet_pass.updated_at, usegmt=True),
        }
        if attachment:
            headers["Content-Disposition"] = 'attachment; filename="happy.pkpass"'
        # A newly built pass is written to storage after the response has gone out.
        return Response(data, media_type=PKPASS, headers=headers, background=store)

    # --- Apple pass web service v1 --------------------------------------------------------

    def _known_pass_type(self, pass_type_id: str) -> bool:
        return pass_type_id == self.settings.apple_pass_type_id

    def _token_ok(self, request: Request, pass_type_id: str, serial: str) -> bool:
        """The ApplePass token is right for this serial (no database needed: it is derived)."""
        return (
            self._known_pass_type(pass_type_id)
            and _SERIAL.fullmatch(serial) is not None
            and service.check_authentication(
                self.runtime.keys, serial, request.headers.get("authorization")
            )
        )

    async def _authenticated_pass(
        self, request: Request, pass_type_id: str, serial: str
    ) -> WalletPass | None:
        if not self._token_ok(request, pass_type_id, serial):
            return None
        async with self.db.read_session() as session:
            return await service.pass_by_serial(session, serial)

    async def register(self, request: Request) -> Response:
        params = request.path_params
        device, pass_type_id, serial = params["device"], params["pass_type"], params["serial"]
        wallet_pass = await self._authenticated_pass(request, pass_type_id, serial)
        if wallet_pass is None:
            return Response(status_code=401)
        if not _DEVICE.fullmatch(device):
            return Response(status_code=400)
        try:
            body = json.loads(await request.body())
            push_token = str(body["pushToken"])
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        if not _PUSH_TOKEN.fullmatch(push_token):
            return Response(status_code=400)
        async with self.db.unit_of_work() as session:
            created = await service.register_device(
                session,
                device_library_id=device,
                pass_type_id=pass_type_id,
                wallet_pass=wallet_pass,
                push_token=push_token,
                now=clock.now(),
            )
        return Response(status_code=201 if created else 200)

    async def unregister(self, request: Request) -> Response:
        params = request.path_params
        device, pass_type_id, serial = params["device"], params["pass_type"], params["serial"]
        wallet_pass = await self._authenticated_pass(request, pass_type_id, serial)
        if wallet_pass is None:
            return Response(status_code=401)
        async with self.db.unit_of_work() as session:
            await service.unregister_device(
                session,
                device_library_id=device,
                pass_type_id=pass_type_id,
                wallet_pass=wallet_pass,
            )
        return Response(status_code=200)

    async def updated_serials(self, request: Request) -> Response:
        params = request.path_params
        device, pass_type_id = params["device"], params["pass_type"]
        if not self._known_pass_type(pass_type_id) or not _DEVICE.fullmatch(device):
            return Response(status_code=204)
        async with self.db.read_session() as session:
            serials, tag = await service.serials_updated_since(
                session,
                device_library_id=device,
                pass_type_id=pass_type_id,
                since=request.query_params.get("passesUpdatedSince"),
            )
        if not serials:
            return Response(status_code=204)
        return JSONResponse({"serialNumbers": serials, "lastUpdated": tag})

    async def latest_pass(self, request: Request) -> Response:
        params = request.path_params
        pass_type_id, serial = params["pass_type"], params["serial"]
        if not self._token_ok(request, pass_type_id, serial):
            return Response(status_code=401)
        async with self.db.read_session() as session:
            subject = await service.load_subject(session, serial)
        if subject is None:  # unknown serial, card closed or account deleted
            return Response(status_code=401)
        since = _if_modified_since(request)
        modified = subject.wallet_pass.updated_at
        if since is not None and modified <= since:
            return Response(
                status_code=304,
                headers={"Last-Modified": format_datetime(modified, usegmt=True)},
            )
        return await self._pkpass_response(subject, attachment=False)

    async def device_log(self, request: Request) -> Response:
        body = await request.body()
        if len(body) > MAX_LOG_BODY:
            return Response(status_code=413)
        try:
            logs = json.loads(body).get("logs", [])
        except (ValueError, AttributeError):
            return Response(status_code=400)
        for line in logs[:50] if isinstance(logs, list) else []:
            log.info("apple wallet device log: %s", str(line)[:500])
        return Response(status_code=200)


def _if_modified_since(request: Request) -> datetime | None:
    raw = request.headers.get("if-modified-since")
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return parsed if parsed.tzinfo is not None else None


def wallet_routes(db: Database, runtime: Runtime) -> list[BaseRoute]:
    """The card's routes."""
    door = WalletDoor(db, runtime)
    device = "/wallet/v1/devices/{device}/registrations/{pass_type}"
    return [
        Route("/files/card/{token}.png", door.card_qr, methods=["GET"]),
        Route("/wallet/passes/{token}.pkpass", door.member_pkpass, methods=["GET"]),
        Route(device + "/{serial}", door.register, methods=["POST"]),
        Route(device + "/{serial}", door.unregister, methods=["DELETE"]),
        Route(device, door.updated_serials, methods=["GET"]),
        Route("/wallet/v1/passes/{pass_type}/{serial}", door.latest_pass, methods=["GET"]),
        Route("/wallet/v1/log", door.device_log, methods=["POST"]),
    ]
