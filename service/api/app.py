"""The FastAPI application: ``create_app()`` (uvicorn factory) with its lifespan.

At start-up: migrate the store, open the live engine (last snapshot + store changes), start the
background snapshot thread. ``passerelle serve`` runs it with uvicorn::

    uvicorn --factory service.api.app:create_app
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from service import __version__ as service_version
from service.api import admin, employers, idempotency, ops, problems, trades, youths
from service.api.middleware import (
    REQUEST_ID_HEADER,
    BodyLimit,
    Metrics,
    RequestContext,
    watch_commits,
)
from service.api.security import RateLimiter, failure_limiter
from service.config import Settings, get_settings
from service.logs import install_log_filter
from service.web.app import install as install_pages

log = logging.getLogger("passerelle.api")

DESCRIPTION = """Passerelle: trades (ROME 4.0) and vacancies for the young people of the Missions
Locales, shortlists for employer-relations staff, with gender-mix (mixité) policies.
Authenticate with `Authorization: Bearer <key>` (`passerelle users create`). Errors are
`application/problem+json` with `detail` (English) and `detail_fr` (French). Every answer
carries an `X-Request-ID` header (yours when you send a sane one, `[A-Za-z0-9._-]{1,64}`),
also given as `request_id` in problems: quote it when reporting an error."""


_FROZEN: list[bool] = []
GC_THRESHOLDS = (700, 10, 100)
"""The collector's thresholds in a server: Python's defaults but a full collection after 100
collections of the middle generation instead of 10. Under the load test (issue #13) a full
collection walked the 80,000 to 90,000 objects made after start-up (caches, engine states) every
20 s or so and held every request for 80 to 150 ms; the cyclic garbage it frees is a few dozen
objects each time."""


def freeze_start_up_objects() -> None:
    """Move the objects alive after the first start-up out of the cyclic collector (once per
    process): the engine lives as long as the process, and left to the collector each full
    collection walked its 230,000 objects and stalled a request by 136 to 240 ms. Once only:
    frozen objects that later become cyclic garbage are never freed, so freezing at every
    start of an app in one process (the tests) leaked a file descriptor each time.

    The full collections left (the caches and engine states built since) are also made ten
    times rarer (:data:`GC_THRESHOLDS`)."""
    if not _FROZEN:
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)
        _FROZEN.append(True)


def create_app(settings: Settings | None = None, *, snapshot_interval_s: float | None = None) -> FastAPI:
    """Build the application for ``settings`` (default: from the environment)."""
    settings = settings or get_settings()
    if settings.log_level:
        logging.basicConfig(level=settings.log_level)
        logging.getLogger("passerelle").setLevel(settings.log_level)
    install_log_filter()  # on the handlers uvicorn (or the caller) set up: no personal data

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        from matching.batch.engines import limit_threads
        from service.live.learning import set_ranker_provider
        from service.live.ranker_provider import ActiveRankerProvider, ranker_root
        from service.workspace import Workspace

        limit_threads(settings.compute_threads)  # per process, before any index or model loads
        workspace = Workspace(settings)
        _, sessions, read_sessions = workspace.store()
        app.state.workspace = workspace
        app.state.sessions, app.state.read_sessions = sessions, read_sessions
        watch_commits(sessions)  # a 500 says "not applied" only when no commit started
        set_ranker_provider(ActiveRankerProvider(ranker_root(settings.home), read_sessions,
                                                 min_lists=settings.ranker_min_lists))
        live = workspace.live()
        app.state.live = live
        limit_threads(settings.compute_threads, live.read().recommender)  # and its encoder's
        live.read().recommender.embedder.encode_queries(["accueil"])  # load the model now: the
        # first list would wait about 5 s for its weights and tokenizer
        freeze_start_up_objects()
        live.start_background(snapshot_interval_s or settings.snapshot_interval_s)
        log.info("ready: %s", live.status())
        try:
            yield
        finally:
            live.close()
            set_ranker_provider(None)
            workspace.store()[0].dispose()

    app = FastAPI(title="Passerelle API", version=service_version, description=DESCRIPTION,
                  lifespan=lifespan, responses=problems.responses(500))
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst,
                                         workers=settings.workers)
    app.state.failure_limiter = failure_limiter(settings.auth_failures_per_min, workers=settings.workers)
    problems.install(app)
    idempotency.install(app)  # a retry's replayed answer
    for module in (youths, employers, trades, admin, ops):
        app.include_router(module.router)
    install_pages(app)  # the French web pages (service/web): same app, keys and roles
    app.add_middleware(Metrics)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    if settings.cors_origins:  # closed by default
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins),
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
                           expose_headers=[REQUEST_ID_HEADER])
    app.add_middleware(RequestContext)  # outermost: every answer, even a 413, gets the id
    return app

