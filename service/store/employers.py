"""Employers and vacancies: create, get, update (with a version check), delete, expire.

Functions flush but never commit; see :mod:`service.store`. Every change that the vacancy
index must see is logged with :func:`~service.store.changes.record_changes` first (an
employer's name or place is part of its vacancies' documents, so its updates log them too).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.store.changes import record_changes
from service.store.columns import utcnow
from service.store.errors import Conflict, duplicate, not_found
from service.store.models import Employer, Vacancy
from service.store.rows import check_fields, check_version, editable_columns, flush, table_of

EMPLOYER_FIELDS = editable_columns(Employer)
VACANCY_FIELDS = editable_columns(Vacancy)


def create_employer(
    session: Session, fields: Mapping[str, Any], *, synthetic: bool = False
) -> Employer:
    """Add an employer; ``fields`` holds ``siret`` and the columns of :class:`Employer`.

    Raises:
        Conflict: the SIRET is already stored.
    """
    check_fields("employer", fields, EMPLOYER_FIELDS | {"siret"})
    if session.get(Employer, fields["siret"]) is not None:
        raise duplicate("employer", fields["siret"])
    employer = Employer(**fields, synthetic=synthetic)
    session.add(employer)
    flush(session, "employer", employer.siret)
    return employer


def get_employer(session: Session, siret: str) -> Employer:
    """Return an employer or raise :class:`~matching.errors.UnknownId`."""
    employer = session.get(Employer, siret)
    if employer is None:
        raise not_found("employer", siret)
    return employer


def vacancy_ids_of(session: Session, siret: str) -> list[str]:
    """Return the ids of an employer's vacancies, sorted."""
    return list(
        session.scalars(
            select(Vacancy.id).where(Vacancy.employer_siret == siret).order_by(Vacancy.id)
        )
    )


def update_employer(
    session: Session, siret: str, changes: Mapping[str, Any], *, version: int | None
) -> Employer:
    """Change an employer's fields; its vacancies are logged for re-indexing.

    Raises:
        Conflict: ``version`` is stale. UnknownId: no such employer.
    """
    check_fields("employer", changes, EMPLOYER_FIELDS)
    employer = get_employer(session, siret)
    check_version("employer", employer, siret, version)
    record_changes(session, "vacancy", vacancy_ids_of(session, siret), "upsert")
    for name, value in changes.items():
        setattr(employer, name, value)
    employer.updated_at = utcnow()
    flush(session, "employer", siret)
    return employer


def delete_employer(session: Session, siret: str, *, version: int | None = None) -> None:
    """Delete an employer that has no vacancy left.

    Raises:
        Conflict: it still has vacancies, or ``version`` is stale. UnknownId: no such employer.
    """
    employer = get_employer(session, siret)
    check_version("employer", employer, siret, version)
    count = session.scalar(select(func.count()).where(Vacancy.employer_siret == siret))
    if count:
        raise Conflict(
            f"employer {siret} still has {count} vacancies: delete them first",
            field="siret",
            message_fr=f"l'employeur {siret} a encore {count} offres : supprimez-les d'abord",
        )
    session.delete(employer)
    flush(session, "employer", siret)


def create_vacancy(
    session: Session, fields: Mapping[str, Any], *, synthetic: bool = False
) -> Vacancy:
    """Add a vacancy; ``fields`` holds ``id``, ``employer_siret`` and the columns of :class:`Vacancy`.

    Raises:
        Conflict: the id is taken. UnknownId: unknown employer.
    """
    check_fields("vacancy", fields, VACANCY_FIELDS | {"id"})
    get_employer(session, fields["employer_siret"])
    if session.get(Vacancy, fields["id"]) is not None:
        raise duplicate("vacancy", fields["id"])
    record_changes(session, "vacancy", [fields["id"]], "upsert")
    vacancy = Vacancy(**fields, synthetic=synthetic)
    session.add(vacancy)
    flush(session, "vacancy", vacancy.id)
    return vacancy


def get_vacancy(session: Session, vacancy_id: str) -> Vacancy:
    """Return a vacancy or raise :class:`~matching.errors.UnknownId`."""
    vacancy = session.get(Vacancy, vacancy_id)
    if vacancy is None:
        raise not_found("vacancy", vacancy_id)
    return vacancy


def update_vacancy(
    session: Session, vacancy_id: str, changes: Mapping[str, Any], *, version: int | None
) -> Vacancy:
    """Change a vacancy's fields (status included); the version goes up by one.

    Raises:
        Conflict: ``version`` is stale. UnknownId: no such vacancy (or new employer).
    """
    check_fields("vacancy", changes, VACANCY_FIELDS)
    vacancy = get_vacancy(session, vacancy_id)
    check_version("vacancy", vacancy, vacancy_id, version)
    if "employer_siret" in changes:
        get_employer(session, changes["employer_siret"])
    record_changes(session, "vacancy", [vacancy_id], "upsert")
    for name, value in changes.items():
        setattr(vacancy, name, value)
    vacancy.updated_at = utcnow()
    flush(session, "vacancy", vacancy_id)
    return vacancy


def delete_vacancy(session: Session, vacancy_id: str, *, version: int | None = None) -> None:
    """Delete a vacancy (its past suggestions keep the id as history).

    Raises:
        Conflict: ``version`` is stale. UnknownId: no such vacancy.
    """
    vacancy = get_vacancy(session, vacancy_id)
    check_version("vacancy", vacancy, vacancy_id, version)
    record_changes(session, "vacancy", [vacancy_id], "delete")
    session.delete(vacancy)
    flush(session, "vacancy", vacancy_id)


def expire_vacancies(session: Session, today: date) -> list[str]:
    """Mark open vacancies whose ``end_date`` is before ``today`` as expired; return their ids."""
    due = (
        select(Vacancy.id)
        .where(Vacancy.status == "open", Vacancy.end_date < today)
        .order_by(Vacancy.id)
    )
    vacancy_ids = list(session.scalars(due))
    if not vacancy_ids:
        return []
    record_changes(session, "vacancy", vacancy_ids, "upsert")
    table = table_of(Vacancy)
    session.execute(
        update(table)
        .where(table.c.id.in_(vacancy_ids), table.c.status == "open")
        .values(status="expired", version=table.c.version + 1, updated_at=utcnow())
    )
    session.expire_all()
    return vacancy_ids
