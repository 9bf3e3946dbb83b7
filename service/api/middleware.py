"""ASGI middleware: request ids and access log, request body size limit (413), Prometheus metrics.

Every request gets an id (a sane incoming ``X-Request-ID``, else a fresh one), sent back in the
``X-Request-ID`` header and carried by :class:`RequestTrace`, which also records whether the
request started a commit on the store (:func:`watch_commits`): the 500 handler says "not
applied" only when it did not. The access log (logger ``passerelle.access``, one line per
request: method, route template, status, milliseconds, request id) and the metrics name the
route template (``/v1/youths/{youth_id}``), never the raw path, so no id lands in them; the
application log gets no request content at all (see :mod:`service.logs`).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from sqlalchemy import event
from starlette.datastructures import MutableHeaders

from service.api.problems import problem, request_id_of
from service.logs import ACCESS_LOGGER

access_log = logging.getLogger(ACCESS_LOGGER)

REGISTRY = CollectorRegistry()
REQUESTS = Counter("passerelle_requests_total", "HTTP requests", ["method", "route", "status"],
                   registry=REGISTRY)
LATENCY = Histogram("passerelle_request_seconds", "HTTP request latency", ["method", "route"],
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5), registry=REGISTRY)


REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


@dataclass
class RequestTrace:
    """One request: its id, and whether it began committing a store transaction."""

    request_id: str
    commit_started: bool = False


_CURRENT: ContextVar[RequestTrace | None] = ContextVar("passerelle_request", default=None)


def incoming_request_id(value: bytes | None) -> str:
    """The caller's ``X-Request-ID`` when sane (``[A-Za-z0-9._-]{1,64}``), else a new uuid4 hex."""
    text = value.decode("latin-1") if value else ""
    return text if _SANE_ID.fullmatch(text) else uuid.uuid4().hex


def _mark_commit(_session: Any) -> None:
    trace = _CURRENT.get()
    if trace is not None:
        trace.commit_started = True


def watch_commits(sessions: Any) -> None:
    """Mark the current request's trace whenever a session of ``sessions`` begins a commit.

    Marked before the commit (``before_commit``): a commit that fails half-way leaves the
    outcome unknown, so it counts as started. Sessions outside a request are not traced.
    """
    if not event.contains(sessions, "before_commit", _mark_commit):
        event.listen(sessions, "before_commit", _mark_commit)


def route_template(scope) -> str:
    """The template of the route that served ``scope`` (set by the router), else ``unmatched``."""
    return getattr(scope.get("route"), "path", "unmatched")


class RequestContext:
    """Give each request an id and a :class:`RequestTrace`; return the id in every answer; log
    one access line per request (route template, never the path).

    The trace lives in ``request.state.trace`` (the scope's state) and in a context variable,
    which the route's worker thread inherits, so a commit made there marks it.
    """

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        trace = RequestTrace(incoming_request_id(headers.get(REQUEST_ID_HEADER.lower().encode())))
        scope.setdefault("state", {})
        scope["state"]["trace"] = trace
        token = _CURRENT.set(trace)
        start, status = time.perf_counter(), 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = trace.request_id
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            _CURRENT.reset(token)
            if access_log.isEnabledFor(logging.INFO):
                access_log.info("%s %s %d %.1fms request_id=%s", scope["method"], route_template(scope),
                                status, 1000 * (time.perf_counter() - start), trace.request_id)


class BodyLimit:
    """Answer 413 to bodies over ``max_bytes`` (declared length or streamed)."""

    def __init__(self, app: Any, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            return await self._reject(scope, receive, send)
        seen, too_large = 0, False

        async def limited():
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    too_large = True
                    raise _TooLarge
            return message

        async def sending(message):  # the app may answer _TooLarge itself (FastAPI: 400): drop it
            if not too_large:
                await send(message)

        try:
            await self.app(scope, limited, sending)
        except _TooLarge:
            pass
        if too_large:
            await self._reject(scope, receive, send)

    async def _reject(self, scope, receive, send):
        response = problem(413, f"request body over {self.max_bytes} bytes: send less",
                           f"corps de requête de plus de {self.max_bytes} octets : envoyez moins de données",
                           request_id=request_id_of(scope))
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass


class Metrics:
    """Count requests and time them, by method, route template and status."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start, status = time.perf_counter(), 500

        async def sending(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            template = route_template(scope)
            REQUESTS.labels(scope["method"], template, str(status)).inc()
            LATENCY.labels(scope["method"], template).observe(time.perf_counter() - start)
