"""API keys: created once in clear, stored as a SHA-256 hash, checked by hash lookup.

A key is ``psl_`` followed by 43 random URL-safe characters (256 bits): with that much entropy a
fast unsalted hash is safe (nobody can enumerate keys), and the lookup by hash takes constant
time whatever the key. Only the hash and a short display prefix are stored.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.columns import utcnow
from service.store.errors import not_found
from service.store.models import ROLES, SCOPED_ROLES, ApiKey
from service.store.youths import get_mission_locale

KEY_PREFIX = "psl_"
DISPLAY_CHARS = 12


def hash_key(key: str) -> str:
    """Return the SHA-256 hex digest stored for ``key``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_api_key(
    session: Session,
    role: str,
    mission_locale: str | None = None,
    *,
    label: str | None = None,
) -> tuple[ApiKey, str]:
    """Create a key and return ``(row, clear_key)``; the clear key is never stored nor shown again.

    Raises:
        ValueError: unknown role, or a Mission Locale missing for ``adviser``/``employer_relations``.
        UnknownId: the Mission Locale does not exist.
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    mission_locale = mission_locale or None  # "" is no Mission Locale (it would break the foreign key)
    if role in SCOPED_ROLES and not mission_locale:
        raise ValueError(f"role {role!r} needs a Mission Locale: pass --mission-locale CODE")
    if mission_locale:
        get_mission_locale(session, mission_locale)
    clear_key = KEY_PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(
        key_hash=hash_key(clear_key),
        prefix=clear_key[:DISPLAY_CHARS],
        role=role,
        mission_locale=mission_locale,
        label=label,
    )
    session.add(row)
    session.flush()
    return row, clear_key


def authenticate(session: Session, key: str) -> ApiKey | None:
    """Return the live key row for ``key``, or None (unknown, malformed or revoked)."""
    if not key.startswith(KEY_PREFIX) or len(key) > 128:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_key(key)))
    if row is None or row.revoked_at is not None:
        return None
    return row


def list_api_keys(session: Session) -> list[ApiKey]:
    """Return every key (revoked ones included), oldest first."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.id)))


def revoke_api_key(session: Session, key_id: int) -> ApiKey:
    """Revoke a key now (idempotent: a revoked key keeps its first revocation time)."""
    row = session.get(ApiKey, key_id)
    if row is None:
        raise not_found("api_key", key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row
