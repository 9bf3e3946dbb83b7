"""Right of access: everything the store holds about one youth, as a JSON-ready document."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.errors import not_found
from service.store.models import AuditLine, Outcome, Share, ShareRequest, Suggestion, Youth


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def youth_export(session: Session, youth_id: str) -> dict[str, Any]:
    """Return the youth's row, suggestions with their outcomes, shares, share requests and audit trail."""
    youth = session.get(Youth, youth_id)
    if youth is None:
        raise not_found("youth", youth_id)
    suggestions = list(session.scalars(
        select(Suggestion).where(Suggestion.youth_id == youth_id).order_by(Suggestion.id)))
    outcomes: dict[int, list[dict[str, Any]]] = {}
    if suggestions:
        for outcome in session.scalars(select(Outcome).where(
                Outcome.suggestion_id.in_([s.id for s in suggestions])).order_by(Outcome.id)):
            outcomes.setdefault(outcome.suggestion_id, []).append(
                {"status": outcome.status, "reason": outcome.reason, "at": _iso(outcome.created_at)})
    shares = session.scalars(select(Share).where(Share.youth_id == youth_id).order_by(Share.id))
    requests = session.scalars(
        select(ShareRequest).where(ShareRequest.youth_id == youth_id).order_by(ShareRequest.id))
    audit = session.scalars(select(AuditLine).where(
        AuditLine.object_kind == "youth", AuditLine.object_id == youth_id).order_by(AuditLine.id))
    return {
        "youth": {"id": youth.id, "mission_locale": youth.mission_locale, "profile": youth.profile,
                  "version": youth.version, "created_at": _iso(youth.created_at),
                  "updated_at": _iso(youth.updated_at), "last_activity_at": _iso(youth.last_activity_at),
                  "synthetic": youth.synthetic},
        "suggestions": [{"id": s.id, "item_kind": s.item_kind, "item_id": s.item_id, "rank": s.rank,
                         "score": s.score, "policy": s.policy, "engine_version": s.engine_version,
                         "created_at": _iso(s.created_at), "outcomes": outcomes.get(s.id, [])}
                        for s in suggestions],
        "shares": [{"id": s.id, "key_id": s.shared_with_key_id, "vacancy_id": s.vacancy_id,
                    "by_key_id": s.by_key_id, "created_at": _iso(s.created_at)} for s in shares],
        "share_requests": [{"id": r.id, "vacancy_id": r.vacancy_id, "key_id": r.key_id, "status": r.status,
                            "created_at": _iso(r.created_at)} for r in requests],
        "audit": [{"at": _iso(a.at), "role": a.role, "key_id": a.actor_key_id, "action": a.action}
                  for a in audit],
    }
