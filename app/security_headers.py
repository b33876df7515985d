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
        self.https_only = https_only

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                wanted = list(BASE_HEADERS)
                if self.https_only:
                    wanted.append(HSTS)
                content_type = dict(headers).get(b"content-type", b"")
                is_graphiql = (
                    self.graphiql
                    and path.rstrip("/").endswith("/graphql")
                    and content_type.startswith(b"text/html")
                )
                if not is_graphiql:
                    wanted.append((b"content-security-policy", CONTENT_SECURITY_POLICY.encode()))
                headers.extend((n, v) for n, v in wanted if n not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
