"""Security headers on every web page and static file (pure ASGI middleware).

The Content-Security-Policy allows scripts, styles, images and requests from the page's own
origin only: no inline script or style (htmx is configured not to inject one), no framing
(``frame-ancestors 'none'``), forms posting to the same origin only. Pages, which may show
personal data, are not cached (``Cache-Control: no-store``); static files may be.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import MutableHeaders

from service.web.core.paths import is_web_path

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "font-src 'self'", "connect-src 'self'", "form-action 'self'", "frame-ancestors 'none'",
    "base-uri 'none'", "object-src 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
STATIC_PREFIX = "/static/"


class SecurityHeaders:
    """Add :data:`HEADERS` to every answer of a web path (not to the API's JSON)."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not is_web_path(scope.get("path", "")):
            return await self.app(scope, receive, send)
        static = scope.get("path", "").startswith(STATIC_PREFIX)

        async def sending(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers[name] = value
                if not static:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, sending)
