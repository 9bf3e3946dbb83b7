"""Shares: an adviser opens a consenting youth's full profile to one key or for one vacancy.

Employer-relations staff see pseudonymised cards (initials, age, commune, skills) until a share
exists for them or for the vacancy they are working on. A share targets a live
employer-relations key of the youth's Mission Locale, or an existing vacancy whose employer lies
in that Mission Locale's territory; any other target answers as an unknown one (404), so that
nothing is learnt about other Missions Locales' keys and vacancies.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.pseudonym import candidate_ref
from service.store.errors import Conflict, UnknownId, not_found
from service.store.models import ApiKey, Employer, MissionLocale, Share, Vacancy, Youth
from service.store.territory import territory_contains

SHARE_ROLES: tuple[str, ...] = ("employer_relations",)
"""Roles whose keys may receive a youth's full profile."""


def share_youth(
    session: Session,
    youth: Youth,
    *,
    by: ApiKey | None,
    key_id: int | None = None,
    vacancy_id: str | None = None,
) -> Share:
    """Share ``youth``'s full profile with the key ``key_id`` or for the vacancy ``vacancy_id``.

    Raises:
        Conflict: the youth did not consent (``consent_share`` false).
        UnknownId: the key is unknown, revoked, of another Mission Locale or of a role that may
            not receive profiles; or the vacancy is unknown or outside the territory.
        ValueError: neither or both targets given.
    """
    if (key_id is None) == (vacancy_id is None):
        raise ValueError("give exactly one of key_id or vacancy_id")
    if not youth.profile.get("consent_share"):
        raise Conflict(
            f"youth {youth.id!r} has not consented to share their profile (consent_share is false)",
            field="consent_share",
            message_fr="le jeune n'a pas donné son accord pour partager son profil "
            "(consent_share vaut false) : recueillez son accord puis mettez le profil à jour",
        )
    _check_target(session, youth, key_id, vacancy_id)
    share = Share(youth_id=youth.id, shared_with_key_id=key_id, vacancy_id=vacancy_id,
                  by_key_id=by.id if by else None)
    session.add(share)
    session.flush()
    return share


def _check_target(session: Session, youth: Youth, key_id: int | None, vacancy_id: str | None) -> None:
    if key_id is not None:
        key = session.get(ApiKey, key_id)
        if (key is None or key.revoked_at is not None or key.role not in SHARE_ROLES
                or key.mission_locale != youth.mission_locale):
            raise not_found("api_key", key_id)
        return
    vacancy = session.get(Vacancy, vacancy_id)
    employer = session.get(Employer, vacancy.employer_siret) if vacancy is not None else None
    mission = session.get(MissionLocale, youth.mission_locale)
    if employer is None or mission is None or not territory_contains(mission.territory, employer.commune_insee):
        raise not_found("vacancy", vacancy_id)


def youth_of_candidate_ref(session: Session, key: bytes, vacancy_id: str, ref: str,
                           mission_locale: str) -> Youth:
    """Return the youth of ``mission_locale`` whose reference on ``vacancy_id``'s shortlist is
    ``ref`` (:func:`service.pseudonym.candidate_ref`), or raise ``UnknownId``.

    One HMAC per youth of the Mission Locale (a few ms for 10,000 youths): nothing is stored.
    """
    for youth_id in session.scalars(select(Youth.id).where(Youth.mission_locale == mission_locale)):
        if hmac.compare_digest(candidate_ref(key, vacancy_id, youth_id), ref):
            return session.get_one(Youth, youth_id)
    raise UnknownId(
        f"no youth of your Mission Locale has candidate_ref {ref!r} on vacancy {vacancy_id!r}: "
        "check both (they come from the same shortlist)",
        field="candidate_ref",
        message_fr=f"aucun jeune de votre Mission Locale n'a la référence « {ref} » pour l'offre "
        f"« {vacancy_id} » : vérifiez les deux (elles viennent de la même liste de candidats)",
    )


def shared_youth_ids(
    session: Session, youth_ids: Iterable[str], *, key_id: int | None, vacancy_id: str | None
) -> set[str]:
    """Return those of ``youth_ids`` whose full profile is shared with ``key_id`` or for ``vacancy_id``."""
    ids = list(youth_ids)
    if not ids:
        return set()
    targets = []
    if key_id is not None:
        targets.append(Share.shared_with_key_id == key_id)
    if vacancy_id is not None:
        targets.append(Share.vacancy_id == vacancy_id)
    if not targets:
        return set()
    statement = select(Share.youth_id).where(Share.youth_id.in_(ids), or_(*targets))
    return set(session.scalars(statement))

