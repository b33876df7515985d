"""The kiosk tablet app: static pages (plain HTML, CSS, JavaScript modules) at ``/kiosk/``.

The app talks only to the kiosk door at ``/kiosk/graphql``. Its page may use the camera
(``Permissions-Policy: camera=(self)``) to scan card QR codes; every other page of the
site keeps the camera off. The rest of the security headers (CSP: own files only) are
the site's.
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from app.settings import PROJECT_ROOT

KIOSK_DIR = PROJECT_ROOT / "static" / "kiosk"
KIOSK_PERMISSIONS = "camera=(self), microphone=(), geolocation=(), payment=()"


class KioskFiles(StaticFiles):
    """Static files that browsers revalidate, so a deploy is seen at the next load."""

    def file_response(
        self,
        full_path: PathLike,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("cache-control", "no-cache")
        return response


async def kiosk_page(request: Request) -> Response:
    return FileResponse(
        KIOSK_DIR / "index.html",
        headers={"cache-control": "no-cache", "permissions-policy": KIOSK_PERMISSIONS},
    )


async def kiosk_redirect(request: Request) -> Response:
    return RedirectResponse("/kiosk/", status_code=308)


def kiosk_routes() -> list[BaseRoute]:
    """``/kiosk/`` serves the app; ``/kiosk/app/...`` its scripts, styles and images."""
    return [
        Route("/kiosk", kiosk_redirect, methods=["GET", "HEAD"]),
        Route("/kiosk/", kiosk_page, methods=["GET", "HEAD"]),
        Mount("/kiosk/app", app=KioskFiles(directory=KIOSK_DIR), name="kiosk"),
    ]
