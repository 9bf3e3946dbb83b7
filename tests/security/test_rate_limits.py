"""Rate limits that hold: wrong keys are limited per client address (429 before the key is even
looked up), every 429 says when to come back (``Retry-After``), and N server workers together
let through no more than the configured burst (each applies 1/N of the limits)."""

from __future__ import annotations

import os

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api import security
from service.api.app import create_app
from service.api.security import RateLimiter, failure_limiter
from service.config import Settings, get_settings, settings_from_env
from service.store import crud
from service.workspace import Workspace


@pytest.fixture()
def frozen_clock(monkeypatch):
    """``time.monotonic`` of the limiter, stopped (``clock[0]`` moves it)."""
    clock = [1000.0]
    monkeypatch.setattr(security.time, "monotonic", lambda: clock[0])
    return clock


def allowed(limiters: list[RateLimiter], requests: int, caller: object = 7) -> int:
    """How many of ``requests`` spread round-robin over ``limiters`` (workers) get through."""
    return sum(limiters[i % len(limiters)].take(caller) == 0 for i in range(requests))


@pytest.mark.parametrize("workers", [1, 2, 3, 4])
def test_workers_together_let_through_no_more_than_the_burst(frozen_clock, workers):
    limiters = [RateLimiter(20, 40, workers=workers) for _ in range(workers)]
    assert allowed(limiters, 500) == 40 // workers * workers <= 40
    frozen_clock[0] += 1.0  # one second later: the rate, all workers together
    assert allowed(limiters, 500) == pytest.approx(20, abs=workers)


def test_a_client_on_one_worker_gets_its_share(frozen_clock):
    assert allowed([RateLimiter(20, 40, workers=2)], 500) == 20


def test_the_burst_never_drops_to_zero(frozen_clock):
    limiters = [RateLimiter(1, 2, workers=4) for _ in range(4)]
    assert allowed(limiters, 100) == 4  # max(burst, workers): a worker always lets one through


def test_failure_limit_is_a_minute_long(frozen_clock):
    limiter = failure_limiter(10)
    assert allowed([limiter], 100, caller="10.0.0.1") == 10
    assert 5.0 < limiter.wait("10.0.0.1") <= 6.0  # one failure back every 6 s
    assert limiter.wait("10.0.0.2") == 0
    assert failure_limiter(0).take("10.0.0.1") == 0  # 0: no limit


def test_workers_reach_every_worker_from_serve(tmp_path, monkeypatch):
    from service.cli.app import app

    monkeypatch.setenv("PASSERELLE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PASSERELLE_DATABASE_URL", raising=False)
    monkeypatch.delenv("PASSERELLE_WORKERS", raising=False)
    seen = {}

    def run(target, **options):
        seen.update(options, workers_env=os.environ.get("PASSERELLE_WORKERS"))

    monkeypatch.setattr("uvicorn.run", run)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["serve", "--workers", "2"])
        assert result.exit_code == 0, result.output
        assert seen["workers"] == 2 and seen["workers_env"] == "2" and seen["access_log"] is False
        assert get_settings().workers == 2
    finally:
        monkeypatch.delenv("PASSERELLE_WORKERS", raising=False)
        get_settings.cache_clear()
    assert settings_from_env({"PASSERELLE_HOME": "/x"}).workers == 1
    assert settings_from_env({"PASSERELLE_AUTH_FAILURES_PER_MIN": "3"}).auth_failures_per_min == 3
    halved = create_app(Settings(home=tmp_path, rate_limit_burst=40, auth_failures_per_min=10, workers=2))
    assert (halved.state.rate_limiter.burst, halved.state.failure_limiter.burst) == (20, 5)


@pytest.fixture()
def keyed_app(tmp_path):
    """The app over a store with one adviser key (no engine: key checks and listing only)."""
    settings = Settings(home=tmp_path, rate_limit_per_s=5, rate_limit_burst=3, auth_failures_per_min=10)
    workspace = Workspace(settings)
    engine, sessions, read_sessions = workspace.store()
    with sessions.begin() as session:
        crud.create_mission_locale(session, "ML-METZ", "Mission Locale de Metz", departements=["57"])
        _, key = crud.create_api_key(session, "adviser", "ML-METZ")
    app = create_app(settings)
    app.state.sessions, app.state.read_sessions = sessions, read_sessions
    yield app, key
    engine.dispose()


def test_wrong_keys_from_one_address_get_429_with_retry_after(keyed_app, frozen_clock):
    app, key = keyed_app
    attacker = TestClient(app, client=("203.0.113.9", 4000))
    statuses = []
    for attempt in range(100):
        response = attacker.get("/v1/youths", headers={"Authorization": f"Bearer wrong-{attempt}"})
        statuses.append(response.status_code)
        if response.status_code == 429:
            assert int(response.headers["Retry-After"]) >= 1
            assert response.json()["detail_fr"].startswith("trop de clés d'API erronées")
    assert statuses == [401] * 10 + [429] * 90
    good = {"Authorization": f"Bearer {key}"}
    assert attacker.get("/v1/youths", headers=good).status_code == 429  # checked before the lookup
    assert TestClient(app, client=("198.51.100.4", 4000)).get("/v1/youths", headers=good).status_code == 200
    frozen_clock[0] += 6.0  # a failure's worth of time later: one more try
    assert attacker.get("/v1/youths", headers=good).status_code == 200


def test_every_429_of_a_key_says_when_to_retry(keyed_app, frozen_clock):
    app, key = keyed_app
    client = TestClient(app)
    statuses = [client.get("/v1/youths", headers={"Authorization": f"Bearer {key}"}) for _ in range(5)]
    assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
    assert all(r.headers["Retry-After"] == "1" for r in statuses[3:])
