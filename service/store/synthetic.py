"""Load a synthetic demo data set (:class:`matching.synthetic.dataset.SyntheticData`) into the store.

Rows go in with Core ``insert()`` and lists of dicts (executemany; batched multi-row VALUES on
PostgreSQL): thousands of rows a second on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from matching.synthetic.dataset import SyntheticData
from matching.types import Employer as EmployerData
from matching.types import Vacancy as VacancyData
from service.store.changes import record_changes
from service.store.columns import utcnow
from service.store.models import Employer, MissionLocale, Vacancy, Youth
from service.store.rows import rowcount, table_of

_CHUNK = 5_000


def employer_row(employer: EmployerData) -> dict[str, Any]:
    """Return the ``employers`` columns of an engine :class:`~matching.types.Employer`."""
    place = employer.location
    return {
        "siret": employer.siret,
        "name": employer.name,
        "naf": employer.naf,
        "sector_family": employer.sector_family,
        "size_band": employer.size_band,
        "commune_insee": place.commune_insee,
        "postcode": place.postcode,
        "lat": place.lat,
        "lon": place.lon,
        "synthetic": employer.synthetic,
    }


def vacancy_row(vacancy: VacancyData) -> dict[str, Any]:
    """Return the ``vacancies`` columns of an engine :class:`~matching.types.Vacancy`."""
    place = vacancy.location
    return {
        "id": vacancy.id,
        "employer_siret": vacancy.employer.siret,
        "title": vacancy.title,
        "description": vacancy.description,
        "code_rome": vacancy.code_rome,
        "rome_inferred": vacancy.rome_inferred,
        "contract": vacancy.contract,
        "level_required": vacancy.level_required,
        "beginners_accepted": vacancy.beginners_accepted,
        "places": vacancy.places,
        "start_date": vacancy.start_date,
        "end_date": None,
        "status": vacancy.status,
        "commune_insee": place.commune_insee if place else None,
        "postcode": place.postcode if place else None,
        "lat": place.lat if place else None,
        "lon": place.lon if place else None,
        "synthetic": vacancy.synthetic,
    }


def youth_row(profile: dict[str, Any], *, synthetic: bool = True) -> dict[str, Any]:
    """Return the ``youths`` columns of a youth profile that has ``id`` and ``mission_locale``."""
    return {
        "id": profile["id"],
        "mission_locale": profile["mission_locale"],
        "external_id": profile.get("external_id"),
        "profile": profile,
        "gender": profile.get("gender"),
        "qpv": profile.get("qpv"),
        "commune_insee": profile.get("commune_insee"),
        "synthetic": synthetic,
    }


def _insert(session: Session, model: type, rows: list[dict[str, Any]]) -> None:
    now = utcnow()
    table = table_of(model)
    extra: dict[str, Any] = {
        name: now for name in ("created_at", "updated_at", "last_activity_at") if name in table.c
    }
    if "version" in table.c:
        extra["version"] = 1
    for start in range(0, len(rows), _CHUNK):
        chunk = [{**row, **extra} for row in rows[start : start + _CHUNK]]
        session.execute(table.insert(), chunk)


def delete_synthetic(session: Session) -> dict[str, int]:
    """Delete synthetic youths, vacancies and employers (logging index deletes); return counts.

    Synthetic youths are deleted outright, not erased: they are no one, so no counts are kept.
    """
    youth_ids = list(session.scalars(select(Youth.id).where(Youth.synthetic)))
    vacancy_ids = list(session.scalars(select(Vacancy.id).where(Vacancy.synthetic)))
    record_changes(session, "youth", youth_ids, "delete")
    record_changes(session, "vacancy", vacancy_ids, "delete")
    youths, vacancies, employers = table_of(Youth), table_of(Vacancy), table_of(Employer)
    session.execute(delete(youths).where(youths.c.synthetic))
    session.execute(delete(vacancies).where(vacancies.c.synthetic))
    still_used = select(vacancies.c.employer_siret)
    removed = session.execute(
        delete(employers).where(employers.c.synthetic, employers.c.siret.not_in(still_used))
    )
    session.expire_all()
    return {"youths": len(youth_ids), "vacancies": len(vacancy_ids), "employers": rowcount(removed)}


def load_synthetic(
    session: Session, data: SyntheticData, *, replace: bool = True
) -> dict[str, int]:
    """Insert a demo data set; return the number of rows added per table.

    Args:
        replace: first delete the synthetic rows already stored (reloading a demo is idempotent).
            With ``replace=False`` an id that is already stored fails the whole load.

    Missions Locales already stored are kept as they are.
    """
    if replace:
        delete_synthetic(session)
    known = set(session.scalars(select(MissionLocale.code)))
    missions = [
        {
            "code": m.code,
            "name": m.name,
            "synthetic": m.synthetic,
            "territory": {"departements": list(m.departements), "communes": list(m.communes)},
        }
        for m in data.missions_locales
        if m.code not in known
    ]
    known_sirets = set(session.scalars(select(Employer.siret)))
    employers = {e.siret: employer_row(e) for e in data.employers if e.siret not in known_sirets}
    vacancies = [vacancy_row(v) for v in data.vacancies]
    youths = [youth_row(profile) for profile in data.youths]
    record_changes(session, "vacancy", [row["id"] for row in vacancies], "upsert")
    record_changes(session, "youth", [row["id"] for row in youths], "upsert")
    _insert(session, MissionLocale, missions)
    _insert(session, Employer, list(employers.values()))
    _insert(session, Vacancy, vacancies)
    _insert(session, Youth, youths)
    return {
        "missions_locales": len(missions),
        "employers": len(employers),
        "vacancies": len(vacancies),
        "youths": len(youths),
    }
