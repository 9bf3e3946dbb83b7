"""``/health``, ``/ready`` (model, index and data versions) and ``/metrics`` (Prometheus)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from service import __version__
from service.api.deps import state
from service.api.middleware import REGISTRY
from service.store.db import current_revision

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready")
def ready(request: Request) -> dict[str, Any]:
    """Ready to serve: store revision, model, index generation and counts, data versions."""
    st = state(request)
    live = st.live
    referential = st.workspace.referential()
    return {"status": "ready", "version": __version__, "store_revision": current_revision(st.workspace.store()[0]),
            "index": live.status(), "trades_data_hash": live.metadata["trades_data_hash"],
            "referential": {"cards": len(referential.cards)}}


@router.get("/metrics", response_class=Response)
def metrics() -> Response:
    """Prometheus metrics (requests by route template and status, latency)."""
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
