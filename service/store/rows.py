"""Helpers shared by the CRUD modules: editable fields, version checks, flushes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from service.store.errors import Conflict, stale

FIXED_COLUMNS = frozenset({"version", "created_at", "updated_at", "synthetic"})


def table_of(model: type) -> Table:
    """Return a model's Core table (for bulk statements that skip the ORM)."""
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


def rowcount(result: Result[Any]) -> int:
    """Return the number of rows an UPDATE or DELETE matched."""
    return int(getattr(result, "rowcount", 0) or 0)


def editable_columns(model: type, *, also_fixed: Iterable[str] = ()) -> frozenset[str]:
    """Return the column names a caller may set: all but the key, version and timestamps."""
    table = table_of(model)
    keys = {column.name for column in table.primary_key.columns}
    return frozenset(table.columns.keys()) - keys - FIXED_COLUMNS - set(also_fixed)


def check_fields(kind: str, fields: Mapping[str, Any], allowed: frozenset[str]) -> None:
    """Raise ``ValueError`` naming the first field that is not in ``allowed``."""
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise ValueError(
            f"{kind}: unknown or read-only field {unknown[0]!r}; allowed: {sorted(allowed)}"
        )


def check_version(kind: str, row: Any, object_id: object, version: int | None) -> None:
    """Raise :class:`Conflict` when the caller's ``version`` is not the stored one (None: skip)."""
    if version is not None and version != row.version:
        raise stale(kind, object_id, version, row.version)


def flush(session: Session, kind: str, object_id: object) -> None:
    """Flush, turning a lost race on the version column into :class:`Conflict`."""
    try:
        session.flush()
    except StaleDataError:
        raise Conflict(
            f"{kind} {object_id!r} was changed by someone else at the same time: reload it and retry",
            field="version",
            message_fr=f"{kind} {object_id!r} a été modifié au même moment : rechargez-le puis réessayez",
        ) from None
