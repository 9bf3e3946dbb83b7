"""Who is calling: API keys (``Authorization: Bearer <key>``), roles, scopes and rate limits.

Roles: ``adviser`` (youths of their own Mission Locale), ``employer_relations`` (employers and
vacancies of their territory; pseudonymised candidate cards until a share), ``batch`` (reads
profiles and vacancies, writes suggestion records), ``admin`` (Missions Locales and keys).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from service.api.problems import ApiError
from service.store import crud
from service.store.models import MissionLocale
from service.store.youths import territory_contains

bearer = HTTPBearer(auto_error=False, description="A Passerelle API key: `passerelle users create`.")


@dataclass(frozen=True)
class Principal:
    """The caller: key id, role, Mission Locale (scoped roles) and its territory."""

    key_id: int
    role: str
    mission_locale: str | None
    territory: dict | None

    @property
    def actor(self):
        """A stand-in for the key row, as the store's ``audit`` expects it."""
        return _Actor(self.key_id, self.role, self.mission_locale)


@dataclass(frozen=True)
class _Actor:
    id: int
    role: str
    mission_locale: str | None


class RateLimiter:
    """A token bucket per key: ``rate`` requests a second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = rate, burst
        self._buckets: dict[int, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key_id: int) -> float:
        """Take a token; return 0, or the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, since = self._buckets.get(key_id, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - since) * self.rate)
            if tokens < 1.0:
                self._buckets[key_id] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[key_id] = (tokens - 1.0, now)
            return 0.0


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """Return the caller of ``request`` or raise 401; apply the key's rate limit (429)."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'",
                       "clé d'API manquante : envoyez « Authorization: Bearer <clé> »",
                       headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    with state.read_sessions() as session:
        key = crud.authenticate(session, credentials.credentials)
        if key is None:
            raise ApiError(401, "unknown or revoked API key", "clé d'API inconnue ou révoquée",
                           headers={"WWW-Authenticate": "Bearer"})
        territory = None
        if key.mission_locale:
            mission = session.get(MissionLocale, key.mission_locale)
            territory = dict(mission.territory) if mission else None
        principal = Principal(key.id, key.role, key.mission_locale, territory)
    wait = state.rate_limiter.take(principal.key_id)
    if wait > 0:
        raise ApiError(429, "too many requests for this key: slow down",
                       "trop de requêtes pour cette clé : ralentissez",
                       headers={"Retry-After": str(max(1, round(wait)))})
    return principal


def require(principal: Principal, *roles: str) -> Principal:
    """Raise 403 unless the caller has one of ``roles``."""
    if principal.role not in roles:
        raise ApiError(403, f"role {principal.role!r} may not do this (allowed: {', '.join(roles)})",
                       f"le rôle « {principal.role} » n'a pas accès à cette opération "
                       f"(rôles autorisés : {', '.join(roles)})")
    return principal


def in_territory(principal: Principal, commune_insee: str | None) -> bool:
    """Whether a commune lies in the caller's territory (unscoped roles: everywhere)."""
    if principal.role not in ("adviser", "employer_relations"):
        return True
    return principal.territory is not None and territory_contains(principal.territory, commune_insee)
