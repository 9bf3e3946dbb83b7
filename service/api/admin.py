"""Outcomes, indicators, and administration (Missions Locales, API keys, audit trail)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from service.api.deps import KEY_ID_MAX, ROW_ID_MAX, Caller, clean_json, state
from service.api.idempotency import Idempotency, idempotent
from service.api.problems import COMMON, ApiError, responses
from service.api.security import in_territory, require
from service.store import crud
from service.store.indicators import indicators, indicators_csv
from service.store.models import (
    AuditLine,
    Employer,
    MissionLocale,
    Outcome,
    Suggestion,
)
from service.store.outcome_codes import (
    DECLINE_REASONS,
    OUTCOME_STATUSES,
    REASON_MAX_LENGTH,
    check_outcome,
)

router = APIRouter(responses=COMMON, dependencies=[Depends(clean_json)])


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class OutcomeIn(_Strict):
    suggestion_id: int = Field(ge=1, le=ROW_ID_MAX)
    status: Literal[OUTCOME_STATUSES]  # type: ignore[valid-type]
    reason: str | None = Field(
        None, max_length=REASON_MAX_LENGTH,
        description="For `declined`, required: one of " + ", ".join(f"`{code}`" for code in DECLINE_REASONS)
        + ". Other statuses: an optional note (no personal details).",
        examples=["employer_no_reply"])


class OutcomeOut(BaseModel):
    id: int
    suggestion_id: int
    status: str
    reason: str | None
    created_at: str


def _outcome_out(outcome: Outcome) -> OutcomeOut:
    return OutcomeOut(id=outcome.id, suggestion_id=outcome.suggestion_id, status=outcome.status,
                      reason=outcome.reason, created_at=outcome.created_at.isoformat())


def _replay_outcome(session, _principal, outcome_id: str) -> OutcomeOut:
    """The outcome a retry's key recorded (that key created it: no new visibility check)."""
    outcome = session.get(Outcome, int(outcome_id))
    if outcome is None:  # erased with its youth
        raise crud.UnknownId(f"unknown outcome {outcome_id}", message_fr=f"résultat inconnu {outcome_id}")
    return _outcome_out(outcome)


@router.post("/v1/outcomes", status_code=201, response_model=OutcomeOut, tags=["outcomes"],
             responses=responses(409))
def add_outcome(request: Request, principal: Caller, body: OutcomeIn,
                idempotency: Annotated[Idempotency, idempotent("outcome", _replay_outcome)]) -> OutcomeOut:
    """Record what happened to a suggestion: contacted, applied, immersion, hired, in post after
    6 months, declined (with a reason code)."""
    require(principal, "adviser", "employer_relations")
    check_outcome(body.status, body.reason)  # 422 naming `reason` before any lookup
    with state(request).sessions.begin() as session:
        suggestion = session.get(Suggestion, body.suggestion_id)
        employer = (session.get(Employer, suggestion.employer_siret)
                    if suggestion is not None and suggestion.employer_siret else None)
        allowed = suggestion is not None and (  # else 404, as for an unknown suggestion
            suggestion.mission_locale == principal.mission_locale if principal.role == "adviser"
            else suggestion.item_kind == "vacancy" and employer is not None
            and in_territory(principal, employer.commune_insee))
        if suggestion is None or not allowed:
            raise crud.UnknownId(f"unknown suggestion id {body.suggestion_id}", field="suggestion_id",
                                 message_fr=f"suggestion inconnue {body.suggestion_id}")
        outcome = crud.add_outcome(session, body.suggestion_id, body.status, body.reason)
        crud.touch_youth(session, suggestion.youth_id)
        crud.audit(session, principal.actor, f"outcome_{body.status}", "youth", suggestion.youth_id)
        idempotency.record(session, outcome.id, youth_id=suggestion.youth_id)
    return _outcome_out(outcome)


@router.get("/v1/indicators", tags=["indicators"],
            responses={200: {"content": {"application/json": {}, "text/csv": {}}}})
def get_indicators(request: Request, principal: Caller,
                   mission_locale: Annotated[str | None, Query(max_length=32)] = None,
                   start: Annotated[date | None, Query(alias="from")] = None,
                   end: Annotated[date | None, Query(alias="to")] = None,
                   format: Annotated[Literal["json", "csv"], Query()] = "json") -> Any:
    """Partnership indicators by gender group; counts under 5 are suppressed.

    Advisers and employer-relations staff see their own Mission Locale; admins any or all.
    """
    require(principal, "adviser", "employer_relations", "admin")
    if principal.role != "admin":
        if mission_locale not in (None, principal.mission_locale):
            raise ApiError(403, "you may only see your own Mission Locale's indicators",
                           "vous ne pouvez consulter que les indicateurs de votre Mission Locale",
                           field="mission_locale")
        mission_locale = principal.mission_locale
    with state(request).read_sessions() as session:
        document = indicators(session, mission_locale=mission_locale, start=start, end=end)
    if format == "csv":
        return Response(indicators_csv(document), media_type="text/csv; charset=utf-8")
    return document


