"""Mount the web pages into the API's FastAPI app: routers, static files, error pages, headers.

Called by :func:`service.api.app.create_app` after the API's routers and handlers are in
place. A new group of pages adds its router to :data:`ROUTERS` (and its link to
:data:`service.web.core.templates.NAV`).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from service.web.core import error_pages
from service.web.core.headers import SecurityHeaders
from service.web.core.templates import STATIC_DIR
from service.web.pages import (
    indicators,
    lookups,
    outcomes,
    share_requests,
    shortlist,
    signin,
    suggestions,
    vacancies,
    youths,
)

ROUTERS = [signin.router, youths.router, suggestions.router, outcomes.router, lookups.router,
           vacancies.router, shortlist.router, share_requests.router, indicators.router]
"""The pages' routers, in the order they are matched."""


def install(app: FastAPI) -> None:
    """Add the pages to ``app`` (the API's app, built by ``create_app``)."""
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    error_pages.install(app)
    app.add_middleware(SecurityHeaders)
