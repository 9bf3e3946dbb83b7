"""The web session: a signed cookie holding a key id, a key fingerprint and a CSRF token.

The cookie (``passerelle_session``) is signed with the data home's web secret
(``PASSERELLE_WEB_SECRET``, else ``secrets/web_session.key`` in the data home, mode 0600,
generated on first use) and expires after :data:`MAX_AGE_S`. It never holds the API key: only
the key's row id and the first characters of its stored hash, which the pages check against the
store on every request (:mod:`service.web.core.auth`), so that a revoked key's session ends at
its next request. It is ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when the request came
over HTTPS.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from service.config import Settings
from service.pseudonym import home_secret

COOKIE = "passerelle_session"
MAX_AGE_S = 12 * 3600
"""A session lasts a working day at most, then the key is asked again."""
SECRET_FILE = Path("secrets") / "web_session.key"
_SALT = "passerelle-web-session"


def web_secret(settings: Settings) -> bytes:
    """The key signing session cookies (``PASSERELLE_WEB_SECRET`` or a data-home file)."""
    if settings.web_secret:
        return settings.web_secret.encode("utf-8")
    return home_secret(settings.home / SECRET_FILE)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    app_state = request.app.state
    serializer = getattr(app_state, "web_serializer", None)
    if serializer is None:
        serializer = URLSafeTimedSerializer(web_secret(app_state.settings), salt=_SALT)
        app_state.web_serializer = serializer
    return serializer


def read_session(request: Request) -> dict[str, Any]:
    """The request's session data ({} when absent, tampered with or expired); cached per request."""
    cached = request.scope.get("passerelle_web_session")
    if cached is not None:
        return cached
    data: dict[str, Any] = {}
    cookie = request.cookies.get(COOKIE)
    if cookie:
        try:
            loaded = _serializer(request).loads(cookie, max_age=MAX_AGE_S)
        except BadSignature:  # SignatureExpired included
            loaded = None
        if isinstance(loaded, dict):
            data = loaded
    request.scope["passerelle_web_session"] = data
    return data


def new_token() -> str:
    """A fresh CSRF token (256 random bits)."""
    return secrets.token_urlsafe(32)


def write_session(request: Request, response: Response, data: dict[str, Any]) -> None:
    """Set the session cookie of ``response`` to ``data``."""
    request.scope["passerelle_web_session"] = data
    response.set_cookie(COOKIE, _serializer(request).dumps(data), max_age=MAX_AGE_S, path="/",
                        httponly=True, samesite="lax", secure=request.url.scheme == "https")


def clear_session(request: Request, response: Response) -> None:
    """Delete the session cookie (sign-out, revoked key)."""
    request.scope["passerelle_web_session"] = {}
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax",
                           secure=request.url.scheme == "https")
