"""What every gateway convention gives the USSD door and how it answers.

A convention (one module each: ``africastalking`` today) reads a gateway's callback into a
:class:`UssdRequest` and writes a :class:`~web.ussd.menus.Screen` back in the gateway's
format. Everything else (credentials, dialogue state, menus) is the door's, shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response

from web.ussd.menus import Screen

MAX_SESSION_ID = 100
MAX_TEXT = 200  # a three-minute dialogue never types this much
MAX_INPUTS = 60


@dataclass(frozen=True)
class UssdRequest:
    session_id: str
    service_code: str
    phone: str  # as the gateway sent it; the door normalises it to E.164
    network_code: str
    text: str  # every input so far, as the gateway joined them (the resend key)
    inputs: tuple[str, ...]


class Convention(Protocol):
    """One aggregator's callback format."""

    name: str

    async def read(self, request: Request) -> UssdRequest | None:
        """The callback's fields, or None when the request is not this convention's."""
        ...

    def answer(self, screen: Screen, status_code: int = 200) -> Response:
        """The screen in the gateway's format."""
        ...
