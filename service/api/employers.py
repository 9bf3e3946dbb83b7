"""``/v1/employers`` and ``/v1/vacancies``: the firms and offers of a territory, and shortlists.

Employer-relations staff write the employers and vacancies of their own territory; advisers and
batch jobs read vacancies. A vacancy without a ROME code gets one inferred from its title and
description (``rome_inferred``). The service assigns vacancy ids (``V-`` and 16 random hex
digits): a create carrying ``id`` answers 422; the client's reference goes in ``external_id``.
An employer or vacancy outside the caller's territory answers 404 as an unknown one does.
Candidate cards are pseudonymised until an adviser shares (see :mod:`service.output`).
"""

from __future__ import annotations

import secrets
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from matching.referential.geo import resolve_location
from matching.types import CONTRACTS, DIPLOMA_LEVELS
from service.api.deps import (
    Caller,
    Siret,
    VacancyId,
    clean_json,
    refuse_client_id,
    refuse_nulls,
    state,
)
from service.api.idempotency import Idempotency, idempotent
from service.api.problems import COMMON, ApiError, responses
from service.api.security import Principal, in_territory, require
from service.api.shortlists import readable_vacancy as _readable_vacancy
from service.api.shortlists import shortlist
from service.store import crud
from service.store.errors import not_found
from service.store.models import Employer, Vacancy
from service.store.territory import territory_clause

router = APIRouter(tags=["employers and vacancies"], responses=COMMON, dependencies=[Depends(clean_json)])

Contract = Literal[CONTRACTS]  # type: ignore[valid-type]
if TYPE_CHECKING:  # the literal is built from the domain's tuple at run time
    Level = str
else:
    Level = Literal[tuple(level for level in DIPLOMA_LEVELS if level)]
