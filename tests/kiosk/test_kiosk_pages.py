"""The tablet app's files at /kiosk/: the site's CSP, the camera only for this page."""

from __future__ import annotations

import httpx


async def test_kiosk_page_and_files_are_served_with_the_site_headers(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/kiosk/")
    assert page.status_code == 200 and 'src="/kiosk/app/js/app.js"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["permissions-policy"].startswith("camera=(self)")
    assert page.headers["x-frame-options"] == "DENY"
    script = await client.get("/kiosk/app/js/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert (await client.get("/kiosk", follow_redirects=False)).headers["location"] == "/kiosk/"
    elsewhere = await client.get("/")
    assert "camera=()" in elsewhere.headers["permissions-policy"]
    assert (await client.get("/kiosk/graphql")).status_code == 405
