"""Column arrays for vacancies and youths: what eligibility filters and scores need.

Built once from the dataclasses, then every filter is a vectorised numpy expression over
``(n,)`` arrays, so a batch of queries never loops over items in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from datetime import date
from functools import cached_property
from itertools import compress

import numpy as np

from matching.referential.geo import PointIndex
from matching.types import (
    CONTRACTS,
    NOT_STATED,
    SECTOR_FAMILIES,
    Vacancy,
    Youth,
    diploma_rank,
    stable_key,
)

NO_DATE = 0


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day else NO_DATE


def contract_bits(contracts: tuple[str, ...] | list[str]) -> int:
    """Return a bit mask of contract tokens (bit i = ``CONTRACTS[i]``); 0 for none."""
    bits = 0
    for contract in contracts:
        bits |= 1 << CONTRACTS.index(contract)
    return bits


class _KeyedRows:
    """Shared by the tables: length and vectorised key -> row lookup (``keys`` int64 ``(n,)``)."""

    keys: np.ndarray
    rows: dict[str, int]

    def __len__(self) -> int:
        return len(self.rows)

    @cached_property
    def _key_order(self) -> np.ndarray:
        return np.argsort(self.keys, kind="stable")

    @cached_property
    def _sorted_keys(self) -> np.ndarray:
        return self.keys[self._key_order]

    def rows_of(self, keys: np.ndarray) -> np.ndarray:
        """Rows of the given int64 keys (all must be present), vectorised."""
        return self._key_order[np.searchsorted(self._sorted_keys, keys)]


class TableRows:
    """Some rows of a table, ascending, whose column arrays (``keys``, ``open``...) are gathered
    on first use: a vectorised filter written for the whole table runs over these rows only.

    Args:
        table: a :class:`VacancyTable` or :class:`YouthTable`.
        positions: row positions in the table, ascending, int64 ``(m,)``.
    """

    def __init__(self, table, positions: np.ndarray):
        self._table, self.positions = table, positions

    def __len__(self) -> int:
        return int(self.positions.size)

    def __getattr__(self, name: str) -> np.ndarray:
        if name.startswith("_"):
            raise AttributeError(name)
        column = getattr(self._table, name)
        if not isinstance(column, np.ndarray) or column.shape[:1] != self._table.keys.shape:
            raise AttributeError(f"{name!r} is not a column of the table")
        column = column[self.positions]
        setattr(self, name, column)  # gathered once: later reads find the attribute
        return column


@dataclass(frozen=True)
class VacancyTable(_KeyedRows):
    """Vacancies as aligned arrays, shape ``(n_vacancies,)`` each."""

    vacancies: tuple[Vacancy, ...]
    keys: np.ndarray  # int64
    lat: np.ndarray  # float64
    lon: np.ndarray
    contract_bit: np.ndarray  # int32, 1 << CONTRACTS.index(contract)
    level_rank: np.ndarray  # int8, 0 = no level required
    start: np.ndarray  # int32 ordinal, 0 = unknown
    rome_pos: np.ndarray  # int32, position of the card in referential.codes
    employer: np.ndarray  # int64 stable_key(SIRET)
    family: np.ndarray  # int8 index in SECTOR_FAMILIES
    open: np.ndarray  # bool
    rows: dict[str, int]  # vacancy id -> row

    @cached_property
    def places(self) -> PointIndex:
        """The vacancies' places, for distances within a radius (built on first use)."""
        return PointIndex(self.lat, self.lon)

    def near(self, lat: float, lon: float, max_km: float) -> tuple[TableRows, np.ndarray]:
        """The vacancies that may lie within ``max_km`` of (lat, lon) (all those within it,
        perhaps some beyond) and their distances in km, same bits as ``haversine_km``."""
        positions, distance = self.places.near(lat, lon, max_km)
        return TableRows(self, positions), distance



def counts_by_row(table: VacancyTable, counts: Mapping[str, int]) -> np.ndarray:
    """A ``{vacancy id: count}`` mapping (exposure read from the suggestion log) as int64 per
    row of ``table``, ``(n_vacancies,)``; a vacancy absent from it counts 0."""
    out = np.zeros(len(table.vacancies), dtype=np.int64)
    rows = table.rows
    for vacancy_id, count in counts.items():  # the vacancies shown lately: far fewer than rows
        row = rows.get(vacancy_id)
        if row is not None:
            out[row] = count
    return out


def vacancy_table(vacancies: list[Vacancy], card_codes: np.ndarray) -> VacancyTable:
    """Build a :class:`VacancyTable`; ``card_codes`` is ``referential.codes`` (sorted)."""
    places = [v.place for v in vacancies]
    return VacancyTable(
        vacancies=tuple(vacancies),
        keys=np.array([v.key for v in vacancies], dtype=np.int64),
        lat=np.array([p.lat for p in places], dtype=np.float64),
        lon=np.array([p.lon for p in places], dtype=np.float64),
        contract_bit=np.array([1 << CONTRACTS.index(v.contract) for v in vacancies], dtype=np.int32),
        level_rank=np.array([diploma_rank(v.level_required) for v in vacancies], dtype=np.int8),
        start=np.array([_ordinal(v.start_date) for v in vacancies], dtype=np.int32),
        rome_pos=np.searchsorted(card_codes, np.array([v.code_rome for v in vacancies], dtype=object)).astype(np.int32),
        employer=np.array([stable_key(v.employer.siret) for v in vacancies], dtype=np.int64),
        family=np.array([SECTOR_FAMILIES.index(v.employer.sector_family) for v in vacancies], dtype=np.int8),
        open=np.array([v.status == "open" for v in vacancies], dtype=bool),
        rows={v.id: row for row, v in enumerate(vacancies)},
    )


