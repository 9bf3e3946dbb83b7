"""The store's CRUD functions in one namespace (``from service.store import crud``).

Each function takes a :class:`~sqlalchemy.orm.Session`, flushes and never commits: run them in
``with sessions.begin() as session:`` so that a write, its index change record and its audit
line commit together. Errors: :class:`~service.store.errors.Conflict` (409),
:class:`~matching.errors.UnknownId` (404), ``ValueError`` for a bad field (422).
"""

from __future__ import annotations

from service.store.changes import (
    Change,
    changes_since,
    current_generation,
    prune_tombstones,
    record_changes,
)
from service.store.employers import (
    create_employer,
    create_vacancy,
    delete_employer,
    delete_vacancy,
    expire_vacancies,
    get_employer,
    get_vacancy,
    update_employer,
    update_vacancy,
    vacancy_ids_of,
)
from service.store.erasure import erase_youth
from service.store.errors import Conflict, UnknownId
from service.store.keys import authenticate, create_api_key, hash_key, list_api_keys, revoke_api_key
from service.store.synthetic import delete_synthetic, load_synthetic
from service.store.youths import (
    add_outcome,
    add_suggestions,
    audit,
    create_mission_locale,
    create_youth,
    get_mission_locale,
    get_youth,
    in_territory,
    inactive_youth_ids,
    list_youths,
    touch_youth,
    update_youth,
)

delete_youth = erase_youth
"""A youth is only ever deleted by erasure (suggestions, outcomes and identifiers go too)."""

__all__ = [
    "Change",
    "Conflict",
    "UnknownId",
    "add_outcome",
    "add_suggestions",
    "audit",
    "authenticate",
    "changes_since",
    "create_api_key",
    "create_employer",
    "create_mission_locale",
    "create_vacancy",
    "create_youth",
    "current_generation",
    "delete_employer",
    "delete_synthetic",
    "delete_vacancy",
    "delete_youth",
    "erase_youth",
    "expire_vacancies",
    "get_employer",
    "get_mission_locale",
    "get_vacancy",
    "get_youth",
    "hash_key",
    "in_territory",
    "inactive_youth_ids",
    "list_api_keys",
    "list_youths",
    "load_synthetic",
    "prune_tombstones",
    "record_changes",
    "revoke_api_key",
    "touch_youth",
    "update_employer",
    "update_vacancy",
    "update_youth",
    "vacancy_ids_of",
]
