"""Batch scoring: same lists as the service, Parquet layout, plan, lock, resume, engines."""

from __future__ import annotations

import json
import shutil
import tempfile

import numpy as np
import pyarrow.parquet as pq
import pytest

from matching.batch import plan as batch_plan
from matching.batch.run import BatchRequest, BatchSource, run_batch
from matching.batch.score import (
    OUTPUT_COLUMNS,
    pseudonymise,
    score_chunk,
    youth_from_json,
    youth_to_json,
)
from matching.batch.texts import TEXT_CHUNK, TextStore, run_texts
from matching.errors import PasserelleError
from matching.fairness.policies import Balance, TradeMix, VacancyMix
from matching.search.texts import youth_query_texts

pytestmark = pytest.mark.model
KEY = b"test-key"


def _youths(engine, n):
    return list(engine.youths.youths[:n])


def test_youth_features_match_the_single_paths(engine):
    youths = _youths(engine, 6)
    vectors, scores = engine.youth_features(youths)
    np.testing.assert_allclose(vectors, engine.encode_youths(youths), atol=1e-5)
    np.testing.assert_allclose(scores, engine.trade_scores(youths), atol=1e-3)


def test_chunk_rows_are_the_service_lists(engine):
    youths = _youths(engine, 8)
    result = score_chunk(engine, youths, BatchRequest("youths", top_k=5, pseudonym_key=None))
    rows = result.table.to_pylist()
    trades = engine.suggest_trades(youths, 5, mix=TradeMix())
    vacancies = engine.suggest_vacancies(youths, 5, mix=VacancyMix())
    expected = [(y.id, "trade", r, t.code_rome, t.score) for y, lst in zip(youths, trades, strict=True)
                for r, t in enumerate(lst.items, 1)]
    expected += [(y.id, "vacancy", r, v.vacancy_id, v.score) for y, lst in zip(youths, vacancies, strict=True)
                 for r, v in enumerate(lst.items, 1)]
    got = [(r["query_id"], r["item_kind"], r["rank"], r["item_id"], r["score"]) for r in rows]
    assert sorted(g[:4] for g in got) == sorted(e[:4] for e in expected)
    by_key = {e[:4]: e[4] for e in expected}
    assert all(abs(g[4] - by_key[g[:4]]) < 1e-3 for g in got)
    assert result.stats["queries"] == 8 and result.stats["rows"]["trade"] == 40


def test_vacancy_rows_are_the_shortlists_with_pseudonyms(engine):
    ids = [v.id for v in engine.vacancies.vacancies[:4]]
    result = score_chunk(engine, ids, BatchRequest("vacancies", top_k=5, pseudonym_key=KEY))
    lists = engine.find_candidates(ids, 5, balance=Balance())
    expected = [(v, r, pseudonymise(c.youth_id, KEY)) for v, lst in zip(ids, lists, strict=True)
                for r, c in enumerate(lst.items, 1)]
    table = result.table
    assert set(table.column("item_kind").to_pylist()) <= {"youth"}
    assert list(zip(table.column("query_id").to_pylist(), table.column("rank").to_pylist(),
                    table.column("item_id").to_pylist(), strict=True)) == expected
    raw = {c.youth_id for lst in lists for c in lst.items}
    assert not raw & set(table.column("item_id").to_pylist())


