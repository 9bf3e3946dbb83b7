"""Who is at the screen: sign-in with an API key, and the signed-in user of each page.

The session cookie holds the key's row id and a fingerprint of its stored hash, never the key
(:mod:`service.web.core.session`). Every page request reads that row again: a revoked key (or
a store where the id now names another key) ends the session at once, back to ``/connexion``.
Sign-in failures count against the client address like the API's wrong keys (429 after
``PASSERELLE_AUTH_FAILURES_PER_MIN``), and pages count against the key's request rate.
"""

from __future__ import annotations

import hmac
import math
from typing import Annotated, Any

from fastapi import Depends, Request

from service.api.security import Principal, client_address, principal_of
from service.store import crud
from service.store.models import ApiKey
from service.web.core.errors import SignInRequired, WebError
from service.web.core.session import read_session

FINGERPRINT_CHARS = 16
"""Hex digits of the key's stored SHA-256 kept in the session (not enough to find the key)."""
HOME_BY_ROLE = {"adviser": "/jeunes", "employer_relations": "/offres", "admin": "/indicateurs"}
"""Where each role lands after sign-in; a role absent here (batch) may not use the pages."""


def _wait_message(wait: float) -> str:
    return f"Trop de tentatives : patientez {max(1, math.ceil(wait))} s avant de réessayer."


def sign_in(request: Request, api_key: str) -> tuple[Principal, dict[str, Any]] | None:
    """Check ``api_key``; return its principal and the session data to store, or None.

    Raises:
        WebError: 429 when this address sent too many wrong keys.
    """
    st = request.app.state
    address = client_address(request)
    if (wait := st.failure_limiter.wait(address)) > 0:
        raise WebError(429, _wait_message(wait))
    with st.read_sessions() as session:
        row = crud.authenticate(session, api_key.strip())
        if row is None:
            st.failure_limiter.take(address)
            return None
        principal = principal_of(session, row)
        data = {"k": row.id, "f": row.key_hash[:FINGERPRINT_CHARS]}
    return principal, data


def signed_in(request: Request) -> Principal:
    """The signed-in user of ``request``; raise :class:`SignInRequired` otherwise."""
    data = read_session(request)
    key_id, fingerprint = data.get("k"), data.get("f")
    if not isinstance(key_id, int) or not isinstance(fingerprint, str):
        raise SignInRequired()
    st = request.app.state
    with st.read_sessions() as session:
        row = session.get(ApiKey, key_id)
        if (row is None or row.revoked_at is not None or row.role not in HOME_BY_ROLE
                or not hmac.compare_digest(row.key_hash[:FINGERPRINT_CHARS], fingerprint)):
            raise SignInRequired(clear=True)
        principal = principal_of(session, row)
    if (wait := st.rate_limiter.take(principal.key_id)) > 0:
        raise WebError(429, _wait_message(wait))
    request.state.web_user = principal
    return principal


def role(*roles: str) -> Any:
    """A dependency: the signed-in user, who must have one of ``roles`` (403 page otherwise)."""

    def dependency(request: Request) -> Principal:
        principal = signed_in(request)
        if principal.role not in roles:
            raise WebError(403, "Votre rôle ne donne pas accès à cette page.")
        return principal

    return Depends(dependency)


User = Annotated[Principal, Depends(signed_in)]
Adviser = Annotated[Principal, role("adviser")]
EmployerRelations = Annotated[Principal, role("employer_relations")]
