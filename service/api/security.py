"""Who is calling: API keys (``Authorization: Bearer <key>``), roles, scopes and rate limits.

Roles: ``adviser`` (youths of their own Mission Locale), ``employer_relations`` (employers and
vacancies of their territory; pseudonymised candidate cards until a share), ``batch`` (reads
profiles and vacancies, writes suggestion records), ``admin`` (Missions Locales and keys).
"""

from __future__ import annotations

import math
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
    """A token bucket per caller: ``rate`` tokens a second, bursts up to ``burst``.

    Buckets live in one server process. Served by ``workers`` processes (``passerelle serve
    --workers N``), each process gets ``rate / N`` and ``max(1, burst // N)``: whichever worker
    a request lands on, all of them together let through at most ``max(burst, N)`` at once and
    ``rate`` a second after that. A client whose connections all land on one worker gets 1/N
    of it: the price of no shared state (no write to the store per request).
    """

    def __init__(self, rate: float, burst: int, *, workers: int = 1):
        workers = max(1, workers)
        self.rate, self.burst = rate / workers, float(max(1, burst // workers))
        self._buckets: dict[object, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def _tokens(self, caller: object, now: float) -> float:
        tokens, since = self._buckets.get(caller, (self.burst, now))
        return min(self.burst, tokens + (now - since) * self.rate)

    def take(self, caller: object) -> float:
        """Take a token; return 0, or the seconds to wait before retrying."""
        if self.rate <= 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens = self._tokens(caller, now)
            if tokens < 1.0:
                self._buckets[caller] = (tokens, now)
                return (1.0 - tokens) / self.rate
            self._buckets[caller] = (tokens - 1.0, now)
            if len(self._buckets) > MAX_BUCKETS:
                self._forget_full(now)
            return 0.0

    def wait(self, caller: object) -> float:
        """The seconds before ``caller`` has a token again (0: it has one); takes nothing."""
        if self.rate <= 0:
            return 0.0
        with self._lock:
            tokens = self._tokens(caller, time.monotonic())
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        """Drop the buckets that are full again (as good as new): memory stays bounded."""
        for caller in [c for c in self._buckets if self._tokens(c, now) >= self.burst]:
            del self._buckets[caller]
        if len(self._buckets) > MAX_BUCKETS:  # that many callers at once: start over
            self._buckets.clear()


MAX_BUCKETS = 10_000


def failure_limiter(failures_per_min: int, *, workers: int = 1) -> RateLimiter:
    """Failed authentications per client address: ``failures_per_min`` a minute, as a burst."""
    return RateLimiter(failures_per_min / 60.0, failures_per_min, workers=workers)


def too_many(wait: float, detail: str, detail_fr: str) -> ApiError:
    """A 429 that says when to come back (``Retry-After``, whole seconds, at least 1)."""
    return ApiError(429, detail, detail_fr, headers={"Retry-After": str(max(1, math.ceil(wait)))})


def client_address(request: Request) -> str:
    """The caller's address (uvicorn puts the proxy's client there when it trusts the proxy)."""
    return request.client.host if request.client else "unknown"


def principal_of(session, key) -> Principal:
    """The :class:`Principal` of a live key row (its Mission Locale's territory read in ``session``)."""
    territory = None
    if key.mission_locale:
        mission = session.get(MissionLocale, key.mission_locale)
        territory = dict(mission.territory) if mission else None
    return Principal(key.id, key.role, key.mission_locale, territory)


def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """Return the caller of ``request`` or raise 401; apply the rate limits (429).

    An address that sent too many wrong keys gets 429 before its key is even looked up, so a
    key cannot be guessed at speed; then each key has its own request rate.
    """
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiError(401, "missing API key: send 'Authorization: Bearer <key>'",
                       "clé d'API manquante : envoyez « Authorization: Bearer <clé> »",
                       headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    address = client_address(request)
    if (wait := state.failure_limiter.wait(address)) > 0:
        raise too_many(wait, "too many wrong API keys from this address: wait before retrying",
                       "trop de clés d'API erronées depuis cette adresse : patientez avant de réessayer")
    with state.read_sessions() as session:
        key = crud.authenticate(session, credentials.credentials)
        if key is None:
            state.failure_limiter.take(address)
            raise ApiError(401, "unknown or revoked API key", "clé d'API inconnue ou révoquée",
                           headers={"WWW-Authenticate": "Bearer"})
        principal = principal_of(session, key)
    if (wait := state.rate_limiter.take(principal.key_id)) > 0:
        raise too_many(wait, "too many requests for this key: slow down",
                       "trop de requêtes pour cette clé : ralentissez")
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
