"""Which requests are the web pages' (everything but the API's own paths)."""

from __future__ import annotations

API_PREFIXES = ("/v1/", "/docs", "/redoc", "/openapi.json", "/health", "/ready", "/metrics")
"""Paths served by the API: JSON problems, no page headers. Every other path is a page's."""


def is_web_path(path: str) -> bool:
    """Whether ``path`` is answered as a web page (HTML errors, security headers)."""
    return not (path == "/v1" or path.startswith(API_PREFIXES))
