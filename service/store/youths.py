"""Missions Locales, youths, suggestions, outcomes and audit lines.

Functions flush but never commit; see :mod:`service.store`. A youth's ``profile`` is the youth
profile JSON form (``examples/youth.schema.json``), validated by the caller
(:func:`matching.profiles.parse_youth`); gender, qpv and commune are copied into columns for
the indicators and for scoping.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.store.changes import record_changes
from service.store.columns import utcnow
from service.store.errors import duplicate, not_found
from service.store.models import ApiKey, AuditLine, MissionLocale, Outcome, Suggestion, Youth
from service.store.outcome_codes import check_outcome
from service.store.rows import check_version, flush, table_of
from service.store.territory import territory_contains


def create_mission_locale(
    session: Session,
    code: str,
    name: str,
    *,
    departements: Iterable[str] = (),
    communes: Iterable[str] = (),
    synthetic: bool = False,
) -> MissionLocale:
    """Add a Mission Locale whose territory is a list of départements and/or communes."""
    if session.get(MissionLocale, code) is not None:
        raise duplicate("mission_locale", code)
    territory = {"departements": list(departements), "communes": list(communes)}
    mission = MissionLocale(code=code, name=name, territory=territory, synthetic=synthetic)
    session.add(mission)
    session.flush()
    return mission


def get_mission_locale(session: Session, code: str) -> MissionLocale:
    """Return a Mission Locale or raise :class:`~matching.errors.UnknownId`."""
    mission = session.get(MissionLocale, code)
    if mission is None:
        raise not_found("mission_locale", code)
    return mission


def in_territory(mission: MissionLocale, commune_insee: str | None) -> bool:
    """Tell whether a commune lies in a Mission Locale's territory (see :mod:`service.store.territory`)."""
    return territory_contains(mission.territory, commune_insee)


def new_youth_id() -> str:
    """Return a fresh random youth id (``Y-`` and 16 hex digits)."""
    return "Y-" + secrets.token_hex(8)


def _columns_of(profile: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "external_id": profile.get("external_id"),
        "gender": profile.get("gender"),
        "qpv": profile.get("qpv"),
        "commune_insee": profile.get("commune_insee"),
    }


def create_youth(
    session: Session,
    profile: Mapping[str, Any],
    *,
    mission_locale: str | None = None,
    synthetic: bool = False,
) -> Youth:
    """Store a youth profile; the stored profile carries its ``id`` and ``mission_locale``.

    Args:
        profile: a validated profile; give ``commune_insee`` (resolve a postcode first).
        mission_locale: overrides the profile's (an adviser's key decides it).

    Raises:
        Conflict: the profile's ``id`` is taken. UnknownId: unknown Mission Locale.
    """
    document = dict(profile)
    document["id"] = document.get("id") or new_youth_id()
    document["mission_locale"] = mission_locale or document.get("mission_locale")
    if not document["mission_locale"]:
        raise ValueError("a youth needs a mission_locale: give it or set it in the profile")
    get_mission_locale(session, document["mission_locale"])
    if session.get(Youth, document["id"]) is not None:
        raise duplicate("youth", document["id"])
    record_changes(session, "youth", [document["id"]], "upsert")
    youth = Youth(
        id=document["id"],
        mission_locale=document["mission_locale"],
        profile=document,
        synthetic=synthetic,
        **_columns_of(document),
    )
    session.add(youth)
    flush(session, "youth", youth.id)
    return youth


def get_youth(session: Session, youth_id: str, *, mission_locale: str | None = None) -> Youth:
    """Return a youth, or raise ``UnknownId`` if absent or (when given) in another Mission Locale.

    Answering "unknown" for another Mission Locale's youth keeps its existence secret.
    """
    youth = session.get(Youth, youth_id)
    if youth is None or (mission_locale is not None and youth.mission_locale != mission_locale):
        raise not_found("youth", youth_id)
    return youth


def list_youths(
    session: Session, *, mission_locale: str | None, limit: int = 100, offset: int = 0
) -> list[Youth]:
    """Return youths by id (those of ``mission_locale`` when given), one page."""
    statement = select(Youth).order_by(Youth.id).limit(limit).offset(offset)
    if mission_locale is not None:
        statement = statement.where(Youth.mission_locale == mission_locale)
    return list(session.scalars(statement))


