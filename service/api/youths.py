"""``/v1/youths``, ``/v1/suggestions`` and ``/v1/shares``: profiles, suggestions, shares,
right of access.

Advisers see the youths of their own Mission Locale only; another Mission Locale's youth
answers 404 so that existence does not leak. The service assigns youth ids (a random ``Y-``
id): a create carrying ``id`` answers 422, the client's own reference goes in ``external_id``.
Every read or write of a youth's data writes an audit line (who, what, when; never profile
content).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from matching.profiles import SAFE_ID, parse_youth
from matching.recommend.updates import indexed_features
from service.api import suggestions as sugg
from service.api.deps import (
    KEY_ID_MAX,
    Caller,
    YouthId,
    clean_json,
    patch_body_schema,
    profile_body_schema,
    refuse_client_id,
    state,
)
from service.api.idempotency import Idempotency, idempotent
from service.api.problems import COMMON, ApiError, responses
from service.api.security import Principal, require
from service.live.learning import exposure_cache, ranker_for
from service.pseudonym import pseudonym_key
from service.store import crud
from service.store.columns import utcnow
from service.store.export import youth_export
from service.store.models import Share
from service.store.shares import share_youth, youth_of_candidate_ref
from service.store.suggestion_log import shown_to

router = APIRouter(tags=["youths"], responses=COMMON, dependencies=[Depends(clean_json)])
Params = Annotated[sugg.SuggestParams, Depends()]


class StoredYouth(BaseModel):
    id: str
    mission_locale: str
    version: int
    profile: dict[str, Any]
    created_at: str
    updated_at: str
    synthetic: bool
    warnings: list[str] = []


class YouthListItem(BaseModel):
    id: str
    external_id: str | None
    version: int
    updated_at: str


class ShareIn(BaseModel):
    """Share with one employer-relations key (``key_id``) or for one vacancy (``vacancy_id``)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    key_id: int | None = Field(None, ge=1, le=KEY_ID_MAX,
                               description="A live employer-relations key of your Mission Locale.")
    vacancy_id: str | None = Field(None, pattern=SAFE_ID, max_length=64,
                                   description="A vacancy of an employer of your territory.")

    @model_validator(mode="after")
    def _one_target(self):
        if (self.key_id is None) == (self.vacancy_id is None):
            raise ValueError("give exactly one of key_id or vacancy_id")
        return self


