"""One page of a Mission Locale's young people for the web list: search, newest activity
first, with the date each was last given suggestions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.store.models import Suggestion, Youth


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def youth_page(session: Session, *, mission_locale: str, search: str = "",
               commune_codes: Sequence[str] = (), limit: int = 20,
               offset: int = 0) -> list[tuple[Youth, datetime | None]]:
    """Return ``(youth, last_suggested_at)`` pairs, most recently active first.

    Args:
        search: matched (case-insensitive substring) against the dossier reference and the id.
        commune_codes: INSEE codes whose youths also match (a commune name the caller resolved).
    """
    last = (select(Suggestion.youth_id, func.max(Suggestion.created_at).label("last_at"))
            .where(Suggestion.mission_locale == mission_locale)
            .group_by(Suggestion.youth_id).subquery())
    statement = (select(Youth, last.c.last_at).outerjoin(last, last.c.youth_id == Youth.id)
                 .where(Youth.mission_locale == mission_locale))
    search = search.strip()
    if search:
        pattern = _like(search.lower())
        matches = [func.lower(Youth.external_id).like(pattern, escape="\\"),
                   func.lower(Youth.id).like(pattern, escape="\\")]
        if commune_codes:
            matches.append(Youth.commune_insee.in_(list(commune_codes)))
        statement = statement.where(or_(*matches))
    statement = statement.order_by(Youth.last_activity_at.desc(), Youth.id).limit(limit).offset(offset)
    return [(youth, last_at) for youth, last_at in session.execute(statement)]
