"""The index change log: upserts and deletes, in commit order, replayable after a snapshot."""

from __future__ import annotations

import pytest
from store_factories import vacancy_fields, youth_profile

from matching.types import stable_key
from service.store import crud


def ops(changes) -> list[tuple[str, str | None, str]]:
    return [(c.kind, c.object_id, c.op) for c in changes]


def test_changes_since_returns_upserts_and_deletes_in_order(seeded):
    with seeded.begin() as session:
        start = crud.current_generation(session)
        crud.create_youth(session, youth_profile("Y-1"))
        crud.create_youth(session, youth_profile("Y-2"))
    with seeded.begin() as session:
        crud.delete_vacancy(session, "V-1")
        crud.update_youth(session, "Y-1", {"age": 22}, version=1)
        crud.erase_youth(session, "Y-2")
    with seeded.begin() as session:
        changes = crud.changes_since(session, start)
        assert ops(changes) == [
            ("vacancy", None, "delete"),
            ("youth", "Y-1", "upsert"),
            ("youth", None, "delete"),
        ]
        assert [c.object_key for c in changes] == [stable_key(i) for i in ("V-1", "Y-1", "Y-2")]
        generations = [c.generation for c in changes]
        assert generations == sorted(generations) and generations[-1] == crud.current_generation(
            session
        )
        # replay from the middle: only what happened after
        assert ops(crud.changes_since(session, generations[0])) == ops(changes[1:])
        assert crud.changes_since(session, generations[-1]) == []


def test_a_rolled_back_write_leaves_no_change(seeded):
    with seeded.begin() as session:
        before = crud.current_generation(session)
    with pytest.raises(RuntimeError), seeded.begin() as session:
        crud.create_youth(session, youth_profile("Y-ghost"))
        raise RuntimeError("request failed after the write")
    with seeded.begin() as session:
        assert crud.current_generation(session) == before
        assert "Y-ghost" not in {c.object_id for c in crud.changes_since(session, 0)}


def test_employer_updates_reindex_its_vacancies(seeded):
    with seeded.begin() as session:
        crud.create_vacancy(session, vacancy_fields("V-2"))
        start = crud.current_generation(session)
        crud.update_employer(session, "12345678900011", {"lat": 49.2}, version=1)
        assert sorted(c.object_id for c in crud.changes_since(session, start)) == ["V-1", "V-2"]


def test_pruning_keeps_upserts(seeded):
    with seeded.begin() as session:
        crud.create_vacancy(session, vacancy_fields("V-2"))
        crud.delete_vacancy(session, "V-1")
        assert crud.prune_tombstones(session, crud.current_generation(session)) == 1
        assert ops(crud.changes_since(session, 0)) == [("vacancy", "V-2", "upsert")]


@pytest.fixture(scope="module")
def demo_data(referential):
    from matching.synthetic.dataset import generate

    return generate(referential, n_youths=300, n_vacancies=600, seed=5)


def test_load_synthetic_in_bulk_and_reload(sessions, demo_data):
    with sessions.begin() as session:
        added = crud.load_synthetic(session, demo_data)
        assert added["youths"] == 300 and added["vacancies"] == 600
        assert added["missions_locales"] == len(demo_data.missions_locales)
        first = demo_data.youths[0]
        youth = crud.get_youth(session, first["id"])
        assert youth.profile == first and youth.synthetic and youth.gender == first["gender"]
        vacancy = crud.get_vacancy(session, demo_data.vacancies[0].id)
        assert vacancy.employer_siret == demo_data.vacancies[0].employer.siret
        upserts = {(c.kind, c.object_id) for c in crud.changes_since(session, 0)}
        assert len(upserts) == 900
    with sessions.begin() as session:
        again = crud.load_synthetic(session, demo_data)  # replace=True: idempotent
        assert again["youths"] == 300 and again["missions_locales"] == 0
        assert len(crud.changes_since(session, 0)) == 900
        assert crud.get_youth(session, first["id"]).profile == first  # JSONB may reorder keys