class ShareByRef(BaseModel):
    """Share the youth behind a shortlist's ``candidate_ref`` for that vacancy."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    vacancy_id: str = Field(pattern=SAFE_ID, max_length=64, description="The shortlist's vacancy.")
    candidate_ref: str = Field(pattern=r"^C-[0-9a-f]{32}$", description="As the shortlist gave it.")


class ShareOut(BaseModel):
    id: int
    youth_id: str
    key_id: int | None
    vacancy_id: str | None
    created_at: str


def _stored(row, warnings=()) -> StoredYouth:
    return StoredYouth(id=row.id, mission_locale=row.mission_locale, version=row.version,
                       profile=row.profile, created_at=row.created_at.isoformat(),
                       updated_at=row.updated_at.isoformat(), synthetic=row.synthetic,
                       warnings=list(warnings))


def _scope(principal: Principal) -> str | None:
    """The Mission Locale a caller is confined to (None: batch reads everywhere)."""
    return principal.mission_locale if principal.role == "adviser" else None


def validated_profile(request: Request, data: Any, principal: Principal) -> tuple[dict, list[str]]:
    """Validate a profile for the caller's Mission Locale; return the stored form and warnings
    (shared with the web pages: one validator, one set of French messages)."""
    if not isinstance(data, dict):
        raise ApiError(422, "the profile must be a JSON object", "le profil doit être un objet JSON", field="body")
    given = data.get("mission_locale")
    if given and given != principal.mission_locale:
        raise ApiError(422, f"mission_locale {given!r} is not yours ({principal.mission_locale}): leave it out",
                       f"mission_locale « {given} » n'est pas la vôtre ({principal.mission_locale}) : "
                       "ne la renseignez pas", field="mission_locale")
    referential = state(request).workspace.referential()
    youth, warnings = parse_youth({**data, "mission_locale": principal.mission_locale}, referential)
    document = {**data, "mission_locale": principal.mission_locale,
                "commune_insee": youth.location.commune_insee}
    return document, warnings


def _replay_youth(session, principal: Principal, youth_id: str) -> StoredYouth:
    row = crud.get_youth(session, youth_id, mission_locale=principal.mission_locale)
    crud.audit(session, principal.actor, "read", "youth", row.id)
    return _stored(row)


@router.post("/v1/youths", status_code=201, response_model=StoredYouth, responses=responses(409),
             openapi_extra=profile_body_schema(with_id=False), dependencies=[Depends(refuse_client_id)])
def create_youth(request: Request, principal: Caller, data: Annotated[dict[str, Any], Body()],
                 idempotency: Annotated[Idempotency, idempotent("youth", _replay_youth)]) -> StoredYouth:
    """Store a youth profile (adviser). The answer carries the stored youth and the ``id`` the
    service assigned; a body with ``id`` answers 422 (your reference goes in ``external_id``)."""
    require(principal, "adviser")
    row, warnings = create_stored_youth(request, principal, data, idempotency)
    return _stored(row, warnings)


def create_stored_youth(request: Request, principal: Principal, data: Any,
                        idempotency: Idempotency | None = None):
    """Validate and store a new youth of the adviser's Mission Locale (audited, indexed before
    returning); return the row and the warnings. Shared by the API and the web pages."""
    document, warnings = validated_profile(request, data, principal)
    st = state(request)
    with st.sessions.begin() as session:
        row = crud.create_youth(session, document, mission_locale=principal.mission_locale)
        crud.audit(session, principal.actor, "create", "youth", row.id)
        if idempotency is not None:
            idempotency.record(session, row.id, youth_id=row.id)
    st.live.catch_up()
    return row, warnings


@router.get("/v1/youths", response_model=list[YouthListItem])
def list_youths(request: Request, principal: Caller,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[YouthListItem]:
    """List youths (adviser: own Mission Locale; batch: all), by id, without their profiles."""
    require(principal, "adviser", "batch")
    st = state(request)
    with st.sessions.begin() as session:
        rows = crud.list_youths(session, mission_locale=_scope(principal), limit=limit, offset=offset)
        crud.audit(session, principal.actor, "list", "youth", None)
    return [YouthListItem(id=r.id, external_id=r.external_id, version=r.version,
                          updated_at=r.updated_at.isoformat()) for r in rows]


@router.get("/v1/youths/{youth_id}", response_model=StoredYouth)
def get_youth(request: Request, principal: Caller, youth_id: YouthId) -> StoredYouth:
    """Read one stored youth (adviser of its Mission Locale, batch)."""
    require(principal, "adviser", "batch")
    with state(request).sessions.begin() as session:
        row = crud.get_youth(session, youth_id, mission_locale=_scope(principal))
        crud.audit(session, principal.actor, "read", "youth", row.id)
    return _stored(row)


@router.patch("/v1/youths/{youth_id}", response_model=StoredYouth, responses=responses(409),
              openapi_extra=patch_body_schema())
def update_youth(request: Request, principal: Caller, youth_id: YouthId,
                 data: Annotated[dict[str, Any], Body()]) -> StoredYouth:
    """Change profile fields; send the ``version`` you read (a stale one answers 409)."""
    require(principal, "adviser")
    changes = dict(data)
    version = changes.pop("version", None)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(422, "give the version you read (an integer) with your change",
                       "indiquez la version lue (un entier) avec votre modification", field="version")
    row, warnings = update_stored_youth(request, principal, youth_id, changes, version)
    return _stored(row, warnings)


def update_stored_youth(request: Request, principal: Principal, youth_id: str, changes: dict[str, Any],
                        version: int):
    """Apply ``changes`` to a youth of the adviser's Mission Locale, read at ``version`` (409 when
    stale); validated, audited and indexed before returning. Shared by the API and the pages."""
    st = state(request)
    with st.read_sessions() as session:
        current = crud.get_youth(session, youth_id, mission_locale=principal.mission_locale).profile
    merged, warnings = validated_profile(request, {**current, **changes}, principal)
    with st.sessions.begin() as session:
        row = crud.update_youth(session, youth_id, merged, version=version,
                                mission_locale=principal.mission_locale)
        crud.audit(session, principal.actor, "update", "youth", row.id)
    st.live.catch_up()
    return row, warnings


@router.delete("/v1/youths/{youth_id}", status_code=204, response_class=Response)
def erase_youth(request: Request, principal: Caller, youth_id: YouthId) -> Response:
    """Erase a youth: store, indexes and suggestion records; only anonymous counts remain."""
    require(principal, "adviser")
    st = state(request)
    with st.sessions.begin() as session:
        crud.erase_youth(session, youth_id, principal.actor, mission_locale=principal.mission_locale)
    st.live.catch_up()
    return Response(status_code=204)


@router.get("/v1/youths/{youth_id}/suggestions")
def youth_suggestions(request: Request, principal: Caller, youth_id: YouthId, params: Params) -> dict[str, Any]:
    """Trades and vacancies for a stored youth (the ``passerelle suggest --json`` document).

    The lists are recorded as suggestions (what was proposed, when, with which policy and
    engine version); each item carries its ``suggestion_id`` for ``POST /v1/outcomes``.
    """
    require(principal, "adviser", "batch")
    return stored_suggestions(request, principal, youth_id, params)


def stored_suggestions(request: Request, principal: Principal, youth_id: str,
                       params: sugg.SuggestParams) -> dict[str, Any]:
    """Compute, record and return a stored youth's suggestion document (items carry their
    ``suggestion_id``). The one path of the API route and the web pages."""
    st = state(request)
    exposure = exposure_cache(st)
    with st.read_sessions() as session:
        row = crud.get_youth(session, youth_id, mission_locale=_scope(principal))
        profile, synthetic = row.profile, row.synthetic
        own = shown_to(session, youth_id, utcnow() - timedelta(days=exposure.days))
    youth = parse_youth(profile, st.workspace.referential(), synthetic=synthetic)[0]
    engine_state = st.live.read()  # caught up: the indexed youth is the stored one
    engine = engine_state.recommender
    log: dict[str, Any] = {}  # the suggestion log's features and model version (issue #15)
    document = sugg.suggest(engine, youth, params, indexed_features(engine, [youth_id]), log=log,
                            ranker=ranker_for(youth.mission_locale),
                            exposure=exposure.for_youth(engine.vacancies, own),
                            exploration=st.workspace.settings.exploration)
    items = sugg.records(engine, youth, document, log)
    version = sugg.engine_version(st.live, engine_state.generation)
    policy = document["policy"]
    with st.sessions.begin() as session:
        row = crud.get_youth(session, youth_id, mission_locale=_scope(principal))
        stored = crud.add_suggestions(session, row, items, policy=policy, engine_version=version,
                                      model_version=log.get("model_version"))
        crud.touch_youth(session, youth_id)
        crud.audit(session, principal.actor, "suggest", "youth", youth_id)
    exposure.shown([item["vacancy_id"] for item in document["vacancies"]], own)  # logged: counted
    sugg.attach_ids(document, stored)
    return {"youth_id": youth_id, **document}


@router.post("/v1/suggestions", openapi_extra=profile_body_schema())
def suggestions_for_profile(request: Request, principal: Caller, params: Params,
                            data: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
    """Suggestions for a profile sent in the body; nothing is stored (one anonymous audit line)."""
    require(principal, "adviser", "batch")
    st = state(request)
    youth, warnings = parse_youth(data, st.workspace.referential())
    document = sugg.suggest(st.live.read().recommender, youth, params)
    with st.sessions.begin() as session:
        crud.audit(session, principal.actor, "suggest_unsaved", "youth", None)
    return {**document, "warnings": warnings}


def _share_out(shared, youth_id: str) -> ShareOut:
    return ShareOut(id=shared.id, youth_id=youth_id, key_id=shared.shared_with_key_id,
                    vacancy_id=shared.vacancy_id, created_at=shared.created_at.isoformat())


def _replay_share(session, principal: Principal, share_id: str) -> ShareOut:
    shared = session.get(Share, int(share_id))
    if shared is None:
        raise crud.UnknownId(f"unknown share {share_id}", message_fr=f"partage inconnu {share_id}")
    crud.get_youth(session, shared.youth_id, mission_locale=principal.mission_locale)
    return _share_out(shared, shared.youth_id)


ShareKey = Annotated[Idempotency, idempotent("share", _replay_share)]


@router.post("/v1/youths/{youth_id}/shares", status_code=201, response_model=ShareOut, responses=responses(409))
def share(request: Request, principal: Caller, youth_id: YouthId, body: ShareIn, idempotency: ShareKey) -> ShareOut:
    """Share a consenting youth's full profile with an employer-relations key of your Mission
    Locale or for a vacancy of your territory (any other key or vacancy answers 404)."""
    require(principal, "adviser")
    with state(request).sessions.begin() as session:
        row = crud.get_youth(session, youth_id, mission_locale=principal.mission_locale)
        shared = share_youth(session, row, by=principal.actor, key_id=body.key_id, vacancy_id=body.vacancy_id)
        crud.audit(session, principal.actor, "share", "youth", youth_id)
        idempotency.record(session, shared.id, youth_id=row.id)
    return _share_out(shared, youth_id)


@router.post("/v1/shares", status_code=201, response_model=ShareOut, responses=responses(409))
def share_by_ref(request: Request, principal: Caller, body: ShareByRef, idempotency: ShareKey) -> ShareOut:
    """Share, for a vacancy, the youth behind a ``candidate_ref`` of its shortlist (adviser).

    Employer-relations staff pass the reference of a card to the adviser, who shares if the
    youth agrees (``consent_share``); the youth must be of the adviser's Mission Locale.
    """
    require(principal, "adviser")
    st = state(request)
    key = pseudonym_key(st.workspace.settings)
    with st.sessions.begin() as session:
        row = youth_of_candidate_ref(session, key, body.vacancy_id, body.candidate_ref,
                                     principal.mission_locale or "")
        shared = share_youth(session, row, by=principal.actor, vacancy_id=body.vacancy_id)
        crud.audit(session, principal.actor, "share", "youth", row.id)
        idempotency.record(session, shared.id, youth_id=row.id)
    return _share_out(shared, row.id)


@router.get("/v1/youths/{youth_id}/export")
def export(request: Request, principal: Caller, youth_id: YouthId) -> dict[str, Any]:
    """Right of access: everything held about the youth, as JSON."""
    require(principal, "adviser")
    with state(request).sessions.begin() as session:
        crud.get_youth(session, youth_id, mission_locale=principal.mission_locale)
        crud.audit(session, principal.actor, "export", "youth", youth_id)
        return youth_export(session, youth_id)
