"""What the suggestion log (issue #15) adds to a served list, and the exposure query's cost.

Measures, on the data home ``--home`` (the demo's engine, USE model):

- ``features_100``: :func:`matching.recommend.learned.candidate_features` for 100 candidates of
  one youth (with its close cards), the work a learned ranker adds before scoring;
- ``list_features``: ``suggest_vacancies(features=True)`` minus ``features=False`` for one youth
  (top 10), medians over ``--repeat`` interleaved runs;
- ``log_write``: the records and the bulk insert of a 20-item document with features, minus the
  same without features (SQLite file in a temporary folder);
- ``exposure_query``: :func:`service.store.suggestion_log.exposure_counts` over a store of
  ``--vacancies`` vacancy ids with 14 days of logged lists (``--lists`` lists of 10 vacancies),
  on SQLite and, with ``--postgres URL``, on PostgreSQL (a fresh schema, dropped after).

Usage: python benchmarks/learn/bench_log.py --home DIR [--repeat 60] [--out FILE] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _median_ms(samples: list[float]) -> float:
    return round(1000 * statistics.median(samples), 3)


def engine_figures(home: Path, repeat: int) -> dict:
    from matching.learn.tables import feature_tables
    from matching.recommend import learned
    from service.config import Settings
    from service.live.learning import ExposureCache
    from service.workspace import Workspace

    engine = Workspace(Settings(home=home, model="use")).engine()
    youths = [y for y in engine.youths.youths][:repeat]
    tables = feature_tables(engine.referential)
    table = engine.vacancies
    rows = np.arange(min(100, len(table)))
    parts = {n: np.full(rows.size, 0.5) for n in ("semantic", "trade", "distance", "contract")}
    vectors, scores = engine.youth_features(youths)
    feats, plain, logged = [], [], []
    for i, youth in enumerate(youths):
        start = time.perf_counter()
        context = learned.YouthContext.of(tables, engine.codes, youth, scores[i])
        learned.candidate_features(context, table, rows, parts, np.ones(rows.size))
        feats.append(time.perf_counter() - start)
        for rep in range(4):  # the first pair warms the youth's caches (skills read in cards)
            for into in ((plain, logged) if rep % 2 else (logged, plain)):  # alternate the order
                start = time.perf_counter()
                engine.suggest_vacancies([youth], 10, vectors=vectors[i:i + 1], trade_scores=scores[i:i + 1],
                                         features=into is logged)
                if rep:
                    into.append(time.perf_counter() - start)
    cache = ExposureCache(None, background=False)
    cache._counts, cache._read_at = {v.id: 3 for v in table.vacancies[::2]}, time.monotonic()
    aligned, own = [], []
    for _ in range(5):
        cache._aligned = None
        start = time.perf_counter()
        cache.for_table(table)
        aligned.append(time.perf_counter() - start)
        start = time.perf_counter()
        cache.for_youth(table, {v.id for v in table.vacancies[:10]})
        own.append(time.perf_counter() - start)
    return {"exposure_align_ms": _median_ms(aligned), "exposure_for_youth_ms": _median_ms(own),
            "vacancies": len(table), "features_100_ms": _median_ms(feats), "list_plain_ms": _median_ms(plain),
            "list_with_features_ms": _median_ms(logged),
            "list_features_added_ms": round(_median_ms(logged) - _median_ms(plain), 3), "lists": len(youths)}


def _store(url: str):
    from service.store import crud
    from service.store.db import make_engine, session_factory, upgrade

    engine = make_engine(url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        crud.create_mission_locale(session, "ML-B", "Bench", departements=["57"])
    return engine, sessions


def write_figures(repeat: int) -> dict:
    from store_factories import youth_profile  # tests/store, put on the path by main()

    from matching.learn.features import VACANCY_FEATURES
    from service.store import crud

    with tempfile.TemporaryDirectory() as folder:
        engine, sessions = _store(f"sqlite:///{folder}/bench.sqlite3")
        with sessions.begin() as session:
            crud.create_youth(session, youth_profile("Y-bench"), mission_locale="ML-B")
        features = {name: 0.123456789 for name in VACANCY_FEATURES}
        items = [{"item_kind": "trade", "item_id": "F1703", "score": 0.7, "features": {"trade": 0.7}}] * 10 + [
            {"item_kind": "vacancy", "item_id": f"V-{i}", "score": 0.5, "sector_family": "other",
             "employer_siret": "12345678900011", "features": features} for i in range(10)]
        bare = [{k: v for k, v in item.items() if k != "features"} for item in items]
        timings: dict[bool, list[float]] = {False: [], True: []}
        for _ in range(repeat):
            for flag, chosen in ((False, bare), (True, items)):
                start = time.perf_counter()
                with sessions.begin() as session:
                    youth = crud.get_youth(session, "Y-bench")
                    crud.add_suggestions(session, youth, chosen, policy={"mix": "balanced"}, engine_version="b")
                timings[flag].append(time.perf_counter() - start)
        engine.dispose()
    return {"insert_20_plain_ms": _median_ms(timings[False]), "insert_20_with_features_ms": _median_ms(timings[True]),
            "log_write_added_ms": round(_median_ms(timings[True]) - _median_ms(timings[False]), 3)}


def exposure_figures(url: str, n_vacancies: int, n_lists: int) -> dict:
    from sqlalchemy import insert
    from store_factories import youth_profile  # tests/store, put on the path by main()

    from service.store.columns import utcnow
    from service.store.models import Suggestion
    from service.store.suggestion_log import exposure_counts

    engine, sessions = _store(url)
    from service.store import crud

    rng = np.random.default_rng(0)
    now = utcnow()
    with sessions.begin() as session:
        for y in range(200):
            crud.create_youth(session, youth_profile(f"Y-{y}", external_id=f"D-{y}"), mission_locale="ML-B")
    start = time.perf_counter()
    batch = []
    for li in range(n_lists):
        moment = now - timedelta(days=float(rng.uniform(0, 20)))  # some older than the window
        youth = f"Y-{rng.integers(200)}"
        for rank, vacancy in enumerate(rng.choice(n_vacancies, 10, replace=False).tolist(), 1):
            batch.append({"youth_id": youth, "mission_locale": "ML-B", "item_kind": "vacancy",
                          "item_id": f"V-{vacancy}", "rank": rank, "score": 0.5, "policy": {},
                          "engine_version": "b", "list_id": f"L{li}:v", "simulated": False, "created_at": moment})
        if len(batch) >= 20_000:
            with sessions.begin() as session:
                session.execute(insert(Suggestion), batch)
            batch = []
    if batch:
        with sessions.begin() as session:
            session.execute(insert(Suggestion), batch)
    filled = time.perf_counter() - start
    samples = []
    for _ in range(5):
        t0 = time.perf_counter()
        with sessions() as session:
            counts = exposure_counts(session, now - timedelta(days=14))
        samples.append(time.perf_counter() - t0)
    engine.dispose()
    return {"rows": n_lists * 10, "vacancies_exposed": len(counts), "query_ms_median": _median_ms(samples),
            "query_ms_min": round(1000 * min(samples), 3), "fill_s": round(filled, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=60)
    parser.add_argument("--vacancies", type=int, default=50_000)
    parser.add_argument("--lists", type=int, default=30_000)
    parser.add_argument("--postgres", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "store"))
    result = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
              "engine": engine_figures(args.home, args.repeat), "log_write": write_figures(args.repeat)}
    with tempfile.TemporaryDirectory() as folder:
        result["exposure_sqlite"] = exposure_figures(f"sqlite:///{folder}/exposure.sqlite3", args.vacancies, args.lists)
    if args.postgres:
        import os

        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
        os.environ["PASSERELLE_TEST_POSTGRES_URL"] = args.postgres  # what fresh_schema reads
        from pg_schema import fresh_schema

        with fresh_schema("bench_") as url:
            result["exposure_postgres"] = exposure_figures(url, args.vacancies, args.lists)
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
