"""The territory rule: which communes lie in a Mission Locale's territory.

A territory is ``{"departements": [...], "communes": [...]}`` (INSEE codes, as stored in
``missions_locales.territory``). A commune lies in it when its code is listed, or when its
département is. The département of a commune code is written once, here, as
:data:`OVERSEAS_PREFIX` and two lengths: the first 3 characters of an overseas code (``97411``
-> ``974``), else the first 2 (``57463`` -> ``57``, ``2A004`` -> ``2A``). This is the ``DEP``
of every commune of the INSEE COG 2024 (``data/communes``, ``matching.referential``).

:func:`territory_contains` applies the rule to one code in Python; :func:`territory_clause`
builds the same test as a SQLAlchemy condition on a commune column, for queries that filter
rows in the database.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_

OVERSEAS_PREFIX = "97"
"""Commune codes starting with it belong to an overseas département of 3 characters (971-976)."""
OVERSEAS_LENGTH = 3
METROPOLITAN_LENGTH = 2


def departement_of(commune_insee: str) -> str:
    """Return the département of an INSEE commune code (``97411`` -> ``974``, ``2A004`` -> ``2A``)."""
    overseas = commune_insee.startswith(OVERSEAS_PREFIX)
    return commune_insee[: OVERSEAS_LENGTH if overseas else METROPOLITAN_LENGTH]


def departement_sql(commune_insee: Any) -> ColumnElement[str]:
    """Return :func:`departement_of` as a SQL expression over a commune code column."""
    prefix = func.substr(commune_insee, 1, len(OVERSEAS_PREFIX))
    return case(
        (prefix == OVERSEAS_PREFIX, func.substr(commune_insee, 1, OVERSEAS_LENGTH)),
        else_=func.substr(commune_insee, 1, METROPOLITAN_LENGTH),
    )


def territory_contains(territory: Mapping[str, Any], commune_insee: str | None) -> bool:
    """Tell whether a commune lies in a territory ``{"departements": [...], "communes": [...]}``."""
    if not commune_insee:
        return False
    return commune_insee in territory.get("communes", ()) or departement_of(
        commune_insee
    ) in territory.get("departements", ())


def territory_clause(commune_insee: Any, territory: Mapping[str, Any]) -> ColumnElement[bool]:
    """Return the condition "``commune_insee`` lies in ``territory``" for a SQL query.

    Same answer as :func:`territory_contains` row by row (a NULL commune is in no territory).
    """
    communes = list(territory.get("communes", ()))
    departements = list(territory.get("departements", ()))
    return or_(commune_insee.in_(communes), departement_sql(commune_insee).in_(departements))
