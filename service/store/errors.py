"""Store errors: a stale write, a duplicate id, a missing row.

They reuse the engine's :class:`~matching.errors.PasserelleError` (English and French messages)
so the API maps them to problem responses like any other input error: ``Conflict`` -> 409,
``UnknownId`` -> 404.
"""

from __future__ import annotations

from matching.errors import PasserelleError, UnknownId

__all__ = ["Conflict", "UnknownId", "not_found"]


class Conflict(PasserelleError):
    """A write based on a stale ``version``, or a create with an id that is already taken."""


def not_found(kind: str, object_id: object) -> UnknownId:
    """Return the :class:`UnknownId` error for a missing ``kind`` row (``youth``, ``vacancy``...)."""
    return UnknownId(
        f"unknown {kind} id {object_id!r}: check the id (list them with GET /v1/{kind}s)",
        field="id",
        message_fr=f"identifiant {kind} inconnu {object_id!r} : vérifiez l'identifiant",
    )


def stale(kind: str, object_id: object, expected: int, current: int) -> Conflict:
    """Return the :class:`Conflict` for a write carrying version ``expected`` (store has ``current``)."""
    return Conflict(
        f"{kind} {object_id!r} was changed by someone else (your version {expected}, stored version "
        f"{current}): reload it and apply your change again",
        field="version",
        message_fr=f"{kind} {object_id!r} a été modifié entre-temps (votre version {expected}, version "
        f"enregistrée {current}) : rechargez-le puis refaites votre modification",
    )


def duplicate(kind: str, object_id: object) -> Conflict:
    """Return the :class:`Conflict` for creating a ``kind`` whose id already exists."""
    return Conflict(
        f"{kind} id {object_id!r} already exists: use PATCH to change it, or choose another id",
        field="id",
        message_fr=f"l'identifiant {kind} {object_id!r} existe déjà : utilisez PATCH pour le modifier, "
        "ou choisissez un autre identifiant",
    )
