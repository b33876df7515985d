"""Security headers on every response (pure ASGI: BaseHTTPMiddleware breaks contextvars).

The microsite's pages load only their own files: no inline script or style, no other
origin, never inside a frame. JSON answers carry the same headers, which cost nothing.
The one exception is GraphiQL (development only), an HTML page with inline scripts from
a CDN: a response that already set its own Content-Security-Policy keeps it, and an HTML
page from a GraphQL endpoint gets none when GraphiQL is enabled.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'"
)
BASE_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
)
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


class SecurityHeadersMiddleware:
    """Add the security headers to every HTTP response that does not set them itself."""

    def __init__(self, app: ASGIApp, *, graphiql: bool = False, https_only: bool = False) -> None:
        self.app = app
        self.graphiql = graphiql
        # Built once: the headers every response gets, with and without the CSP.
        without_csp = (*BASE_HEADERS, HSTS) if https_only else BASE_HEADERS
        self._without_csp = without_csp
        self._with_csp = (
            *without_csp,
            (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        )

    def _is_graphiql(self, path: str, headers: list[tuple[bytes, bytes]]) -> bool:
        if not self.graphiql or not path.rstrip("/").endswith("/graphql"):
            return False
        content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"")
        return content_type.startswith(b"text/html")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                wanted = (
                    self._without_csp
                    if self._is_graphiql(scope.get("path", ""), headers)
                    else self._with_csp
                )
                headers.extend(header for header in wanted if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
