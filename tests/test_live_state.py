"""Reads never wait for reads: the live engine's states are immutable and swapped whole.

A small data home with the hashing model (seconds). The readers here are real reads of the
engine held open by the test itself (a ``threading.Event`` or ``Barrier`` inside the read);
the writes go through the store and the engine's catch-up, as the API's do.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matching.recommend import updates
from matching.recommend.recommender import Recommender
from matching.synthetic import dataset as synthetic
from service.config import Settings
from service.live import EngineState
from service.store import crud
from service.workspace import Workspace, model_slug

WAIT_S = 20.0


@pytest.fixture(scope="module")
def live_home(tmp_path_factory, referential_cache_dir, hashing_trades):
    """A data home (hashing model) whose store holds 30 youths and 150 vacancies."""
    path = tmp_path_factory.mktemp("live")
    shutil.copytree(referential_cache_dir, path / "cache" / "referential")
    shutil.copytree(hashing_trades, path / "models" / model_slug("hashing") / "trades")
    workspace = Workspace(Settings(home=path, model="hashing"))
    workspace.load_demo_into_store(synthetic.generate(workspace.referential(), n_youths=30, n_vacancies=150, seed=3))
    yield workspace
    workspace.store()[0].dispose()


@pytest.fixture()
def live(live_home):
    engine = live_home.live()
    yield engine
    engine.close()


def write(workspace: Workspace, change) -> None:
    """Commit one change to the store (``change(session)``), as a route does before catching up."""
    with workspace.store()[1].begin() as session:
        change(session)


def suggested(state: EngineState, youth_id: str) -> list[tuple[str, float]]:
    """The vacancies suggested to an indexed youth by ``state`` (ids and scores)."""
    engine = state.recommender
    youth = engine.youths.youths[engine.youths.rows[youth_id]]
    vectors, scores = updates.indexed_features(engine, [youth_id])
    result = engine.suggest_vacancies([youth], 5, vectors=vectors, trade_scores=scores)[0]
    return [(item.vacancy_id, item.score) for item in result.items]


def whole(state: EngineState, scores: bool = True) -> str:
    """Check that the tables and indexes of ``state`` agree; return a digest of its contents
    (without the youths' trade scores unless ``scores``)."""
    engine = state.recommender
    vacancies, youths = engine.vacancies, engine.youths
    assert sorted(engine.vacancy_index.keys()) == sorted(vacancies.keys)
    assert sorted(engine.youth_index.keys()) == sorted(youths.keys)
    assert engine.youth_trade_scores.shape == (len(youths), len(engine.codes))
    for table, items in ((vacancies, vacancies.vacancies), (youths, youths.youths)):
        assert len(items) == table.keys.size == len(table.rows)
        assert all(items[row].id == i and items[row].key == table.keys[row] for i, row in table.rows.items())
    digest = hashlib.sha256()
    for vacancy in sorted(vacancies.vacancies, key=lambda v: v.id):
        digest.update(f"{vacancy.id}|{vacancy.title}|{vacancy.status}|{vacancy.places};".encode())
    for youth in sorted(youths.youths, key=lambda y: y.id):
        digest.update(f"{youth.id}|{youth.mobility_km};".encode())
    for index in (engine.vacancy_index, engine.youth_index):
        keys = np.sort(index.keys())
        digest.update(index.vectors(keys).tobytes())
    if scores:
        digest.update(engine.youth_trade_scores[np.argsort(youths.keys)].tobytes())
    return digest.hexdigest()


def test_two_reads_hold_the_engine_at_once(live):
    barrier = threading.Barrier(2, timeout=WAIT_S)  # broken if one read waits for the other

    def reader(context: bool) -> int:
        if context:  # the context form (ROME inference uses it) holds nothing either
            with live.reading() as engine:
                barrier.wait()
                return len(engine.vacancies)
        state = live.read()
        barrier.wait()
        return len(state.recommender.vacancies)

    with ThreadPoolExecutor(2) as pool:
        sizes = [future.result(WAIT_S) for future in [pool.submit(reader, True), pool.submit(reader, False)]]
    assert sizes[0] == sizes[1] > 0


def test_a_write_during_a_read_changes_nothing_that_read_sees(live, live_home):
    held, resume = threading.Event(), threading.Event()
    youth_id = live.read().recommender.youths.youths[0].id

    def reader():
        state = live.read()
        before = suggested(state, youth_id)
        held.set()
        assert resume.wait(WAIT_S)  # the read stays open while the write is applied
        return state, before, suggested(state, youth_id), whole(state)

    with ThreadPoolExecutor(2) as pool:
        reading = pool.submit(reader)
        assert held.wait(WAIT_S)
        state = live.state
        top = suggested(state, youth_id)[0][0]
        digest = whole(state)
        write(live_home, lambda session: crud.update_vacancy(session, top, {"status": "filled"}, version=None))
        applied = pool.submit(live.catch_up).result(WAIT_S)  # the writer does not wait for the reader
        assert applied == 1 and live.generation > state.generation
        resume.set()
        held_state, before, after, digest_after = reading.result(WAIT_S)
    assert held_state is state and held_state.generation < live.generation
    assert after == before and before[0][0] == top and digest_after == digest  # one whole generation
    assert top not in [i for i, _ in suggested(live.read(), youth_id)]  # the next read sees the write


def test_a_change_of_places_encodes_nothing_and_shares_the_index(live, live_home):
    state = live.read()
    vacancy_id = state.recommender.vacancies.vacancies[0].id
    write(live_home, lambda session: crud.update_vacancy(session, vacancy_id, {"places": 4}, version=None))
    live.catch_up()
    new = live.read().recommender
    assert new.vacancy_index is state.recommender.vacancy_index  # text unchanged: same vectors
    assert new.vacancies.vacancies[new.vacancies.rows[vacancy_id]].places == 4
    assert new.youths is state.recommender.youths and new.youth_index is state.recommender.youth_index
    assert state.recommender.vacancies.vacancies[state.recommender.vacancies.rows[vacancy_id]].places != 4
    whole(live.state)


def test_a_snapshot_rewrites_only_the_halves_that_changed(live, live_home):
    from service.live.snapshots import read_snapshot, write_snapshot
    from service.store.models import Youth

    def places(n):
        vacancy_id = live.read().recommender.vacancies.vacancies[n].id
        write(live_home, lambda session: crud.update_vacancy(session, vacancy_id, {"places": 7 + n}, version=None))
        live.catch_up()
        assert live.snapshot()

    def manifest(half):
        import json
        return json.loads((live.snapshot_dir / half / "manifest.json").read_text())

    places(0)  # a snapshot of this process (opening the engine may have written one already)
    before = {half: manifest(half) for half in ("vacancies", "youths")}
    places(1)  # no vector changed: both halves kept, their metadata at the new generation
    assert live.kept == ["vacancies", "youths"]
    for half in ("vacancies", "youths"):
        now = manifest(half)
        assert (now["files"], now["sha256"], now["generation"]) == (before[half]["files"], before[half]["sha256"],
                                                                    before[half]["generation"])
        assert now["metadata"]["store_generation"] == live.generation
    youth_id = live.read().recommender.youths.youths[0].id
    write(live_home, lambda session: crud.update_youth(session, youth_id, {"mobility_km": 42}, version=None))
    live.catch_up()  # a radius changes no vector and no trade score: both halves kept
    assert live.snapshot() and live.kept == ["vacancies", "youths"]
    with live_home.store()[1].begin() as session:
        interests = session.get(Youth, youth_id).profile.get("interests") or ""
    write(live_home, lambda session: crud.update_youth(
        session, youth_id, {"interests": interests + " et la pâtisserie"}, version=None))
    live.catch_up()
    assert live.snapshot() and live.kept == ["vacancies"]
    assert manifest("youths")["generation"] > before["youths"]["generation"]
    snapshot = read_snapshot(live.snapshot_dir)  # whole, at the engine's generation, with its vectors
    engine = live.read().recommender
    assert snapshot is not None and snapshot.generation == live.generation
    for index, mine in ((snapshot.vacancies, engine.vacancy_index), (snapshot.youths, engine.youth_index)):
        keys = np.sort(mine.keys())
        np.testing.assert_array_equal(np.sort(index.keys()), keys)
        np.testing.assert_array_equal(index.vectors(keys), mine.vectors(keys))
    # another process rewrote the vacancy half meanwhile: it is written whole again, not restamped
    generation = manifest("vacancies")["generation"]
    write_snapshot(live.snapshot_dir, engine.vacancies.keys, engine.vacancy_index.vectors(engine.vacancies.keys),
                   engine.youths.keys, engine.youth_index.vectors(engine.youths.keys), engine.youth_trade_scores,
                   {**live.metadata, "store_generation": live.generation})
    assert manifest("vacancies")["generation"] == generation + 1
    places(2)
    assert "vacancies" not in live.kept and manifest("vacancies")["generation"] == generation + 2
    assert read_snapshot(live.snapshot_dir).generation == live.generation


def test_reused_features_are_what_encoding_gives(live):
    """A youth whose texts did not change keeps its indexed features: the same as encoding it
    again (what the reuse assumes of ``youth_features``); a changed text is encoded again."""
    import dataclasses

    engine = live.read().recommender
    youth = engine.youths.youths[0]
    moved = dataclasses.replace(youth, mobility_km=youth.mobility_km + 7, contracts=("cdd",),
                                available_from=None, diploma_level="none")
    reused = updates.reusable_youth_features(engine, [moved])[youth.id]
    vectors, scores = engine.youth_features([moved])
    np.testing.assert_allclose(reused[0], vectors[0], atol=1e-6)
    np.testing.assert_allclose(reused[1], scores[0].astype(np.float16), atol=1e-3)
    retold = dataclasses.replace(youth, interests=f"{youth.interests} et la menuiserie")
    assert not updates.reusable_youth_features(engine, [retold])
    vacancy = engine.vacancies.vacancies[0]
    assert updates.reusable_vacancy_vectors(engine, [dataclasses.replace(vacancy, places=3, status="filled")])
    assert not updates.reusable_vacancy_vectors(engine, [dataclasses.replace(vacancy, title="Autre poste")])


def store_writes(workspace: Workspace, rounds: int, seed: int) -> list:
    """``rounds`` writes over the store's rows: places, titles (re-encoded), status, radius,
    new youths and their erasure; each a function of a session."""
    from sqlalchemy import select

    from service.store.models import Vacancy, Youth

    rng = random.Random(seed)
    with workspace.store()[2]() as session:
        vacancy_ids = list(session.scalars(select(Vacancy.id)))
        youths = [(y.id, y.mission_locale, y.profile) for y in session.scalars(select(Youth))]
    created: list[str] = []  # filled as the writes run
    changes, planned = [], 0
    for number in range(rounds):
        vacancy_id = rng.choice(vacancy_ids)
        youth_id, mission, profile = rng.choice(youths)
        kind = rng.choice(["places", "title", "status", "radius", "create", "erase"])
        if kind == "places":
            changes.append(lambda s, v=vacancy_id, n=number: crud.update_vacancy(s, v, {"places": 1 + n % 5}, version=None))
        elif kind == "title":
            changes.append(lambda s, v=vacancy_id, n=number: crud.update_vacancy(s, v, {"title": f"Poste {n}"}, version=None))
        elif kind == "status":
            status = rng.choice(["open", "filled"])
            changes.append(lambda s, v=vacancy_id, st=status: crud.update_vacancy(s, v, {"status": st}, version=None))
        elif kind == "radius":
            changes.append(lambda s, y=youth_id, n=number: crud.update_youth(s, y, {"mobility_km": 5 + n}, version=None))
        elif kind == "create" or not planned:
            new = {k: v for k, v in profile.items() if k != "id"} | {"external_id": f"STRESS-{number}"}
            changes.append(lambda s, p=new, m=mission: created.append(crud.create_youth(s, p, mission_locale=m).id))
            planned += 1
        else:
            changes.append(lambda s: crud.erase_youth(s, created.pop(0)))
            planned -= 1
    return changes


def test_readers_only_ever_see_whole_generations(live, live_home):
    """Writers apply changes while readers read: every state a reader takes is whole, one
    generation always has the same contents, and the last one equals a fresh engine's."""
    seen: dict[int, set[str]] = {}
    problems: list[BaseException] = []
    done = threading.Event()
    first = live.read()
    first_digest = whole(first)

    def reader(number: int) -> None:
        rng = random.Random(number)
        try:
            while not done.is_set():
                state = live.read(sync=number % 2 == 0)  # half of the readers catch up too
                digest = whole(state)
                youth_id = rng.choice(state.recommender.youths.youths).id
                table = state.recommender.vacancies
                for vacancy_id, _ in suggested(state, youth_id):
                    assert table.open[table.rows[vacancy_id]]  # index and table of one state
                seen.setdefault(state.generation, set()).add(digest)
        except BaseException as error:  # reported by the main thread
            problems.append(error)

    threads = [threading.Thread(target=reader, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    try:
        for change in store_writes(live_home, 30, seed=5):
            write(live_home, change)
            live.catch_up()
    finally:
        done.set()
        for thread in threads:
            thread.join(WAIT_S)
    assert not problems, problems[:1]
    assert len(seen) > 1 and all(len(digests) == 1 for digests in seen.values())
    assert whole(first) == first_digest  # the first state was never changed in place
    fresh = live_home.live()
    try:
        assert fresh.generation == live.generation
        assert whole(fresh.state, scores=False) == whole(live.state, scores=False)
        # trade scores: a youth encoded alone (live) or in a batch (fresh start) may differ in
        # the last float bits (BLAS kernels depend on the batch size), which can swap two cards
        # of near-equal scores in the rank fusion: a few hundredths, seen on one CPU
        fresh_scores, live_scores = (e.youth_trade_scores[np.argsort(e.youths.keys)].astype(np.float32)
                                     for e in (fresh.state.recommender, live.state.recommender))
        np.testing.assert_allclose(fresh_scores, live_scores, atol=0.05)
    finally:
        fresh.close()


# ------------------------------------------------------------------ copy-on-write, property
@pytest.fixture(scope="module")
def small_data(referential) -> tuple[list, list]:
    """30 vacancies and 12 youths (parsed)."""
    data = synthetic.generate(referential, n_youths=12, n_vacancies=30, seed=9)
    return list(data.vacancies), synthetic.parse_youths(data, referential)


def _engine(referential, vacancies, youths, rng) -> Recommender:
    engine = Recommender(referential, None, None)
    engine.load_vacancies(vacancies, vectors=rng.normal(size=(len(vacancies), 8)))
    return engine.load_youths(youths, vectors=rng.normal(size=(len(youths), 8)),
                              trade_scores=rng.random((len(youths), len(engine.codes))))


def _contents(engine) -> tuple:
    v_keys, y_keys = np.sort(engine.vacancies.keys), np.sort(engine.youths.keys)
    order = np.argsort(engine.youths.keys)
    return (tuple(sorted((v.id, v.places) for v in engine.vacancies.vacancies)),
            tuple(sorted(y.id for y in engine.youths.youths)),
            engine.vacancy_index.vectors(v_keys).tobytes(), engine.youth_index.vectors(y_keys).tobytes(),
            engine.youth_trade_scores[order].tobytes())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 10**6), gone=st.integers(0, 5), moved=st.integers(0, 5), same=st.integers(0, 3))
def test_changed_leaves_the_engine_and_equals_a_rebuild(referential, small_data, seed, gone, moved, same):
    import dataclasses

    rng = np.random.default_rng(seed)
    all_vacancies, all_youths = small_data
    vacancies, youths = all_vacancies[:20], all_youths[:8]
    engine = _engine(referential, vacancies, youths, rng)
    before = _contents(engine)
    order = rng.permutation(len(vacancies))
    gone_ids = [vacancies[i].id for i in order[:gone]]
    upserted = [dataclasses.replace(vacancies[i], places=9) for i in order[gone:gone + moved]]
    upserted += all_vacancies[20:20 + same]  # new rows
    vectors = rng.normal(size=(len(upserted), 8)).astype(np.float32)
    y_gone = [youths[0].id] if gone % 2 else []
    y_new = [dataclasses.replace(youths[1], mobility_km=77.0)]
    y_vectors, y_scores = rng.normal(size=(1, 8)), rng.random((1, len(engine.codes)))
    result = updates.changed(engine, gone_vacancies=gone_ids, vacancies=upserted, vacancy_vectors=vectors,
                             gone_youths=y_gone, youths=y_new, youth_vectors=y_vectors, youth_scores=y_scores)
    assert _contents(engine) == before  # copy-on-write: the engine read by requests is unchanged
    kept_v = [v for v in vacancies if v.id not in gone_ids and v.id not in {u.id for u in upserted}]
    old_v = engine.vacancy_index.vectors(np.array([v.key for v in kept_v], np.int64)).reshape(-1, 8)
    kept_y = [y for y in youths if y.id not in y_gone and y.id != youths[1].id]
    rows = [engine.youths.rows[y.id] for y in kept_y]
    rebuilt = Recommender(referential, None, None)
    rebuilt.load_vacancies(kept_v + upserted, vectors=np.vstack([old_v, vectors]))
    rebuilt.load_youths(kept_y + y_new, vectors=np.vstack([engine.youth_index.vectors(
        np.array([y.key for y in kept_y], np.int64)).reshape(-1, 8), y_vectors]),
        trade_scores=np.vstack([engine.youth_trade_scores[rows], y_scores.astype(np.float16)]))
    assert _contents(result) == _contents(rebuilt)


def test_upsert_rows_replaces_in_place_and_rebuilds_moved_places(referential, small_data):
    import dataclasses

    from matching.recommend.catalog import upsert_rows, vacancy_table

    codes = np.asarray(referential.codes)
    vacancies = small_data[0][:20]
    table = vacancy_table(vacancies, codes)
    _ = table.places
    same = upsert_rows(table, vacancy_table([dataclasses.replace(vacancies[3], places=7)], codes))
    assert same.rows is table.rows and same.places is table.places and same.vacancies[3].places == 7
    assert table.vacancies[3] is vacancies[3]  # the table read by requests is unchanged
    far = next(v for v in vacancies if abs(v.place.lat - vacancies[3].place.lat) > 0.1)
    moved = upsert_rows(table, vacancy_table([dataclasses.replace(vacancies[3], location=far.place),
                                              small_data[0][25]], codes))
    assert "places" not in moved.__dict__ and len(moved) == 21 and moved.rows[small_data[0][25].id] == 20
    near, distance = moved.near(far.place.lat, far.place.lon, 0.5)
    assert 3 in near.positions.tolist() and distance[near.positions.tolist().index(3)] == 0.0
