"""The USSD door: ``POST /ussd/callback`` (Africa's Talking convention).

A second convention (another aggregator's JSON) is one more module beside
``africastalking.py`` implementing ``web.ussd.convention.Convention``, and one more route
here (``/ussd/<name>/callback``); credentials, dialogue state and menus are shared.
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from app.db import Database
from app.runtime import Runtime
from web.ussd.africastalking import AfricasTalking
from web.ussd.door import UssdDoor


def ussd_routes(db: Database, runtime: Runtime) -> list[BaseRoute]:
    door = UssdDoor(db, runtime, AfricasTalking())
    return [Route("/ussd/callback", door.callback, methods=["POST"])]
