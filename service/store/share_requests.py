"""Share requests: employer-relations staff ask a youth's adviser to share the full profile.

A request names the vacancy, the youth (never shown to the one who asks: the shortlist card
carries its ``candidate_ref`` only), the key that asked and the youth's Mission Locale, whose
advisers see the pending requests on the youth's page and grant them (a share for the vacancy,
through :func:`service.store.shares.share_youth`, so only with the youth's consent) or dismiss
them. Asking again while a request of the same key for the same vacancy and youth is pending
stores nothing more. Erased with the youth (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.errors import not_found
from service.store.models import ApiKey, Employer, Share, ShareRequest, Vacancy, Youth
from service.store.shares import share_youth


def request_share(session: Session, *, vacancy_id: str, youth: Youth, key_id: int) -> tuple[ShareRequest, bool]:
    """Store a pending request of ``key_id`` for ``youth``'s profile on ``vacancy_id``.

    Returns the request and whether it is new (False: the same key's request was pending).
    """
    pending = session.scalars(select(ShareRequest).where(
        ShareRequest.vacancy_id == vacancy_id, ShareRequest.youth_id == youth.id,
        ShareRequest.key_id == key_id, ShareRequest.status == "pending").limit(1)).first()
    if pending is not None:
        return pending, False
    row = ShareRequest(vacancy_id=vacancy_id, youth_id=youth.id, key_id=key_id,
                       mission_locale=youth.mission_locale, status="pending")
    session.add(row)
    session.flush()
    return row, True


def pending_youth_ids(session: Session, youth_ids: Iterable[str], *, vacancy_id: str, key_id: int) -> set[str]:
    """Those of ``youth_ids`` with a pending request of ``key_id`` on ``vacancy_id``."""
    ids = list(youth_ids)
    if not ids:
        return set()
    return set(session.scalars(select(ShareRequest.youth_id).where(
        ShareRequest.youth_id.in_(ids), ShareRequest.vacancy_id == vacancy_id,
        ShareRequest.key_id == key_id, ShareRequest.status == "pending")))


@dataclass(frozen=True)
class PendingRequest:
    """What an adviser sees of a pending request (no key, no name of who asked)."""

    id: int
    vacancy_id: str
    vacancy_title: str | None
    employer_name: str | None
    created_at: object


def pending_for_youth(session: Session, youth_id: str, mission_locale: str) -> list[PendingRequest]:
    """The youth's pending requests, oldest first, with the vacancy's title and employer
    (None when the vacancy was deleted since)."""
    statement = (select(ShareRequest, Vacancy.title, Employer.name)
                 .outerjoin(Vacancy, Vacancy.id == ShareRequest.vacancy_id)
                 .outerjoin(Employer, Employer.siret == Vacancy.employer_siret)
                 .where(ShareRequest.youth_id == youth_id, ShareRequest.mission_locale == mission_locale,
                        ShareRequest.status == "pending")
                 .order_by(ShareRequest.id))
    return [PendingRequest(row.id, row.vacancy_id, title, name, row.created_at)
            for row, title, name in session.execute(statement)]


def get_pending(session: Session, request_id: int, *, youth_id: str, mission_locale: str) -> ShareRequest:
    """The pending request ``request_id`` of this youth in this Mission Locale, else ``UnknownId``
    (another Mission Locale's request answers as an unknown one)."""
    row = session.get(ShareRequest, request_id, with_for_update=True)
    if row is None or row.youth_id != youth_id or row.mission_locale != mission_locale or row.status != "pending":
        raise not_found("share_request", request_id)
    return row


def grant(session: Session, request: ShareRequest, youth: Youth, *, by: ApiKey | None) -> Share:
    """Share ``youth``'s profile for the request's vacancy and mark every pending request of this
    youth for that vacancy granted (one share answers them all).

    Raises what :func:`~service.store.shares.share_youth` raises: ``Conflict`` without the
    youth's consent, ``UnknownId`` for a vacancy gone or outside the territory.
    """
    share = share_youth(session, youth, by=by, vacancy_id=request.vacancy_id)
    for row in session.scalars(select(ShareRequest).where(
            ShareRequest.youth_id == youth.id, ShareRequest.vacancy_id == request.vacancy_id,
            ShareRequest.status == "pending")):
        row.status = "granted"
    session.flush()
    return share


def dismiss(session: Session, request: ShareRequest) -> None:
    """Mark the request dismissed (the one who asked sees the card stay pseudonymised)."""
    request.status = "dismissed"
    session.flush()
