"""Shares: an adviser opens a consenting youth's full profile to one key or for one vacancy.

Employer-relations staff see pseudonymised cards (initials, age, commune, skills) until a share
exists for them or for the vacancy they are working on.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.store.errors import Conflict, not_found
from service.store.models import ApiKey, Share, Youth


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
        UnknownId: unknown or revoked key.
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
    if key_id is not None:
        key = session.get(ApiKey, key_id)
        if key is None or key.revoked_at is not None:
            raise not_found("api_key", key_id)
    share = Share(youth_id=youth.id, shared_with_key_id=key_id, vacancy_id=vacancy_id,
                  by_key_id=by.id if by else None)
    session.add(share)
    session.flush()
    return share


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

