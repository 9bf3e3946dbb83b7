"""Store rows -> engine dataclasses (:mod:`matching.types`), for the indexes and the tables.

Stored profiles were validated on the way in; they are parsed again with
:func:`matching.profiles.parse_youth` so that the engine sees exactly what the API accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from matching.profiles import parse_youth
from matching.types import Employer as EmployerData
from matching.types import Location
from matching.types import Vacancy as VacancyData
from matching.types import Youth as YouthData
from service.store.models import Employer, Vacancy, Youth

_CHUNK = 500


def _location(referential, commune: str | None, postcode: str | None, lat, lon) -> Location | None:
    if commune is None or lat is None or lon is None:
        return None
    name = ""
    if commune in referential.communes.index:
        name = str(referential.communes.at[commune, "name"])
    return Location(commune_insee=commune, postcode=postcode, name=name, lat=float(lat), lon=float(lon))


def employer_data(referential, row: Employer) -> EmployerData:
    """Return the engine's view of an ``employers`` row."""
    place = _location(referential, row.commune_insee, row.postcode, row.lat, row.lon)
    if place is None:  # NOT NULL columns: only a corrupted row gets here
        raise ValueError(f"employer {row.siret} has no commune or coordinates in the store")
    return EmployerData(siret=row.siret, name=row.name, naf=row.naf, sector_family=row.sector_family,
                        location=place, size_band=row.size_band, synthetic=row.synthetic)


def vacancy_data(referential, row: Vacancy, employer: EmployerData) -> VacancyData:
    """Return the engine's view of a ``vacancies`` row."""
    return VacancyData(
        id=row.id, employer=employer, title=row.title, description=row.description,
        code_rome=row.code_rome, contract=row.contract, rome_inferred=row.rome_inferred,
        level_required=row.level_required, beginners_accepted=row.beginners_accepted,
        places=row.places, start_date=row.start_date,
        location=_location(referential, row.commune_insee, row.postcode, row.lat, row.lon),
        status=row.status, synthetic=row.synthetic,
    )


def youth_data(referential, row: Youth) -> YouthData:
    """Return the engine's view of a ``youths`` row."""
    return parse_youth(row.profile, referential, synthetic=row.synthetic)[0]


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def load_vacancies(session: Session, referential, ids: Sequence[str] | None = None) -> list[VacancyData]:
    """Return vacancies (all, or those of ``ids`` that exist) with their employers, by id."""
    statement = select(Vacancy, Employer).join(Employer, Vacancy.employer_siret == Employer.siret)
    batches = [statement] if ids is None else [statement.where(Vacancy.id.in_(c)) for c in _chunks(ids)]
    employers: dict[str, EmployerData] = {}
    result = []
    for batch in batches:
        for vacancy, employer in session.execute(batch.order_by(Vacancy.id)):
            data = employers.get(employer.siret)
            if data is None:
                data = employers[employer.siret] = employer_data(referential, employer)
            result.append(vacancy_data(referential, vacancy, data))
    return result


def load_youths(session: Session, referential, ids: Sequence[str] | None = None) -> list[YouthData]:
    """Return youths (all, or those of ``ids`` that exist), by id."""
    statement = select(Youth)
    batches = [statement] if ids is None else [statement.where(Youth.id.in_(c)) for c in _chunks(ids)]
    return [youth_data(referential, row) for batch in batches
            for row in session.scalars(batch.order_by(Youth.id))]
