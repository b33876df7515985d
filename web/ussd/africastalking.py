"""The common aggregator convention (Africa's Talking style), ``POST /ussd/callback``.

Request: ``application/x-www-form-urlencoded`` with ``sessionId``, ``serviceCode``,
``phoneNumber``, ``networkCode`` and ``text``: every input of the dialogue so far joined by
``*`` (empty on the first request). Answer: ``text/plain``, ``CON <screen>`` when more
input is expected, ``END <screen>`` when the dialogue is over.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app.text import is_clean_text
from web.ussd.convention import MAX_SESSION_ID, MAX_TEXT, UssdRequest
from web.ussd.menus import Screen


class AfricasTalking:
    name = "africastalking"

    async def read(self, request: Request) -> UssdRequest | None:
        content_type = request.headers.get("content-type", "")
        if "application/x-www-form-urlencoded" not in content_type:
            return None
        try:
            # A small urlencoded body: parsed here (no multipart parser needed).
            form = parse_qs((await request.body()).decode("utf-8"), keep_blank_values=True)
        except (UnicodeDecodeError, ValueError):  # the gateway's mistake, not ours
            return None
        fields: dict[str, str] = {}
        for name in ("sessionId", "serviceCode", "phoneNumber", "networkCode", "text"):
            values = form.get(name, [""])
            if len(values) != 1:
                return None
            fields[name] = values[0].strip()
            if not is_clean_text(fields[name]) or any(ord(ch) < 32 for ch in fields[name]):
                return None  # NUL, control characters or lone surrogates: not from a handset
        session_id, text = fields["sessionId"], fields["text"]
        if not session_id or len(session_id) > MAX_SESSION_ID or not fields["phoneNumber"]:
            return None
        if len(text) > MAX_TEXT * 4:
            text = text[: MAX_TEXT * 4]
        return UssdRequest(
            session_id=session_id,
            service_code=fields["serviceCode"][:40],
            phone=fields["phoneNumber"][:32],
            network_code=fields["networkCode"][:20],
            text=text,
            inputs=tuple(part.strip() for part in text.split("*")) if text else (),
        )

    def answer(self, screen: Screen, status_code: int = 200) -> Response:
        prefix = "CON " if screen.more else "END "
        return PlainTextResponse(
            prefix + screen.text,
            status_code=status_code,
            headers={"Cache-Control": "no-store"},
        )