Status = Literal["open", "filled", "expired"]
Commune = Annotated[str, Field(pattern=r"^[0-9][0-9AB][0-9]{3}$")]
Postcode = Annotated[str, Field(pattern=r"^[0-9]{5}$")]
EmployerKey = Annotated[Idempotency, idempotent("employer", lambda s, p, siret: _employer_out(_own_employer(s, p, siret)))]
VacancyKey = Annotated[Idempotency, idempotent("vacancy", lambda s, p, id_: _vacancy_out(_readable_vacancy(s, p, id_)))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class EmployerIn(_Strict):
    siret: str = Field(pattern=r"^[0-9]{14}$", description="14 digits.")
    name: str = Field(min_length=1, max_length=300, description="Displayable name (the sign, not a person's name).")
    naf: str = Field(pattern=r"^[0-9]{2}\.?[0-9]{2}[A-Z]$", description="NAF rev. 2 code, e.g. 4771Z.")
    size_band: str | None = Field(None, max_length=32)
    commune_insee: Commune | None = None
    postcode: Postcode | None = None


class EmployerPatch(_Strict):
    version: int = Field(ge=1, description="The version you read: a stale one answers 409.")
    name: str | None = Field(None, min_length=1, max_length=300)
    naf: str | None = Field(None, pattern=r"^[0-9]{2}\.?[0-9]{2}[A-Z]$")
    size_band: str | None = Field(None, max_length=32)
    commune_insee: Commune | None = None
    postcode: Postcode | None = None


class EmployerOut(BaseModel):
    siret: str
    name: str
    naf: str
    sector_family: str
    size_band: str | None
    commune_insee: str
    postcode: str | None
    version: int
    synthetic: bool


class VacancyIn(_Strict):
    external_id: str | None = Field(None, max_length=64, description="Your own reference; the service assigns the id.")
    employer_siret: str = Field(pattern=r"^[0-9]{14}$")
    title: str = Field(min_length=1, max_length=300)
    description: str = Field("", max_length=10_000)
    code_rome: str | None = Field(None, pattern=r"^[A-Z][0-9]{4}$", description="Inferred from the texts when absent.")
    contract: Contract
    level_required: Level | None = None
    beginners_accepted: bool = True
    places: int = Field(1, ge=1, le=1000)
    start_date: date | None = None
    end_date: date | None = Field(None, description="The vacancy expires after this day.")
    status: Status = "open"
    commune_insee: Commune | None = Field(None, description="Where the work is; default: the employer's place.")
    postcode: Postcode | None = None


class VacancyPatch(_Strict):
    version: int = Field(ge=1, description="The version you read: a stale one answers 409.")
    external_id: str | None = Field(None, max_length=64)
    title: str | None = Field(None, min_length=1, max_length=300)
    description: str | None = Field(None, max_length=10_000)
    code_rome: str | None = Field(None, pattern=r"^[A-Z][0-9]{4}$")
    contract: Contract | None = None
    level_required: Level | None = None
    beginners_accepted: bool | None = None
    places: int | None = Field(None, ge=1, le=1000)
    start_date: date | None = None
    end_date: date | None = None
    status: Status | None = None


class VacancyOut(BaseModel):
    id: str
    external_id: str | None
    employer_siret: str
    title: str
    description: str
    code_rome: str
    rome_inferred: bool
    contract: str
    level_required: str | None
    beginners_accepted: bool
    places: int
    start_date: date | None
    end_date: date | None
    status: str
    commune_insee: str | None
    version: int
    synthetic: bool


def _employer_out(row: Employer) -> EmployerOut:
    return EmployerOut(siret=row.siret, name=row.name, naf=row.naf, sector_family=row.sector_family,
                       size_band=row.size_band, commune_insee=row.commune_insee, postcode=row.postcode,
                       version=row.version, synthetic=row.synthetic)


def _vacancy_out(row: Vacancy) -> VacancyOut:
    return VacancyOut.model_validate(row, from_attributes=True)


def _outside(what: str) -> ApiError:
    return ApiError(403, f"this {what} is outside your Mission Locale's territory",
                    f"cet élément ({what}) est hors du territoire de votre Mission Locale")


def _place(request: Request, commune: str | None, postcode: str | None) -> dict[str, Any]:
    location = resolve_location(state(request).workspace.referential(), commune, postcode)
    return {"commune_insee": location.commune_insee, "postcode": location.postcode or postcode,
            "lat": location.lat, "lon": location.lon}


def _naf_fields(request: Request, naf: str) -> dict[str, str]:
    from matching.errors import InvalidProfile

    code = naf.replace(".", "")
    families = state(request).workspace.referential().sector_families
    match = families.loc[families["naf"] == code, "sector_family"]
    if match.empty:
        raise InvalidProfile(f"unknown NAF code {naf!r}: give a NAF rev. 2 code such as 4771Z",
                             field="naf", message_fr=f"code NAF inconnu « {naf} » : indiquez un code NAF rév. 2, ex. 4771Z")
    return {"naf": code, "sector_family": str(match.iloc[0])}


def _territory_filter(principal: Principal):
    if principal.role != "employer_relations":
        return None
    return territory_clause(Employer.commune_insee, principal.territory or {})


def _own_employer(session, principal: Principal, siret: str) -> Employer:
    """The employer, when in the caller's territory; else 404 as for an unknown SIRET."""
    employer = crud.get_employer(session, siret)
    if not in_territory(principal, employer.commune_insee):
        raise not_found("employer", siret)
    return employer


# ---------------------------------------------------------------------------- employers
@router.post("/v1/employers", status_code=201, response_model=EmployerOut, responses=responses(409))
def create_employer(request: Request, principal: Caller, body: EmployerIn, idempotency: EmployerKey) -> EmployerOut:
    """Add an employer of your territory (employer-relations staff)."""
    require(principal, "employer_relations")
    fields = {**body.model_dump(exclude={"commune_insee", "postcode", "naf"}),
              **_naf_fields(request, body.naf), **_place(request, body.commune_insee, body.postcode)}
    if not in_territory(principal, fields["commune_insee"]):
        raise _outside("employeur")
    with state(request).sessions.begin() as session:
        row = crud.create_employer(session, fields)
        crud.audit(session, principal.actor, "create", "employer", row.siret)
        idempotency.record(session, row.siret)
    return _employer_out(row)


@router.get("/v1/employers", response_model=list[EmployerOut])
def list_employers(request: Request, principal: Caller,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[EmployerOut]:
    """List employers (employer-relations staff: their territory's), by SIRET."""
    require(principal, "employer_relations", "adviser", "batch")
    statement = select(Employer).order_by(Employer.siret).limit(limit).offset(offset)
    if (where := _territory_filter(principal)) is not None:
        statement = statement.where(where)
    with state(request).read_sessions() as session:
        return [_employer_out(row) for row in session.scalars(statement)]


@router.get("/v1/employers/{siret}", response_model=EmployerOut)
def get_employer(request: Request, principal: Caller, siret: Siret) -> EmployerOut:
    """Read one employer."""
    require(principal, "employer_relations", "adviser", "batch")
    with state(request).read_sessions() as session:
        row = crud.get_employer(session, siret)
        if principal.role == "employer_relations" and not in_territory(principal, row.commune_insee):
            raise not_found("employer", siret)
        return _employer_out(row)


@router.patch("/v1/employers/{siret}", response_model=EmployerOut, responses=responses(409))
def update_employer(request: Request, principal: Caller, siret: Siret, body: EmployerPatch) -> EmployerOut:
    """Change an employer; send the ``version`` you read."""
    require(principal, "employer_relations")
    refuse_nulls(body, Employer)
    changes = body.model_dump(exclude_unset=True, exclude={"version", "commune_insee", "postcode", "naf"})
    if body.naf is not None:
        changes.update(_naf_fields(request, body.naf))
    if body.commune_insee is not None or body.postcode is not None:
        changes.update(_place(request, body.commune_insee, body.postcode))
        if not in_territory(principal, changes["commune_insee"]):
            raise _outside("employeur")
    st = state(request)
    with st.sessions.begin() as session:
        _own_employer(session, principal, siret)
        row = crud.update_employer(session, siret, changes, version=body.version)
        crud.audit(session, principal.actor, "update", "employer", siret)
    st.live.catch_up()
    return _employer_out(row)


@router.delete("/v1/employers/{siret}", status_code=204, response_class=Response, responses=responses(409))
def delete_employer(request: Request, principal: Caller, siret: Siret,
                    version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """Delete an employer that has no vacancy left."""
    require(principal, "employer_relations")
    with state(request).sessions.begin() as session:
        _own_employer(session, principal, siret)
        crud.delete_employer(session, siret, version=version)
        crud.audit(session, principal.actor, "delete", "employer", siret)
    return Response(status_code=204)


# ---------------------------------------------------------------------------- vacancies
def _infer_rome(request: Request, title: str, description: str) -> str:
    from service.vacancy_rome import infer_code  # the same function as `passerelle trades infer`

    with state(request).live.reading(sync=False) as engine:
        return infer_code(engine, title, description)


def _check_rome(request: Request, code: str | None) -> None:
    if code is not None:
        state(request).workspace.referential().card(code)  # UnknownRomeCode -> 422


@router.post("/v1/vacancies", status_code=201, response_model=VacancyOut,
             dependencies=[Depends(refuse_client_id)])
def create_vacancy(request: Request, principal: Caller, body: VacancyIn, idempotency: VacancyKey) -> VacancyOut:
    """Add a vacancy of an employer of your territory; the ROME code is inferred when absent.

    The service assigns the ``id`` (in the answer); a body with ``id`` answers 422.
    """
    require(principal, "employer_relations")
    _check_rome(request, body.code_rome)
    fields = body.model_dump(exclude={"commune_insee", "postcode"})
    fields["id"] = "V-" + secrets.token_hex(8)
    if body.commune_insee or body.postcode:
        fields.update(_place(request, body.commune_insee, body.postcode))
    if body.code_rome is None:
        fields["code_rome"], fields["rome_inferred"] = _infer_rome(request, body.title, body.description), True
    if body.end_date is not None and body.end_date < date.today() and body.status == "open":
        fields["status"] = "expired"
    st = state(request)
    with st.sessions.begin() as session:
        _own_employer(session, principal, body.employer_siret)
        row = crud.create_vacancy(session, fields)
        crud.audit(session, principal.actor, "create", "vacancy", row.id)
        idempotency.record(session, row.id)
    st.live.catch_up()
    return _vacancy_out(row)


@router.get("/v1/vacancies", response_model=list[VacancyOut])
def list_vacancies(request: Request, principal: Caller,
                   status: Annotated[Status | None, Query()] = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                   offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0) -> list[VacancyOut]:
    """List vacancies by id (employer-relations staff: their territory's)."""
    require(principal, "employer_relations", "adviser", "batch")
    statement = (select(Vacancy).join(Employer, Vacancy.employer_siret == Employer.siret)
                 .order_by(Vacancy.id).limit(limit).offset(offset))
    if status is not None:
        statement = statement.where(Vacancy.status == status)
    if (where := _territory_filter(principal)) is not None:
        statement = statement.where(where)
    with state(request).read_sessions() as session:
        return [_vacancy_out(row) for row in session.scalars(statement)]


@router.get("/v1/vacancies/{vacancy_id}", response_model=VacancyOut)
def get_vacancy(request: Request, principal: Caller, vacancy_id: VacancyId) -> VacancyOut:
    """Read one vacancy."""
    require(principal, "employer_relations", "adviser", "batch")
    with state(request).read_sessions() as session:
        return _vacancy_out(_readable_vacancy(session, principal, vacancy_id))


@router.patch("/v1/vacancies/{vacancy_id}", response_model=VacancyOut, responses=responses(409))
def update_vacancy(request: Request, principal: Caller, vacancy_id: VacancyId, body: VacancyPatch) -> VacancyOut:
    """Change a vacancy (status included: ``filled`` or ``expired`` leave the suggestions)."""
    require(principal, "employer_relations")
    refuse_nulls(body, Vacancy)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    _check_rome(request, changes.get("code_rome"))
    if "code_rome" in changes:
        changes["rome_inferred"] = False
    st = state(request)
    with st.sessions.begin() as session:
        _own_employer(session, principal, _readable_vacancy(session, principal, vacancy_id).employer_siret)
        row = crud.update_vacancy(session, vacancy_id, changes, version=body.version)
        crud.audit(session, principal.actor, "update", "vacancy", vacancy_id)
    st.live.catch_up()
    return _vacancy_out(row)


@router.delete("/v1/vacancies/{vacancy_id}", status_code=204, response_class=Response, responses=responses(409))
def delete_vacancy(request: Request, principal: Caller, vacancy_id: VacancyId,
                   version: Annotated[int | None, Query(ge=1)] = None) -> Response:
    """Delete a vacancy (past suggestions keep its id as history)."""
    require(principal, "employer_relations")
    st = state(request)
    with st.sessions.begin() as session:
        _readable_vacancy(session, principal, vacancy_id)
        crud.delete_vacancy(session, vacancy_id, version=version)
        crud.audit(session, principal.actor, "delete", "vacancy", vacancy_id)
    st.live.catch_up()
    return Response(status_code=204)


@router.get("/v1/vacancies/{vacancy_id}/candidates")
def candidates(request: Request, principal: Caller, vacancy_id: VacancyId,
               top_k: Annotated[int, Query(ge=1, le=100)] = 10,
               balance: Annotated[Literal["pool", "parity", "off"], Query()] = "pool",
               algorithm: Annotated[Literal["det_relaxed", "det_cons", "det_greedy"], Query()] = "det_relaxed",
               with_qpv: Annotated[bool, Query()] = False) -> dict[str, Any]:
    """Shortlist of young people within reach (the ``passerelle candidates --json`` document).

    Each candidate has a ``candidate_ref`` (pass it to the youth's adviser to ask for a share)
    and a card: initials, age, commune, skills, ``shared``; gender, diploma level, external id
    and free texts only once an adviser shared the youth's profile with you or for this vacancy.
    """
    require(principal, "employer_relations", "batch")
    return shortlist(request, principal, vacancy_id, top_k=top_k, balance=balance, algorithm=algorithm,
                     with_qpv=with_qpv).document