def test_run_writes_the_columns_in_order_with_metadata_then_resumes_nothing(engine, tmp_path):
    youths = _youths(engine, 12)
    out = tmp_path / "results.parquet"
    request = BatchRequest("youths", top_k=3, pseudonym_key=KEY)
    seen = []
    summary = run_batch(BatchSource(youths, engine), request, out, args={"top_k": 3}, workers=1,
                        chunk_size=5, progress=lambda done, total, *phase: seen.append((done, total, *phase)))
    assert (summary.chunks, summary.chunks_computed, summary.queries) == (3, 3, 12)
    distinct = len({t for y in youths for t, _ in youth_query_texts(y, engine.referential)})
    assert [s for s in seen if len(s) == 3] == [(0, distinct, "texts"), (distinct, distinct, "texts")]
    assert seen[0] == (0, 12) and seen[-1] == (12, 12)
    assert summary.encoded["texts_this_run"] == distinct
    assert {k: summary.encoded["text_phase"][k] for k in ("distinct", "encoded")} == {"distinct": distinct,
                                                                                     "encoded": distinct}
    table = pq.read_table(out)
    assert tuple(table.column_names) == OUTPUT_COLUMNS
    assert str(table.schema.field("rank").type) == "int32" and str(table.schema.field("score").type) == "double"
    frame = table.to_pandas()
    assert set(frame["item_kind"]) <= {"trade", "vacancy"}
    assert frame["query_id"].str.startswith("P-").all()
    assert not set(frame["query_id"]) & {y.id for y in youths}
    for _, group in frame.groupby(["query_id", "item_kind"]):
        assert group["rank"].tolist() == list(range(1, len(group) + 1))
    assert all(isinstance(json.loads(r), list) for r in frame["reasons"])
    assert all(isinstance(json.loads(p), dict) for p in frame["score_parts"])
    meta = json.loads(table.schema.metadata[b"passerelle"])
    assert {"engine_version", "model", "index_generation", "policy", "args", "totals"} <= set(meta)
    assert meta["policy"]["trades"]["mix"] == "balanced" and meta["args"] == {"top_k": 3}
    plan = json.loads((tmp_path / "results.parquet.plan.json").read_text())
    assert (plan["chunk_size"], plan["n_chunks"], plan["done"]) == (5, 3, True)
    assert not (tmp_path / "results.parquet.parts").exists() and not (tmp_path / "results.parquet.lock").exists()
    again = run_batch(BatchSource(youths, engine), request, out, args={"top_k": 3}, workers=1)
    assert (again.chunks_computed, again.chunks_skipped, again.rows) == (0, 3, table.num_rows)


def test_a_live_lock_refuses_a_second_run_and_a_dead_one_is_taken_over(engine, tmp_path):
    out = tmp_path / "r.parquet"
    source, request = BatchSource(_youths(engine, 2), engine), BatchRequest("youths", top_k=2)
    with batch_plan.RunLock(out), pytest.raises(batch_plan.BatchLocked) as error:
        run_batch(source, request, out, workers=1)
    assert "une autre exécution écrit déjà" in error.value.message_fr
    (tmp_path / "r.parquet.lock").write_text("pid 999999 sur ailleurs")  # left by a killed run
    assert run_batch(source, request, out, workers=1).chunks_computed == 1


def test_an_unfinished_run_with_other_arguments_is_kept_unless_restart(engine, tmp_path):
    out = tmp_path / "r.parquet"
    youths = _youths(engine, 4)
    plan, _ = batch_plan.prepare(out, "other-args", batch_plan.ids_digest([y.id for y in youths]), 4, 2, None, {})
    batch_plan.write_part(out, 0, score_chunk(engine, youths[:2], BatchRequest("youths", top_k=2)).table, {})
    with pytest.raises(batch_plan.PlanMismatch, match="--restart"):
        run_batch(BatchSource(youths, engine), BatchRequest("youths", top_k=2), out, workers=1)
    summary = run_batch(BatchSource(youths, engine), BatchRequest("youths", top_k=2), out, workers=1, restart=True)
    assert summary.chunks_computed == summary.chunks


def test_youth_transport_round_trip_is_exact(engine):
    for youth in _youths(engine, 20):
        assert youth_from_json(youth_to_json(youth)) == youth


def test_chunk_size_follows_memory_and_workers():
    assert batch_plan.auto_chunk_size("youths", 100_000, 2, memory=64 << 30) == batch_plan.MAX_CHUNK
    assert batch_plan.auto_chunk_size("youths", 100_000, 2, memory=1 << 30) < 1000
    assert batch_plan.auto_chunk_size("youths", 400, 2) == 100
    assert batch_plan.available_memory() > 0


def _compare(left, right):
    a, b = pq.read_table(left).to_pandas(), pq.read_table(right).to_pandas()
    key = ["query_id", "item_kind", "rank", "item_id"]
    assert a[key].equals(b[key])
    np.testing.assert_allclose(a["score"], b["score"], atol=1e-5)


def test_worker_processes_give_the_in_process_rows(engine, tmp_path):
    youths = _youths(engine, 16)
    request = BatchRequest("youths", top_k=3)
    single = run_batch(BatchSource(youths, engine), request, tmp_path / "a.parquet", workers=1, chunk_size=8)
    pooled = run_batch(BatchSource(youths, engine), request, tmp_path / "b.parquet", workers=2, chunk_size=8)
    assert pooled.workers == 2
    _compare(single.out, pooled.out)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Ray Data's own DataContext fields
