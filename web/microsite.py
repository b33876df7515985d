"""The member microsite: static pages (plain HTML, CSS, JavaScript modules) at ``/``.

The pages talk only to the member GraphQL door at ``/graphql``, like the mobile app.
``/`` is the page itself; its files live under ``/microsite/``. Exact routes, so the
microsite never shadows another door whatever the order of mounts.
"""

from __future__ import annotations

import os

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import PathLike, StaticFiles
from starlette.types import Scope

from app.settings import PROJECT_ROOT

MICROSITE_DIR = PROJECT_ROOT / "static" / "microsite"


class MicrositeFiles(StaticFiles):
    """Static files that browsers revalidate, so a deploy is seen at the next visit."""

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


async def microsite_page(_request: Request) -> Response:
    return FileResponse(
        MICROSITE_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"cache-control": "no-cache"},
    )


def microsite_routes() -> list[BaseRoute]:
    """``/`` serves the microsite; ``/microsite/...`` its scripts, styles and images."""
    return [
        Route("/", microsite_page, methods=["GET", "HEAD"]),
        Mount("/microsite", app=MicrositeFiles(directory=MICROSITE_DIR), name="microsite"),
    ]