@dataclass(frozen=True)
class YouthTable(_KeyedRows):
    """Youths as aligned arrays, shape ``(n_youths,)`` each."""

    youths: tuple[Youth, ...]
    keys: np.ndarray  # int64
    lat: np.ndarray
    lon: np.ndarray
    mobility_km: np.ndarray  # float64
    contracts: np.ndarray  # int32 bit mask, 0 = any
    level_rank: np.ndarray  # int8
    available: np.ndarray  # int32 ordinal, 0 = now
    gender_group: np.ndarray  # str: F, M, X, not_stated
    qpv_group: np.ndarray  # str: qpv, non_qpv, not_stated
    rows: dict[str, int]  # youth id -> row



def youth_table(youths: list[Youth]) -> YouthTable:
    """Build a :class:`YouthTable`."""
    return YouthTable(
        youths=tuple(youths),
        keys=np.array([y.key for y in youths], dtype=np.int64),
        lat=np.array([y.location.lat for y in youths], dtype=np.float64),
        lon=np.array([y.location.lon for y in youths], dtype=np.float64),
        mobility_km=np.array([y.mobility_km for y in youths], dtype=np.float64),
        contracts=np.array([contract_bits(y.contracts) for y in youths], dtype=np.int32),
        level_rank=np.array([diploma_rank(y.diploma_level) for y in youths], dtype=np.int8),
        available=np.array([_ordinal(y.available_from) for y in youths], dtype=np.int32),
        gender_group=np.array([y.gender_group for y in youths], dtype=object),
        qpv_group=np.array(
            [NOT_STATED if y.qpv is None else ("qpv" if y.qpv else "non_qpv") for y in youths],
            dtype=object,
        ),
        rows={y.id: row for row, y in enumerate(youths)},
    )


def _items_field(table) -> str:
    return "vacancies" if isinstance(table, VacancyTable) else "youths"


def drop_ids(table, ids) -> VacancyTable | YouthTable:
    """Return a copy of ``table`` without the rows of ``ids`` (unknown ids are ignored).

    Tables are immutable: writers build a new one and swap it in, so readers holding the old
    table keep a consistent view.
    """
    gone = {table.rows[i] for i in ids if i in table.rows}
    if not gone:
        return table
    keep = np.ones(len(table), dtype=bool)
    keep[list(gone)] = False
    name = _items_field(table)
    kept = tuple(compress(getattr(table, name), keep.tolist()))
    changes = {f.name: getattr(table, f.name)[keep] for f in fields(table)
               if isinstance(getattr(table, f.name), np.ndarray)}
    return replace(table, **changes, **{name: kept}, rows={item.id: row for row, item in enumerate(kept)})


def append_rows(table, other) -> VacancyTable | YouthTable:
    """Return ``table`` followed by the rows of ``other`` (same type; ids must be new)."""
    name = _items_field(table)
    items = getattr(table, name) + getattr(other, name)
    changes = {f.name: np.concatenate([getattr(table, f.name), getattr(other, f.name)])
               for f in fields(table) if isinstance(getattr(table, f.name), np.ndarray)}
    rows = dict(table.rows)  # a copy in C, then the new rows: not one Python step per old row
    rows.update((item.id, row) for row, item in enumerate(getattr(other, name), start=len(table)))
    return replace(table, **changes, **{name: items}, rows=rows)


def upsert_rows(table, other) -> VacancyTable | YouthTable:
    """Return ``table`` with the rows of ``other`` (same type): those whose id ``table`` holds
    replace its rows in place, the others follow, in ``other``'s order.

    A replacement keeps every row's position, so the new table shares ``rows`` with ``table``
    and, when the keys (always) and places did not move, its built lookups too: changing one
    vacancy of 50,000 copies arrays, not 50,000 Python objects.
    """
    name = _items_field(table)
    incoming = getattr(other, name)
    present = np.array([item.id in table.rows for item in incoming], dtype=bool)
    if not present.all():
        new = np.flatnonzero(~present)
        table = upsert_rows(table, _subset(other, np.flatnonzero(present))) if present.any() else table
        return append_rows(table, _subset(other, new))
    at = np.array([table.rows[item.id] for item in incoming], dtype=np.int64)
    items = list(getattr(table, name))
    for position, item in zip(at.tolist(), incoming, strict=True):
        items[position] = item
    changes = {}
    for f in fields(table):
        column = getattr(table, f.name)
        if isinstance(column, np.ndarray):
            column = column.copy()
            column[at] = getattr(other, f.name)
            changes[f.name] = column
    result = replace(table, **changes, **{name: tuple(items)}, rows=table.rows)
    carried = ["_key_order", "_sorted_keys"]  # same keys at the same rows
    if isinstance(table, VacancyTable) and np.array_equal(table.lat, changes["lat"], equal_nan=True) \
            and np.array_equal(table.lon, changes["lon"], equal_nan=True):
        carried.append("places")
    for cached in carried:
        if cached in table.__dict__:
            result.__dict__[cached] = table.__dict__[cached]
    return result


def _subset(table, positions: np.ndarray) -> VacancyTable | YouthTable:
    """The rows of ``table`` at ``positions`` (a small table: the incoming rows of a change)."""
    name = _items_field(table)
    items = tuple(getattr(table, name)[i] for i in positions.tolist())
    changes = {f.name: getattr(table, f.name)[positions] for f in fields(table)
               if isinstance(getattr(table, f.name), np.ndarray)}
    return replace(table, **changes, **{name: items}, rows={item.id: row for row, item in enumerate(items)})