def test_ray_engine_gives_the_local_rows(engine, tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    monkeypatch.setenv("RAY_AUTH_MODE", "disabled")
    youths = _youths(engine, 12)
    request = BatchRequest("youths", top_k=3, pseudonym_key=KEY)
    local = run_batch(BatchSource(youths, engine), request, tmp_path / "local.parquet", workers=1, chunk_size=4)
    scratch = tempfile.mkdtemp(prefix="ray-")  # Ray's socket paths must stay under 108 bytes
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=scratch, log_to_driver=False)
    try:
        remote = run_batch(BatchSource(youths, engine), request, tmp_path / "ray.parquet", engine="ray",
                           workers=2, chunk_size=4)
    finally:
        ray.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    assert remote.chunks_computed == 3
    _compare(local.out, remote.out)


def test_the_text_phase_gives_the_rows_of_chunks_that_encode_their_own_texts(engine, tmp_path):
    youths = _youths(engine, 12)
    request = BatchRequest("youths", top_k=4)
    whole = run_batch(BatchSource(youths, engine), request, tmp_path / "a.parquet", workers=1, chunk_size=12)
    split = run_batch(BatchSource(youths, engine), request, tmp_path / "b.parquet", workers=1, chunk_size=3)
    assert "text_phase" not in whole.encoded
    assert split.encoded["text_phase"]["encoded"] == len(run_texts(engine, youths))
    _compare(whole.out, split.out)


def test_the_text_store_keeps_finished_chunks_and_reads_back_rows(engine, tmp_path):
    texts = [f"texte {i}" for i in range(TEXT_CHUNK + 3)]
    store = TextStore.prepare(tmp_path / "texts", texts, dim=2, n_cards=3)
    assert store.n_chunks == 2 and store.pending() == [0, 1]
    rows = np.arange(3 * 5, dtype=np.float32).reshape(3, 5)
    store.write(1, rows)
    again = TextStore.prepare(tmp_path / "texts", texts, dim=2, n_cards=3)  # a resumed run
    assert again.pending() == [0]
    vectors, scores = again.features([texts[-1], texts[-3]])
    np.testing.assert_array_equal(vectors, rows[[2, 0], :2])
    np.testing.assert_array_equal(scores, rows[[2, 0], 2:])
    with pytest.raises(ValueError):
        again.write(0, rows)  # chunk 0 holds TEXT_CHUNK texts, not 3
    other = TextStore.prepare(tmp_path / "texts", texts[:-1], dim=2, n_cards=3)  # other youths
    assert other.pending() == [0, 1]


def test_indexed_youths_reuse_their_vectors_and_give_the_service_lists_exactly(engine, tmp_path):
    from matching.recommend.updates import indexed_features

    youths = _youths(engine, 6)
    summary = run_batch(BatchSource(youths, engine, indexed=True), BatchRequest("youths", top_k=4), tmp_path / "r.parquet",
                        workers=1, chunk_size=3)
    assert summary.encoded["texts_this_run"] == 0 and summary.encoded["youths_reused"] == 6
    assert summary.encoded["youths_this_run"] == 0 and "text_phase" not in summary.encoded
    vectors, scores = indexed_features(engine, [y.id for y in youths])  # what the API uses for a stored youth
    trades = engine.suggest_trades(youths, 4, mix=TradeMix(), scores=scores)
    vacancies = engine.suggest_vacancies(youths, 4, mix=VacancyMix(), vectors=vectors, trade_scores=scores)
    expected = [(y.id, "trade", r, t.code_rome, t.score) for y, lst in zip(youths, trades, strict=True)
                for r, t in enumerate(lst.items, 1)]
    expected += [(y.id, "vacancy", r, v.vacancy_id, v.score) for y, lst in zip(youths, vacancies, strict=True)
                 for r, v in enumerate(lst.items, 1)]
    rows = pq.read_table(summary.out).to_pylist()
    assert sorted((r["query_id"], r["item_kind"], r["rank"], r["item_id"], r["score"]) for r in rows) == sorted(expected)


def test_a_text_phase_the_disk_cannot_hold_is_refused_before_it_starts(tmp_path, monkeypatch):
    import shutil as shutil_module

    monkeypatch.setattr(shutil_module, "disk_usage", lambda path: shutil_module._ntuple_diskusage(10, 10, 1000))
    with pytest.raises(PasserelleError) as error:
        TextStore.prepare(tmp_path / "texts", ["a", "b"], dim=512, n_cards=1584)
    assert "pas assez d'espace disque" in error.value.message_fr
