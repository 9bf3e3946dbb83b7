"""Score one chunk of queries into output rows: the unit of work of the batch scorer.

A chunk of youths gets its top-k trades and top-k vacancies, a chunk of vacancies its top-k
candidates, through the :class:`~matching.recommend.recommender.Recommender` methods the service uses
(same ranking, same mix policies). Rows follow :data:`OUTPUT_SCHEMA`; youth ids are replaced
by keyed pseudonyms unless the request carries no key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pyarrow as pa

from matching.fairness.policies import Balance, TradeMix, VacancyMix
from matching.learn.features import as_dicts
from matching.recommend.catalog import counts_by_row
from matching.types import Location, Youth

WHAT = ("youths", "vacancies")
OUTPUT_SCHEMA = pa.schema([
    ("query_id", pa.string()),
    ("item_kind", pa.string()),  # trade, vacancy or youth
    ("rank", pa.int32()),  # 1-based within each query and kind
    ("item_id", pa.string()),
    ("score", pa.float64()),
    ("score_parts", pa.string()),  # JSON object
    ("reasons", pa.string()),  # JSON list of French sentences
    ("features", pa.string()),  # JSON object: a vacancy's logged features (log_features runs), else null
])
OUTPUT_COLUMNS = tuple(OUTPUT_SCHEMA.names)
WORKING_SET_BYTES = 256 << 20
"""Memory a sub-batch of queries may use for its per-query arrays over every item."""


@dataclass(frozen=True)
class BatchRequest:
    """What to compute for every query of a batch run (picklable: sent to workers).

    Args:
        what: ``"youths"`` (trades and vacancies for each youth) or ``"vacancies"``
            (candidates for each vacancy).
        top_k: items per list.
        trade_mix, vacancy_mix, balance: the mix policies, as in the service.
        pseudonym_key: HMAC key of youth pseudonyms; None keeps raw youth ids.
        texts_dir: the run's text features (:mod:`matching.batch.texts`), set by the run when
            it has encoded the distinct texts of all its youths once; None: each chunk encodes
            its own.
        indexed: the youths are indexed in the recommender: reuse their vectors and trade
            scores (set by the run for a store source).
        exposure: vacancy id -> exposure read from the suggestion log (the congestion policy's
            counts, :func:`service.store.suggestion_log.exposure_counts`); None: no exposure.
        log_features: give each vacancy row its features (``features`` column, the suggestion
            log's, :mod:`matching.learn.features`), for ``--write-back``.
    """

    what: str
    top_k: int = 20
    trade_mix: TradeMix = field(default_factory=TradeMix)
    vacancy_mix: VacancyMix = field(default_factory=VacancyMix)
    balance: Balance = field(default_factory=Balance)
    pseudonym_key: bytes | None = field(default=None, repr=False)
    texts_dir: str | None = None
    indexed: bool = False
    exposure: dict[str, int] | None = field(default=None, repr=False)
    log_features: bool = False

    def __post_init__(self):
        from matching.errors import OutOfRange

        if self.what not in WHAT:
            raise OutOfRange(f"unknown batch kind {self.what!r}: use youths or vacancies", field="what",
                             message_fr=f"type de lot « {self.what} » inconnu : utilisez youths ou vacancies")
        if not 1 <= self.top_k <= 100:
            raise OutOfRange(f"top-k {self.top_k} out of range: give 1 to 100", field="top_k",
                             message_fr=f"top-k {self.top_k} hors limites : indiquez 1 à 100")

    def policy(self) -> dict:
        """The policies applied, as recorded in the output metadata."""
        if self.what == "youths":
            return {"trades": self.trade_mix.describe(), "vacancies": self.vacancy_mix.describe()}
        return {"candidates": self.balance.describe()}


@dataclass
class ChunkResult:
    """Rows of one chunk (:data:`OUTPUT_SCHEMA`) and its counters (JSON-able)."""

    table: pa.Table
    stats: dict


def pseudonymise(youth_id: str, key: bytes | None) -> str:
    """A stable keyed pseudonym of a youth id (HMAC-SHA256, 80 bits), or the id without key."""
    if key is None:
        return youth_id
    return "P-" + hmac.new(key, youth_id.encode("utf-8"), hashlib.sha256).hexdigest()[:20]


def key_fingerprint(key: bytes | None) -> str | None:
    """A short public fingerprint of a pseudonym key (says which key, reveals nothing)."""
    return None if key is None else hmac.new(key, b"passerelle-key-id", hashlib.sha256).hexdigest()[:12]


def sub_batch_size(n_items: int) -> int:
    """Queries per recommender call: bounded memory for per-query arrays over ``n_items``."""
    return int(np.clip(WORKING_SET_BYTES // max(24 * n_items, 1), 8, 256))


def score_chunk(recommender, queries: list, request) -> ChunkResult:
    """Score a chunk: ``queries`` are :class:`Youth` (what=youths), vacancy ids, or texts (the
    text phase, :class:`~matching.batch.texts.TextRequest`: one row of features per text)."""
    if request.what == "youths":
        return _score_youths(recommender, queries, request)
    if request.what == "texts":
        return _score_texts(recommender, queries)
    return _score_vacancies(recommender, queries, request)


def _score_texts(recommender, texts: list[str]) -> ChunkResult:
    from matching.batch.texts import score_texts

    rows = score_texts(recommender, texts)
    features = pa.FixedSizeListArray.from_arrays(pa.array(rows.ravel()), rows.shape[1])
    return ChunkResult(pa.table({"features": features}), {"texts": len(texts)})


def text_rows(table: pa.Table) -> np.ndarray:
    """The features matrix of a text-phase chunk table, ``(n, width)`` float32."""
    column = table.column("features").combine_chunks()
    return column.values.to_numpy(zero_copy_only=False).reshape(len(column), column.type.list_size)


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class _Rows:
    def __init__(self):
        self.columns: dict[str, list] = {name: [] for name in OUTPUT_COLUMNS}

    def add(self, query_id, kind, items, item_id, parts, features=None):
        logged = [None] * len(items) if features is None else [_json(f) for f in as_dicts(features)]
        for rank, (item, logged_features) in enumerate(zip(items, logged, strict=True), 1):
            for name, value in zip(OUTPUT_COLUMNS, (query_id, kind, rank, item_id(item), float(item.score),
                                                    _json(parts(item)), _json(list(item.reasons)), logged_features),
                                   strict=True):
                self.columns[name].append(value)

    def table(self) -> pa.Table:
        return pa.table(self.columns, schema=OUTPUT_SCHEMA)


def _new_stats(n_queries: int) -> dict:
    return {"queries": n_queries, "rows": {}, "texts": 0, "texts_encoded": 0, "empty_lists": {},
            "notes": {}, "non_traditional": {}}


def _count_notes(stats: dict, results) -> None:
    notes = Counter(re.sub(r"_to_[0-9.]+_km$", "", n) for r in results for n in r.notes)
    for note, count in notes.items():
        stats["notes"][note] = stats["notes"].get(note, 0) + count


def _score_youths(recommender, youths: list[Youth], request: BatchRequest) -> ChunkResult:
    stats, rows = _new_stats(len(youths)), _Rows()
    texts = [t for y in youths for t, _ in _texts(recommender, y)]
    stats["texts"] = len(texts)
    features = None
    if request.indexed:  # as the service does for a stored youth
        from matching.recommend.updates import indexed_features

        features = indexed_features(recommender, [y.id for y in youths])
    if features is not None:
        stats["youths_reused"] = len(youths)
        vectors, trade_scores = features
    elif request.texts_dir:  # encoded once for the whole run (text phase)
        from matching.batch.texts import open_store

        vectors, trade_scores = recommender.youth_features(youths, open_store(request.texts_dir).features)
    else:
        stats["texts_encoded"] = len(set(texts))
        vectors, trade_scores = recommender.youth_features(youths)
    step = sub_batch_size(len(recommender.vacancies))
    exposure = _exposure(recommender.vacancies, request.exposure)
    key, k = request.pseudonym_key, request.top_k
    non_traditional = {"F": [0, 0], "M": [0, 0]}  # [non-traditional trades, trades with a known share]
    empty = 0
    for start in range(0, len(youths), step):
        part = slice(start, start + step)
        trades = recommender.suggest_trades(youths[part], k, mix=request.trade_mix, scores=trade_scores[part])
        vacancies = recommender.suggest_vacancies(youths[part], k, mix=request.vacancy_mix, exposure=exposure,
                                                  vectors=vectors[part], trade_scores=trade_scores[part],
                                                  features=request.log_features)
        _count_notes(stats, trades + vacancies)
        for youth, trade_list, vacancy_list in zip(youths[part], trades, vacancies, strict=True):
            query_id = pseudonymise(youth.id, key)
            rows.add(query_id, "trade", trade_list.items, lambda t: t.code_rome, lambda t: {"trade": t.score})
            rows.add(query_id, "vacancy", vacancy_list.items, lambda v: v.vacancy_id, lambda v: v.score_parts,
                     vacancy_list.features)
            empty += not vacancy_list.items
            if youth.gender in non_traditional:
                shares = np.array([t.share_women for t in trade_list.items if t.share_women is not None])
                flags = shares < 0.4 if youth.gender == "F" else shares > 0.6
                non_traditional[youth.gender][0] += int(flags.sum())
                non_traditional[youth.gender][1] += len(shares)
    table = rows.table()
    stats["rows"] = dict(Counter(table.column("item_kind").to_pylist()))
    stats["empty_lists"] = {"vacancy": empty}
    stats["non_traditional"] = non_traditional
    return ChunkResult(table, stats)


def _exposure(table, counts: dict[str, int] | None) -> np.ndarray | None:
    """Exposure counts aligned with the vacancy table's rows, or None without counts."""
    if counts is None:
        return None
    return counts_by_row(table, counts)


def _texts(recommender, youth):
    from matching.search.texts import youth_query_texts

    return youth_query_texts(youth, recommender.referential)


def _score_vacancies(recommender, vacancy_ids: list[str], request: BatchRequest) -> ChunkResult:
    stats, rows = _new_stats(len(vacancy_ids)), _Rows()
    step = sub_batch_size(len(recommender.youths))
    key, empty = request.pseudonym_key, 0
    for start in range(0, len(vacancy_ids), step):
        part = vacancy_ids[start : start + step]
        results = recommender.find_candidates(part, request.top_k, balance=request.balance)
        _count_notes(stats, results)
        for vacancy_id, result in zip(part, results, strict=True):
            rows.add(vacancy_id, "youth", result.items, lambda c: pseudonymise(c.youth_id, key),
                     lambda c: c.score_parts)
            empty += not result.items
    table = rows.table()
    stats["rows"] = dict(Counter(table.column("item_kind").to_pylist()))
    stats["empty_lists"] = {"youth": empty}
    return ChunkResult(table, stats)


def merge_stats(total: dict, stats: dict) -> dict:
    """Add the counters of ``stats`` into ``total`` (nested dicts of numbers or [a, b] pairs)."""
    for name, value in stats.items():
        if isinstance(value, dict):
            merge_stats(total.setdefault(name, {}), value)
        elif isinstance(value, list):
            current = total.setdefault(name, [0] * len(value))
            total[name] = [a + b for a, b in zip(current, value, strict=True)]
        else:
            total[name] = total.get(name, 0) + value
    return total


# ------------------------------------------------------------------ transport of youths
def youth_to_json(youth: Youth) -> str:
    """Every field of a youth as JSON, resolved location included (exact round trip)."""
    data = dataclasses.asdict(youth)
    data["available_from"] = youth.available_from.isoformat() if youth.available_from else None
    return json.dumps(data, ensure_ascii=False)


def youth_from_json(text: str) -> Youth:
    """The inverse of :func:`youth_to_json` (no validation: the youth was validated before)."""
    data = json.loads(text)
    data["location"] = Location(**data["location"])
    for name in ("experiences", "wished_trades", "contracts"):
        data[name] = tuple(data[name])
    data["available_from"] = date.fromisoformat(data["available_from"]) if data["available_from"] else None
    return Youth(**data)
