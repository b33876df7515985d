"""Clients for the doors, used by tests as the apps would call them."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image


class Outbox:
    def __init__(self, path: Path) -> None:
        self.path = path

    def messages(self, to: str | None = None) -> list[dict[str, str]]:
        if not self.path.exists():
            return []
        rows = [json.loads(line) for line in self.path.read_text().splitlines() if line]
        return [r for r in rows if to is None or r["to"] == to]

    def last_code(self, to: str) -> str:
        messages = self.messages(to)
        assert messages, f"no SMS sent to {to}"
        match = re.search(r"\b(\d{6})\b", messages[-1]["text"])
        assert match, messages[-1]
        return match.group(1)


class Api:
    """Small client for the member door, as the app would call it."""

    def __init__(self, client: httpx.AsyncClient, outbox: Outbox) -> None:
        self.client = client
        self.outbox = outbox

    async def gql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        language: str | None = None,
    ) -> dict[str, Any]:
        headers = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if language:
            headers["Accept-Language"] = language
        response = await self.client.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def request_otp(self, phone: str, **kw: Any) -> dict[str, Any]:
        body = await self.gql(REQUEST_OTP, {"phone": phone}, **kw)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["requestOtp"]
        return result

    async def verify_otp(
        self, phone: str, code: str, channel: str = "APP", **kw: Any
    ) -> dict[str, Any]:
        body = await self.gql(VERIFY_OTP, {"phone": phone, "code": code, "channel": channel}, **kw)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["verifyOtp"]
        return result

    async def sign_up(self, phone: str, channel: str = "APP") -> dict[str, Any]:
        sent = await self.request_otp(phone)
        assert sent["__typename"] == "OtpRequested", sent
        session = await self.verify_otp(
            sent["phone"], self.outbox.last_code(sent["phone"]), channel
        )
        assert session["__typename"] == "Session", session
        return session

    async def me(self, token: str) -> dict[str, Any]:
        body = await self.gql(ME, token=token)
        assert "errors" not in body, body
        result: dict[str, Any] = body["data"]["me"]
        return result


REQUEST_OTP = """
mutation($phone: String!) {
  requestOtp(phone: $phone) {
    __typename
    ... on OtpRequested { phone expiresAt resendAfterSeconds }
    ... on Error { code message field }
    ... on RateLimitedError { retryAfterSeconds }
  }
}"""

VERIFY_OTP = """
mutation($phone: String!, $code: String!, $channel: Channel!) {
  verifyOtp(phone: $phone, code: $code, channel: $channel) {
    __typename
    ... on Session {
      accessToken refreshToken isNewMember accessTokenExpiresAt
      member { id phone registrationChannel card { number } balance { available lifetime } }
    }
    ... on Error { code message field }
    ... on CodeError { attemptsLeft }
    ... on RateLimitedError { retryAfterSeconds }
  }
}"""

ME = """
query {
  me {
    id phone firstName lastName language registrationChannel
    card { number }
    balance { available pending lifetime }
    activity(first: 10) { edges { cursor node { kind points balanceAfter } } pageInfo { hasNextPage endCursor } }
  }
}"""


# --- checking formats with third-party tools (openssl, zxing-cpp) -----------------------

OPENSSL = shutil.which("openssl")
needs_openssl = pytest.mark.skipif(OPENSSL is None, reason="openssl command not installed")


def openssl_verify(
    folder: Path, files: dict[str, bytes], root: Path
) -> subprocess.CompletedProcess[str]:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "signature").write_bytes(files["signature"])
    (folder / "manifest.json").write_bytes(files["manifest.json"])
    return subprocess.run(
        [
            str(OPENSSL),
            "cms",
            "-verify",
            "-binary",
            "-inform",
            "DER",
            "-in",
            str(folder / "signature"),
            "-content",
            str(folder / "manifest.json"),
            "-CAfile",
            str(root),
            "-purpose",
            "any",
            "-out",
            "/dev/null",
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def decode(image: Image.Image) -> list[zxingcpp.Result]:
    return [r for r in zxingcpp.read_barcodes(image) if r.format == zxingcpp.BarcodeFormat.QRCode]


def rasterise_segno_svg(
    svg: str, pixels_per_module: int = 6
) -> tuple[list[list[int]], Image.Image]:
    """Reads the SVG as a renderer would: the path's stroked unit-height horizontal runs."""
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    width = int(root.attrib["width"])
    path = root.find("svg:path", ns)
    assert path is not None
    scale = int(re.fullmatch(r"scale\((\d+)\)", path.attrib["transform"]).group(1))  # type: ignore[union-attr]
    assert path.attrib["stroke"] == "#000"
    size = width // scale
    matrix = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, args in re.findall(r"([MmHhVvZz])([^MmHhVvZz]*)", path.attrib["d"]):
        numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", args)]
        if command == "M":
            x, y = numbers
        elif command == "m":
            x, y = x + numbers[0], y + numbers[1]
        elif command in "hH":
            end = x + numbers[0] if command == "h" else numbers[0]
            for column in range(int(min(x, end)), int(max(x, end))):
                matrix[int(y)][column] = 1  # stroke of width 1 centred on y = row + 0.5
            x = end
        else:
            raise AssertionError(f"unexpected path command {command}")
    image = Image.new("L", (size * pixels_per_module,) * 2, 255)
    for row_index, row in enumerate(matrix):
        for column, dark in enumerate(row):
            if dark:
                image.paste(
                    0,
                    (
                        column * pixels_per_module,
                        row_index * pixels_per_module,
                        (column + 1) * pixels_per_module,
                        (row_index + 1) * pixels_per_module,
                    ),
                )
    return matrix, image


# --- microsite pages: security headers and a strict CSP ----------------------------------

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "connect-src": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
}


def csp_directives(header: str) -> dict[str, str]:
    parts = (p.strip().split(" ", 1) for p in header.split(";") if p.strip())
    return {name: value for name, value in parts}


def assert_security_headers(response: httpx.Response) -> None:
    directives = csp_directives(response.headers["content-security-policy"])
    for name, value in EXPECTED_CSP.items():
        assert directives[name] == value, (name, directives)
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert "unsafe-eval" not in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["x-frame-options"] == "DENY"


class InlineFinder(HTMLParser):
    """Collects anything a strict CSP would block: inline scripts, styles, handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.in_script_without_src = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            if not names.get("src"):
                self.problems.append("inline <script>")
            elif not str(names["src"]).startswith("/microsite/"):
                self.problems.append(f"script from elsewhere: {names['src']}")
        for name, _value in attrs:
            if name == "style" or name.startswith("on"):
                self.problems.append(f"inline {name}= on <{tag}>")
        for name in ("src", "href"):
            value = names.get(name) or ""
            if re.match(r"^(https?:)?//", value):
                self.problems.append(f"external {name}: {value}")