class MissionLocaleIn(_Strict):
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_-]{1,31}$")
    name: str = Field(min_length=1, max_length=200)
    departements: list[Annotated[str, Field(pattern=r"^(0[1-9]|[1-8][0-9]|9[0-5]|2A|2B|97[1-6])$")]] = Field(default_factory=list, max_length=20)
    communes: list[Annotated[str, Field(pattern=r"^[0-9][0-9AB][0-9]{3}$")]] = Field(default_factory=list, max_length=2000)


class MissionLocaleOut(BaseModel):
    code: str
    name: str
    territory: dict[str, list[str]]
    synthetic: bool


class KeyIn(_Strict):
    role: Literal["adviser", "employer_relations", "batch", "admin"]
    mission_locale: str | None = Field(None, max_length=32)
    label: str | None = Field(None, max_length=200)


class KeyOut(BaseModel):
    id: int
    prefix: str
    role: str
    mission_locale: str | None
    label: str | None
    created_at: str
    revoked_at: str | None
    key: str | None = Field(None, description="The clear key: shown once, at creation.")


def _key_out(row, clear: str | None = None) -> KeyOut:
    return KeyOut(id=row.id, prefix=row.prefix, role=row.role, mission_locale=row.mission_locale,
                  label=row.label, created_at=row.created_at.isoformat(),
                  revoked_at=row.revoked_at.isoformat() if row.revoked_at else None, key=clear)


def _replay_mission_locale(session, _principal, code: str) -> MissionLocaleOut:
    row = crud.get_mission_locale(session, code)
    return MissionLocaleOut(code=row.code, name=row.name, territory=row.territory, synthetic=row.synthetic)


@router.post("/v1/missions-locales", status_code=201, response_model=MissionLocaleOut,
             responses=responses(409), tags=["admin"])
def create_mission_locale(request: Request, principal: Caller, body: MissionLocaleIn,
                          idempotency: Annotated[Idempotency, idempotent(
                              "mission_locale", _replay_mission_locale)]) -> MissionLocaleOut:
    """Create a Mission Locale and its territory (admin)."""
    require(principal, "admin")
    if not body.departements and not body.communes:
        raise ApiError(422, "give the territory: departements and/or communes",
                       "indiquez le territoire : départements et/ou communes", field="departements")
    with state(request).sessions.begin() as session:
        row = crud.create_mission_locale(session, body.code, body.name, departements=body.departements,
                                         communes=body.communes)
        crud.audit(session, principal.actor, "create", "mission_locale", body.code)
        idempotency.record(session, row.code)
    return MissionLocaleOut(code=row.code, name=row.name, territory=row.territory, synthetic=row.synthetic)


@router.get("/v1/missions-locales", response_model=list[MissionLocaleOut], tags=["admin"])
def list_missions_locales(request: Request, principal: Caller) -> list[MissionLocaleOut]:
    """List the Missions Locales (admin)."""
    require(principal, "admin")
    with state(request).read_sessions() as session:
        rows = session.scalars(select(MissionLocale).order_by(MissionLocale.code))
        return [MissionLocaleOut(code=r.code, name=r.name, territory=r.territory, synthetic=r.synthetic)
                for r in rows]


@router.post("/v1/keys", status_code=201, response_model=KeyOut, tags=["admin"])
def create_key(request: Request, principal: Caller, body: KeyIn) -> KeyOut:
    """Create an API key (admin); the clear key is in the answer, once."""
    require(principal, "admin")
    with state(request).sessions.begin() as session:
        row, clear = crud.create_api_key(session, body.role, body.mission_locale, label=body.label)
        crud.audit(session, principal.actor, "create", "api_key", str(row.id))
    return _key_out(row, clear)


@router.get("/v1/keys", response_model=list[KeyOut], tags=["admin"])
def list_keys(request: Request, principal: Caller) -> list[KeyOut]:
    """List API keys (admin): never the keys themselves."""
    require(principal, "admin")
    with state(request).read_sessions() as session:
        return [_key_out(row) for row in crud.list_api_keys(session)]


@router.delete("/v1/keys/{key_id}", response_model=KeyOut, tags=["admin"])
def revoke_key(request: Request, principal: Caller,
               key_id: Annotated[int, Path(ge=1, le=KEY_ID_MAX)]) -> KeyOut:
    """Revoke an API key now (admin)."""
    require(principal, "admin")
    with state(request).sessions.begin() as session:
        row = crud.revoke_api_key(session, key_id)
        crud.audit(session, principal.actor, "revoke", "api_key", str(key_id))
    return _key_out(row)


@router.get("/v1/audit", tags=["admin"])
def audit_trail(request: Request, principal: Caller,
                object_kind: Annotated[str | None, Query(max_length=16)] = None,
                object_id: Annotated[str | None, Query(max_length=64)] = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[dict[str, Any]]:
    """Audit lines, newest first (admin): who did what to which object, when; no content."""
    require(principal, "admin")
    statement = select(AuditLine).order_by(AuditLine.id.desc()).limit(limit).offset(offset)
    if object_kind:
        statement = statement.where(AuditLine.object_kind == object_kind)
    if object_id:
        statement = statement.where(AuditLine.object_id == object_id)
    with state(request).read_sessions() as session:
        return [{"id": a.id, "at": a.at.isoformat(), "key_id": a.actor_key_id, "role": a.role,
                 "mission_locale": a.mission_locale, "action": a.action, "object_kind": a.object_kind,
                 "object_id": a.object_id} for a in session.scalars(statement)]
