"""CSRF tokens: every form that changes data carries a hidden ``csrf_token`` field.

The token lives in the signed session cookie (:mod:`service.web.core.session`); a form is
accepted only when its field equals the cookie's token (compared in constant time). A visitor
without a session gets one, holding a token only, when a page with a form is rendered, so the
sign-in form is protected too; signing in issues a new token.
"""

from __future__ import annotations

import hmac

from fastapi import Request, Response

from service.web.core.errors import WebError
from service.web.core.session import new_token, read_session, write_session


def ensure_token(request: Request) -> str:
    """The session's CSRF token, creating one (and a session) if needed; see :func:`persist`."""
    data = read_session(request)
    token = data.get("c")
    if not isinstance(token, str) or not token:
        token = new_token()
        request.scope["passerelle_web_session"] = {**data, "c": token}
        request.scope["passerelle_web_session_dirty"] = True
    return token


def persist(request: Request, response: Response) -> None:
    """Write the session cookie when :func:`ensure_token` created a token for this request."""
    if request.scope.pop("passerelle_web_session_dirty", False):
        write_session(request, response, read_session(request))


def check_token(request: Request, submitted: str | None) -> None:
    """Refuse (403) a form whose ``csrf_token`` is missing or not the session's."""
    expected = read_session(request).get("c")
    if not (isinstance(expected, str) and expected and submitted
            and hmac.compare_digest(expected.encode(), submitted.encode("utf-8", "replace"))):
        raise WebError(403, "Le formulaire a expiré ou ne vient pas de cette page : rechargez la "
                            "page et recommencez.")
