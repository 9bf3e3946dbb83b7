"""VectorIndex: known answers, filters against an exact oracle, snapshots, IVF/HNSW."""

from __future__ import annotations

import json
import os

import faiss
import numpy as np
import pytest

from matching.search.index import VectorIndex, exact_scores, exact_search, normalize

DIM = 16


def unit_rows(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    return normalize(rng.standard_normal((n, dim)).astype(np.float32))


def clustered_rows(rng: np.random.Generator, n: int, dim: int, n_clusters: int) -> np.ndarray:
    centres = rng.standard_normal((n_clusters, dim)).astype(np.float32)
    labels = rng.integers(0, n_clusters, n)
    return normalize(centres[labels] + 0.4 * rng.standard_normal((n, dim)).astype(np.float32))


def oracle(queries, vectors, keys, top_k):
    """Brute force written independently: every score, float64 products, then sort."""
    queries = normalize(queries)
    scores = (queries.astype(np.float64)[:, None, :] * vectors.astype(np.float64)[None]).sum(-1)
    scores = scores.astype(np.float32)
    out_keys = np.full((len(queries), top_k), -1, np.int64)
    out_scores = np.full((len(queries), top_k), -np.inf, np.float32)
    for i, row in enumerate(scores):
        order = np.lexsort((keys, -row))[:top_k]
        out_keys[i, : order.size], out_scores[i, : order.size] = keys[order], row[order]
    return out_keys, out_scores


def filtered_oracle(index, queries, top_k, allowed_list):
    rows = [
        oracle(q[None], index.vectors(a), np.asarray(a, np.int64), top_k)
        for q, a in zip(
            queries, [np.intersect1d(a, index.keys()) for a in allowed_list], strict=True
        )
    ]
    return np.vstack([r[0] for r in rows]), np.vstack([r[1] for r in rows])


def build(rng, n=600, factory="Flat", vectors=None, **kwargs) -> VectorIndex:
    keys = rng.choice(10**12, n, replace=False).astype(np.int64)
    index = VectorIndex(DIM if vectors is None else vectors.shape[1], factory, **kwargs)
    return index.add(keys, unit_rows(rng, n) if vectors is None else vectors)


def assert_same(result, expected):
    np.testing.assert_array_equal(result[0], expected[0])
    np.testing.assert_array_equal(result[1], expected[1])


def one_at_a_time(index, queries, top_k, allowed_list):
    rows = [
        index.search(q[None], top_k, allowed=a) for q, a in zip(queries, allowed_list, strict=True)
    ]
    return np.vstack([r[0] for r in rows]), np.vstack([r[1] for r in rows])


def test_known_answer_with_tie_broken_by_key():
    index = VectorIndex(3).add(
        np.array([40, 30, 20, 10]),
        np.array([[1, 1, 0], [0, 0, 1], [0, 1, 0], [1, 0, 0]], np.float32),
    )
    keys, scores = index.search(np.array([[1, 0, 0]], np.float32), 3)
    assert keys.tolist() == [[10, 40, 20]]  # 20 and 30 both score 0: lower key first
    np.testing.assert_allclose(scores, [[1.0, np.sqrt(0.5), 0.0]], atol=1e-6)
    keys, _ = index.search(np.array([[0, 0, 2]], np.float32), 1, allowed=np.array([10, 30]))
    assert keys.tolist() == [[30]]


def test_one_query_is_a_batch_of_one():
    rng = np.random.default_rng(0)
    index, queries = build(rng), unit_rows(rng, 5)
    batch = index.search(queries, 7)
    for i in range(5):
        assert_same(index.search(queries[i : i + 1], 7), (batch[0][i : i + 1], batch[1][i : i + 1]))


def test_add_remove_and_replace():
    rng = np.random.default_rng(1)
    index = VectorIndex(DIM)
    vectors = unit_rows(rng, 4)
    index.add(np.array([1, 2, 3, 4]), vectors)
    assert len(index) == 4 and 3 in index and 9 not in index and "x" not in index
    assert index.remove(np.array([3, 99])) == 1
    assert 3 not in index and sorted(index.keys().tolist()) == [1, 2, 4]
    replacement = unit_rows(rng, 1)
    index.add(np.array([2]), replacement)  # re-adding replaces
    assert len(index) == 3
    np.testing.assert_allclose(index.vectors(np.array([2])), replacement, atol=1e-6)
    assert index.search(replacement, 1)[0].tolist() == [[2]]
    index.add(np.array([3]), vectors[2:3])
    np.testing.assert_allclose(index.vectors(np.array([3, 1])), vectors[[2, 0]], atol=1e-6)
    with pytest.raises(LookupError, match="not in the index"):
        index.vectors(np.array([1, 77]))


@pytest.mark.parametrize(
    ("keys", "vectors", "message"),
    [
        ([1, 2], np.ones((2, 5), np.float32), r"\(2, 16\)"),
        ([1, 2], np.ones((2, DIM), np.int64), "float"),
        ([[1, 2]], np.ones((2, DIM), np.float32), "1-d integer"),
        ([1.0, 2.0], np.ones((2, DIM), np.float32), "1-d integer"),
        ([1, -2], np.ones((2, DIM), np.float32), "non-negative"),
        ([1, 1], np.ones((2, DIM), np.float32), "repeat"),
        ([1, 2], np.zeros((2, DIM), np.float32), "zero"),
    ],
)
def test_add_rejects_bad_input(keys, vectors, message):
    with pytest.raises(ValueError, match=message):
        VectorIndex(DIM).add(np.asarray(keys), vectors)


def test_search_rejects_bad_input():
    index = build(np.random.default_rng(2), n=20)
    with pytest.raises(ValueError, match="top_k"):
        index.search(np.ones((1, DIM), np.float32), 0)
    with pytest.raises(ValueError, match=r"\(q, 16\)"):
        index.search(np.ones((1, 3), np.float32), 5)
    with pytest.raises(ValueError, match="2 key arrays for 1 queries"):
        index.search(np.ones((1, DIM), np.float32), 5, allowed=[np.array([1]), np.array([2])])
    with pytest.raises(ValueError, match="metric"):
        VectorIndex(DIM, metric="l2")
    with pytest.raises(ValueError, match="search parameter"):
        index.set_params(nprobe=4)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_unfiltered_search_is_exact(seed):
    rng = np.random.default_rng(seed)
    index, queries = build(rng), unit_rows(rng, 25)
    expected = oracle(queries, index.vectors(index.keys()), index.keys(), 10)
    assert_same(index.search(queries, 10), expected)
    assert_same(exact_search(queries, index.vectors(index.keys()), index.keys(), 10), expected)
    flat = faiss.IndexFlatIP(DIM)  # and the faiss oracle agrees up to float32 rounding
    flat.add(index.vectors(index.keys()))
    distances, positions = flat.search(normalize(queries), 10)
    np.testing.assert_array_equal(index.keys()[positions], expected[0])
    np.testing.assert_allclose(distances, expected[1], atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("path", ["subset", "selector", "batch", "shared"])
def test_filtered_search_equals_exact_search_on_the_subset(seed, path):
    rng = np.random.default_rng(seed)
    index = build(rng, subset_fraction={"subset": 1.0, "selector": 0.0}.get(path, 0.10))
    queries, keys = unit_rows(rng, 12), index.keys()
    allowed = [
        rng.choice(keys, int(rng.uniform(0.01, 0.7) * len(keys)), replace=False) for _ in queries
    ]
    allowed[0] = np.concatenate([allowed[0], [123, 456]])  # unknown keys are ignored
    if path == "shared":
        allowed = [allowed[1]] * len(queries)
        result = index.search(queries, 10, allowed=allowed[1])
    elif path == "batch":
        result = index.search_batch_filtered(queries, 10, allowed)
    else:
        result = one_at_a_time(index, queries, 10, allowed)
    assert_same(result, filtered_oracle(index, queries, 10, allowed))


@pytest.mark.parametrize("path", ["subset", "selector", "batch", "unfiltered"])
def test_exact_ties_are_ordered_by_key_on_every_path(path):
    rng = np.random.default_rng(3)
    prototypes = unit_rows(rng, 5)
    vectors = prototypes[rng.integers(0, 5, 400)]  # many identical rows: scores tie exactly
    index = build(rng, n=400, vectors=vectors, subset_fraction=0.0 if path == "selector" else 1.0)
    queries, keys = unit_rows(rng, 6), index.keys()
    allowed = [rng.choice(keys, 150, replace=False) for _ in queries]
    if path == "unfiltered":
        expected = oracle(queries, index.vectors(keys), keys, 30)
        assert_same(index.search(queries, 30), expected)
        return
    expected = filtered_oracle(index, queries, 30, allowed)
    search = index.search_batch_filtered if path == "batch" else lambda *a: one_at_a_time(index, *a)
    assert_same(search(queries, 30, allowed), expected)


@pytest.mark.parametrize("fraction", [0.002, 0.03, 0.9])
def test_batch_equals_one_at_a_time(fraction):
    rng = np.random.default_rng(4)
    index = build(rng, n=1000)
    queries, keys = unit_rows(rng, 300), index.keys()  # > one block of 128 queries
    allowed = [rng.choice(keys, max(1, int(fraction * 1000)), replace=False) for _ in queries]
    allowed[::3] = [allowed[i % 4] for i in range(len(allowed[::3]))]  # 4 filters shared by many
    assert_same(
        index.search(queries, 5, allowed=allowed), one_at_a_time(index, queries, 5, allowed)
    )


def test_padding_empty_index_and_empty_filters():
    rng = np.random.default_rng(5)
    index, queries = build(rng, n=50), unit_rows(rng, 3)
    few = index.keys()[:3]
    keys, scores = index.search(queries, 5, allowed=few)
    assert set(keys[:, :3].ravel()) == set(few) and (keys[:, 3:] == -1).all()
    assert np.isneginf(scores[:, 3:]).all() and np.isfinite(scores[:, :3]).all()
    for allowed in (np.array([], np.int64), [np.array([], np.int64)] * 3, np.array([999])):
        keys, scores = index.search(queries, 4, allowed=allowed)
        assert (keys == -1).all() and np.isneginf(scores).all()
    for allowed in (None, few, [few] * 3):
        keys, scores = VectorIndex(DIM).search(queries, 4, allowed=allowed)
        assert keys.shape == (3, 4) and (keys == -1).all() and np.isneginf(scores).all()
    keys, _ = index.search(queries, 60)  # k larger than the index
    assert (keys[:, :50] >= 0).all() and (keys[:, 50:] == -1).all()
    assert index.search(np.empty((0, DIM), np.float32), 3)[0].shape == (0, 3)


@pytest.mark.parametrize("factory", ["Flat", "IVF8,Flat", "HNSW16"])
def test_save_load_round_trip(tmp_path, factory):
    rng = np.random.default_rng(6)
    index, queries = build(rng, n=400, factory=factory), unit_rows(rng, 5)
    allowed = [rng.choice(index.keys(), 40, replace=False) for _ in queries]
    index.save(tmp_path, metadata={"model": "hashing", "data_hash": "abc"})
    index.remove(index.keys()[:10])
    index.save(tmp_path)
    loaded = VectorIndex.load(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["generation"] == loaded.generation == 2 and manifest["count"] == 390
    assert manifest["factory"] == factory and manifest["dim"] == DIM and manifest["metric"] == "ip"
    assert sorted(p.name for p in tmp_path.iterdir() if "000001" in p.name) == []  # old files gone
    np.testing.assert_array_equal(loaded.keys(), index.keys())
    assert_same(loaded.search(queries, 10), index.search(queries, 10))
    assert_same(
        loaded.search(queries, 10, allowed=allowed), index.search(queries, 10, allowed=allowed)
    )


def test_load_rejects_corrupted_or_mismatched_snapshots(tmp_path):
    rng = np.random.default_rng(7)
    build(rng, n=50).save(tmp_path)
    manifest_path = tmp_path / "manifest.json"
    good = json.loads(manifest_path.read_text())
    for field, value, message in [
        ("count", 49, "does not match its manifest"),
        ("dim", 8, "does not match its manifest"),
        ("files", None, "incomplete"),
    ]:
        manifest_path.write_text(json.dumps({**good, field: value}))
        with pytest.raises(ValueError, match=message):
            VectorIndex.load(tmp_path)
    manifest_path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        VectorIndex.load(tmp_path)
    manifest_path.write_text(json.dumps(good))
    keys_path = tmp_path / good["files"]["keys"]
    keys_path.write_bytes(keys_path.read_bytes()[:-8])
    with pytest.raises(ValueError, match="checksum"):
        VectorIndex.load(tmp_path)
    with pytest.raises(FileNotFoundError):
        VectorIndex.load(tmp_path / "missing")


def test_failed_save_leaves_previous_snapshot_loadable(tmp_path, monkeypatch):
    rng = np.random.default_rng(8)
    index, queries = build(rng, n=60), unit_rows(rng, 3)
    index.save(tmp_path)
    before = index.search(queries, 5)
    index.add(np.array([5, 6]), queries[:2])  # would become the top hits
    real_replace = os.replace

    def failing_replace(source, destination):
        if str(destination).endswith("manifest.json"):
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        index.save(tmp_path)
    monkeypatch.undo()
    loaded = VectorIndex.load(tmp_path)
    assert loaded.generation == 1 and len(loaded) == 60
    assert_same(loaded.search(queries, 5), before)
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    assert index.save(tmp_path) and VectorIndex.load(tmp_path).generation == 2


def test_ivf_recall_against_flat_oracle():
    rng = np.random.default_rng(9)
    vectors, queries = clustered_rows(rng, 20_000, 32, 200), clustered_rows(rng, 200, 32, 200)
    index = VectorIndex(32, "IVF256,Flat").set_params(nprobe=16)
    index.add(np.arange(20_000), vectors)
    found, _ = index.search(queries, 10)
    flat = faiss.IndexFlatIP(32)
    flat.add(index.vectors(np.arange(20_000)))
    _, truth = flat.search(normalize(queries), 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall > 0.9, recall


def test_ivf_training_updates_and_exact_subset():
    rng = np.random.default_rng(10)
    with pytest.raises(ValueError, match="at least 312 vectors"):
        VectorIndex(DIM, "IVF8,Flat").add(np.arange(100), unit_rows(rng, 100))
    index = build(rng, n=500, factory="IVF8,Flat").set_params(nprobe=2)
    keys, queries = index.keys(), unit_rows(rng, 4)
    assert index.remove(keys[:50]) == 50 and len(index) == 450
    index.add(keys[50:60], unit_rows(rng, 10))  # replace
    assert len(index) == 450 and not np.isin(index.search(queries, 20)[0], keys[:50]).any()
    allowed = [rng.choice(keys[50:], 30, replace=False) for _ in queries]  # 6 % < 10 %: exact
    assert_same(
        one_at_a_time(index, queries, 10, allowed), filtered_oracle(index, queries, 10, allowed)
    )


def test_hnsw_remove_rebuilds_and_keeps_parameters():
    rng = np.random.default_rng(11)
    index = build(rng, n=500, factory="HNSW16").set_params(efSearch=128)
    keys, queries = index.keys(), unit_rows(rng, 10)
    assert index.remove(keys[:100]) == 100 and len(index) == 400
    assert faiss.downcast_index(index._index.index).hnsw.efSearch == 128
    found, _ = index.search(queries, 10)
    assert not np.isin(found, keys[:100]).any()
    truth, _ = oracle(queries, index.vectors(index.keys()), index.keys(), 10)
    assert np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]) > 0.9
    index.add(keys[:5], unit_rows(rng, 5))
    assert len(index) == 405 and keys[0] in index


def test_empty_add_metadata_and_foreign_index_file(tmp_path):
    index = VectorIndex(DIM).add(np.array([], np.int64), np.empty((0, DIM), np.float32))
    assert len(index) == 0
    with pytest.raises(ValueError, match="JSON-serialisable"):
        index.save(tmp_path, metadata={"when": object()})
    index.add(np.array([1, 2]), unit_rows(np.random.default_rng(12), 2)).save(tmp_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    other = VectorIndex(DIM).add(np.array([1, 3]), unit_rows(np.random.default_rng(13), 2))
    index_file = tmp_path / manifest["files"]["index"]
    faiss.write_index(other._index, str(index_file))  # same count and dim, other ids
    manifest["sha256"]["index"] = __import__("hashlib").sha256(index_file.read_bytes()).hexdigest()
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(ValueError, match="ids do not match keys"):
        VectorIndex.load(tmp_path)


def test_normalize_is_idempotent():
    rows = unit_rows(np.random.default_rng(14), 50)
    np.testing.assert_array_equal(normalize(rows), rows)
    np.testing.assert_allclose(np.linalg.norm(normalize(3 * rows), axis=1), 1, atol=1e-6)


@pytest.mark.parametrize("factory", ["IVF8,Flat", "HNSW16"])
def test_approximate_batch_equals_one_at_a_time(factory):
    rng = np.random.default_rng(15)
    index = build(rng, n=400, factory=factory)
    queries, keys = unit_rows(rng, 6), index.keys()
    allowed = [rng.choice(keys, n, replace=False) for n in (5, 20, 100, 200, 300, 399)]
    expected = one_at_a_time(index, queries, 10, allowed)
    assert_same(index.search_batch_filtered(queries, 10, allowed), expected)
    small = [a[:20] for a in allowed]  # 5 % of the index: exact on the subset
    assert_same(
        index.search(queries, 10, allowed=small), filtered_oracle(index, queries, 10, small)
    )


def test_save_keeps_foreign_files_and_survives_a_broken_manifest(tmp_path):
    rng = np.random.default_rng(16)
    index = build(rng, n=40, factory="HNSW16").set_params(efSearch=99)
    (tmp_path / "notes-2024.npy").write_bytes(b"mine")
    (tmp_path / "manifest.json").write_text("{broken")
    index.save(tmp_path)
    index.save(tmp_path)
    assert (tmp_path / "notes-2024.npy").read_bytes() == b"mine"
    loaded = VectorIndex.load(tmp_path)
    assert loaded.generation == 2
    loaded.remove(loaded.keys()[:3])  # the HNSW rebuild keeps the saved parameters
    assert faiss.downcast_index(loaded._index.index).hnsw.efSearch == 99


@pytest.mark.parametrize("seed", range(5))
def test_exact_scores_match_the_float64_copy_version(seed):
    """exact_scores casts inside the multiply: bit for bit the scores of the float64 copy."""
    rng = np.random.default_rng(seed)
    for _ in range(40):
        m, dim = int(rng.integers(0, 300)), int(rng.choice([1, 7, 16, 100, 384, 512]))
        rows = rng.standard_normal((m, dim)).astype(np.float32)
        rows = rows[::2] if rng.random() < 0.3 else np.asfortranarray(rows) if rng.random() < 0.3 else rows
        query = rng.standard_normal(dim).astype(np.float32)
        want = (rows.astype(np.float64) * query.astype(np.float64)).sum(axis=1).astype(np.float32)
        got = exact_scores(query, rows)
        assert got.dtype == np.float32 and np.array_equal(got.view(np.int32), want.view(np.int32))