def update_youth(
    session: Session,
    youth_id: str,
    changes: Mapping[str, Any],
    *,
    version: int | None,
    mission_locale: str | None = None,
) -> Youth:
    """Merge ``changes`` (profile fields) into a youth's profile; the version goes up by one.

    Raises:
        Conflict: ``version`` is stale. UnknownId: no such youth (in that Mission Locale).
        ValueError: ``changes`` tries to change ``id`` or ``mission_locale``.
    """
    youth = get_youth(session, youth_id, mission_locale=mission_locale)
    for fixed in ("id", "mission_locale"):
        if fixed in changes and changes[fixed] != youth.profile.get(fixed):
            raise ValueError(f"a youth's {fixed} cannot be changed")
    check_version("youth", youth, youth_id, version)
    record_changes(session, "youth", [youth_id], "upsert")
    document = {**youth.profile, **changes}
    youth.profile = document
    for name, value in _columns_of(document).items():
        setattr(youth, name, value)
    youth.updated_at = youth.last_activity_at = utcnow()
    flush(session, "youth", youth_id)
    return youth


def touch_youth(session: Session, youth_id: str, at: datetime | None = None) -> None:
    """Record activity on a youth's file (the retention clock restarts); no version change."""
    table = table_of(Youth)
    session.execute(
        update(table).where(table.c.id == youth_id).values(last_activity_at=at or utcnow())
    )


def inactive_youth_ids(
    session: Session, before: datetime, *, limit: int | None = None
) -> list[str]:
    """Return ids of youths with no activity since ``before`` (candidates for the retention purge)."""
    statement = (
        select(Youth.id).where(Youth.last_activity_at < before).order_by(Youth.id).limit(limit)
    )
    return list(session.scalars(statement))


def add_suggestions(
    session: Session,
    youth: Youth,
    items: Sequence[Mapping[str, Any]],
    *,
    policy: Mapping[str, Any],
    engine_version: str,
    list_id: str | None = None,
    model_version: str | None = None,
    simulated: bool = False,
    created_at: datetime | None = None,
) -> list[Suggestion]:
    """Record the ranked lists proposed to ``youth`` in one bulk insert (the suggestion log).

    Args:
        items: one mapping per item with ``item_kind``, ``item_id``, ``score`` and optionally
            ``sector_family``, ``employer_siret``, ``non_traditional``, ``features`` (``{name:
            value}``, the features that scored it) and ``propensity`` (probability of being shown
            when exploration is on); rank is the position among the items of its kind.
        list_id: the served document's id (default: a new random one); each kind of item makes
            one list, ``<list_id>:t`` (trades) or ``<list_id>:v`` (vacancies).
        model_version: the learned ranker that ordered the vacancies (None: the fusion).
        simulated: rows of ``passerelle outcomes simulate`` (left out of the indicators).
        created_at: when the lists were served (default now).
    """
    base = list_id or secrets.token_hex(16)
    moment = created_at or utcnow()
    if not items:
        return []
    rows = [{
        "youth_id": youth.id,
        "mission_locale": youth.mission_locale,
        "rank": rank,
        "policy": dict(policy),
        "engine_version": engine_version,
        "item_kind": item["item_kind"],
        "item_id": item["item_id"],
        "score": float(item["score"]),
        "sector_family": item.get("sector_family"),
        "employer_siret": item.get("employer_siret"),
        "non_traditional": item.get("non_traditional"),
        "list_id": f"{base}:{item['item_kind'][0]}",
        "features": item.get("features"),
        "model_version": model_version if item["item_kind"] == "vacancy" else None,
        "propensity": item.get("propensity"),
        "simulated": simulated,
        "created_at": moment,
    } for rank, item in enumerate(items, start=1)]
    # One INSERT ... RETURNING for the list (the ORM's bulk path): a served list pays one
    # statement instead of a unit-of-work flush of 20 objects, most of a request's store time.
    statement = insert(Suggestion).returning(Suggestion, sort_by_parameter_order=True)
    return list(session.scalars(statement, rows))


def add_outcome(
    session: Session, suggestion_id: int, status: str, reason: str | None = None
) -> Outcome:
    """Record what happened to a suggestion (``contacted``, ``applied``, ``declined``...).

    Raises:
        InvalidOutcome: unknown status, or a ``declined`` outcome without a reason code
            (:func:`service.store.outcome_codes.check_outcome`). UnknownId: no such suggestion.
    """
    reason = check_outcome(status, reason)
    if session.get(Suggestion, suggestion_id) is None:
        raise not_found("suggestion", suggestion_id)
    outcome = Outcome(suggestion_id=suggestion_id, status=status, reason=reason)
    session.add(outcome)
    session.flush()
    return outcome


def audit(
    session: Session,
    actor: ApiKey | None,
    action: str,
    object_kind: str,
    object_id: str | None,
    *,
    mission_locale: str | None = None,
) -> AuditLine:
    """Write an audit line: who (key id and role; None = command line), what, on which object."""
    line = AuditLine(
        actor_key_id=actor.id if actor else None,
        role=actor.role if actor else "cli",
        mission_locale=mission_locale or (actor.mission_locale if actor else None),
        action=action,
        object_kind=object_kind,
        object_id=object_id,
    )
    session.add(line)
    session.flush()
    return line
