"""Round trips, version conflicts, scoping and integrity on every backend."""

from __future__ import annotations

import threading
from datetime import UTC, date

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from store_factories import employer_fields, vacancy_fields, youth_profile

from matching.errors import UnknownId
from service.store import crud
from service.store.models import Outcome, Suggestion, Vacancy, Youth
from service.store.outcome_codes import InvalidOutcome


def test_youth_round_trip(seeded):
    profile = youth_profile()
    with seeded.begin() as session:
        created = crud.create_youth(session, profile)
        assert created.version == 1
    with seeded.begin() as session:
        youth = crud.get_youth(session, "Y-alice")
        assert youth.profile == profile
        assert (youth.gender, youth.qpv, youth.commune_insee) == ("F", False, "57463")
        assert youth.external_id == "DOSSIER-2026-0042"
        assert (
            youth.created_at.tzinfo is not None
            and youth.created_at.utcoffset() == UTC.utcoffset(None)
        )


def test_youth_gets_an_id_and_the_keys_mission_locale(seeded):
    profile = youth_profile(mission_locale="ML-OTHER")
    del profile["id"]
    with seeded.begin() as session:
        youth = crud.create_youth(session, profile, mission_locale="ML-NANCY")
        assert youth.id.startswith("Y-") and youth.profile["id"] == youth.id
        assert youth.mission_locale == youth.profile["mission_locale"] == "ML-NANCY"


def test_update_youth_merges_and_bumps_the_version(seeded):
    with seeded.begin() as session:
        crud.create_youth(session, youth_profile())
    with seeded.begin() as session:
        youth = crud.update_youth(session, "Y-alice", {"gender": None, "age": 20}, version=1)
        assert youth.version == 2
    with seeded.begin() as session:
        youth = crud.get_youth(session, "Y-alice")
        assert (
            youth.profile["age"] == 20 and youth.profile["gender"] is None and youth.gender is None
        )
        assert youth.profile["wished_trades"] == ["boulangère", "D1106"]


def test_stale_version_raises_conflict(seeded):
    with seeded.begin() as session:
        crud.create_youth(session, youth_profile())
    with seeded.begin() as session:
        crud.update_youth(session, "Y-alice", {"age": 20}, version=1)
    with pytest.raises(crud.Conflict, match="version"), seeded.begin() as session:
        crud.update_youth(session, "Y-alice", {"age": 21}, version=1)
    with pytest.raises(crud.Conflict), seeded.begin() as session:
        crud.update_vacancy(session, "V-1", {"status": "filled"}, version=7)
    with pytest.raises(crud.Conflict), seeded.begin() as session:
        crud.update_employer(session, "12345678900011", {"name": "X"}, version=2)


def test_concurrent_writers_on_one_version_conflict(seeded):
    """Two requests PATCH the same version at once: one wins, the other gets a Conflict."""
    barrier = threading.Barrier(2)
    results: list[str] = []

    def patch(places: int) -> None:
        barrier.wait()
        try:
            with seeded.begin() as session:
                crud.update_vacancy(session, "V-1", {"places": places}, version=1)
            results.append("ok")
        except crud.Conflict:
            results.append("conflict")

    threads = [threading.Thread(target=patch, args=(places,)) for places in (2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["conflict", "ok"]
    with seeded.begin() as session:
        vacancy = crud.get_vacancy(session, "V-1")
        assert vacancy.version == 2 and vacancy.places in (2, 3)


def test_a_stale_session_loses_the_race_on_postgresql(seeded, engine):
    """Both read version 1; the ORM's version check catches the loser at flush time."""
    if engine.dialect.name == "sqlite":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): no interleaving in one thread")
    first, second = seeded(), seeded()
    try:
        seen = crud.get_vacancy(second, "V-1")  # held: the identity map keeps version 1
        crud.update_vacancy(first, "V-1", {"places": 2}, version=1)
        first.commit()
        with pytest.raises(crud.Conflict, match="same time"):
            crud.update_vacancy(second, "V-1", {"places": 3}, version=seen.version)
    finally:
        first.close()
        second.close()


def test_duplicate_ids_conflict(seeded):
    with seeded.begin() as session:
        crud.create_youth(session, youth_profile())
    for create, fields in [
        (crud.create_youth, youth_profile()),
        (crud.create_employer, employer_fields()),
        (crud.create_vacancy, vacancy_fields()),
    ]:
        with pytest.raises(crud.Conflict, match="already exists"), seeded.begin() as session:
            create(session, fields)


def test_another_mission_locales_youth_is_unknown(seeded):
    with seeded.begin() as session:
        crud.create_youth(session, youth_profile())
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.get_youth(session, "Y-alice", mission_locale="ML-NANCY")
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.update_youth(session, "Y-alice", {"age": 20}, version=1, mission_locale="ML-NANCY")
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.erase_youth(session, "Y-alice", mission_locale="ML-NANCY")
    with seeded.begin() as session:
        assert crud.get_youth(session, "Y-alice", mission_locale="ML-METZ").id == "Y-alice"


def test_vacancy_and_employer_round_trip_and_delete(seeded):
    with seeded.begin() as session:
        vacancy = crud.get_vacancy(session, "V-1")
        assert (vacancy.start_date, vacancy.status, vacancy.version) == (
            date(2026, 9, 1),
            "open",
            1,
        )
        employer = crud.update_employer(
            session, "12345678900011", {"name": "Au Bon Pain"}, version=1
        )
        assert employer.version == 2
    with pytest.raises(crud.Conflict, match="delete them first"), seeded.begin() as session:
        crud.delete_employer(session, "12345678900011")
    with seeded.begin() as session:
        crud.delete_vacancy(session, "V-1", version=1)
        crud.delete_employer(session, "12345678900011", version=2)
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.get_vacancy(session, "V-1")


def test_expire_vacancies_after_their_end_date(seeded):
    with seeded.begin() as session:
        crud.create_vacancy(session, vacancy_fields("V-2", end_date=None))
        assert crud.expire_vacancies(session, date(2027, 1, 1)) == ["V-1"]
    with seeded.begin() as session:
        assert crud.get_vacancy(session, "V-1").status == "expired"
        assert crud.get_vacancy(session, "V-1").version == 2
        assert crud.get_vacancy(session, "V-2").status == "open"


def test_unknown_fields_are_refused(seeded):
    with (
        pytest.raises(ValueError, match="unknown or read-only field 'version'"),
        seeded.begin() as session,
    ):
        crud.update_vacancy(session, "V-1", {"version": 9}, version=1)
    with pytest.raises(ValueError, match="cannot be changed"), seeded.begin() as session:
        crud.create_youth(session, youth_profile())
        crud.update_youth(session, "Y-alice", {"mission_locale": "ML-NANCY"}, version=1)


@pytest.mark.parametrize(
    "table, row",
    [
        (Vacancy, {**vacancy_fields("V-9", siret="00000000000000"), "status": "open"}),
        (Youth, {"id": "Y-x", "mission_locale": "ML-NOWHERE", "profile": {}}),
        (
            Suggestion,
            {
                "youth_id": "Y-nobody",
                "mission_locale": "ML-METZ",
                "item_kind": "trade",
                "item_id": "D1102",
                "rank": 1,
                "score": 0.5,
                "policy": {},
                "engine_version": "t",
            },
        ),
    ],
)
def test_foreign_key_violation_raises(seeded, table, row):
    with pytest.raises(IntegrityError), seeded.begin() as session:
        session.execute(insert(table), [row])


def test_check_constraints_hold(seeded):
    with pytest.raises(IntegrityError), seeded.begin() as session:
        session.execute(
            insert(Youth),
            [{"id": "Y-z", "mission_locale": "ML-METZ", "profile": {}, "gender": "Z"}],
        )
    with pytest.raises(IntegrityError), seeded.begin() as session:
        session.execute(insert(Vacancy), [{**vacancy_fields("V-z"), "status": "closed"}])


def test_suggestions_and_outcomes(seeded):
    with seeded.begin() as session:
        youth = crud.create_youth(session, youth_profile())
        rows = crud.add_suggestions(
            session,
            youth,
            [
                {
                    "item_kind": "vacancy",
                    "item_id": "V-1",
                    "score": 0.9,
                    "sector_family": "artisanat",
                    "employer_siret": "12345678900011",
                    "non_traditional": False,
                },
                {"item_kind": "trade", "item_id": "F1703", "score": 0.7, "non_traditional": True},
            ],
            policy={"mix": "balance"},
            engine_version="0.1.0",
        )
        assert [row.rank for row in rows] == [1, 2]
        assert rows[0].list_id.endswith(":v") and rows[1].list_id == rows[0].list_id[:-2] + ":t"
        assert crud.add_outcome(session, rows[0].id, "contacted").status == "contacted"
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.add_outcome(session, 10_000, "hired")
    with pytest.raises(InvalidOutcome) as refused, seeded.begin() as session:
        crud.add_outcome(session, rows[0].id, "promoted")
    assert refused.value.field == "status"
    with pytest.raises(IntegrityError), seeded.begin() as session:  # the CHECK constraint too
        session.add(Outcome(suggestion_id=rows[0].id, status="promoted"))
        session.flush()


def test_applied_and_declined_with_a_reason_code(seeded):
    with seeded.begin() as session:
        youth = crud.create_youth(session, youth_profile("Y-reasons"))
        (row,) = crud.add_suggestions(
            session, youth, [{"item_kind": "trade", "item_id": "F1703", "score": 0.5}],
            policy={}, engine_version="t")
        assert crud.add_outcome(session, row.id, "applied").status == "applied"
        declined = crud.add_outcome(session, row.id, "declined", "position_filled")
        assert (declined.status, declined.reason) == ("declined", "position_filled")
        note = crud.add_outcome(session, row.id, "contacted", "rappeler lundi")  # a free note
        assert note.reason == "rappeler lundi"
        row_id = row.id
    for reason in (None, "trop loin", "Position_filled"):
        with pytest.raises(InvalidOutcome) as refused, seeded.begin() as session:
            crud.add_outcome(session, row_id, "declined", reason)
        assert refused.value.field == "reason"
        assert "employer_no_reply" in str(refused.value)
        assert "trop loin" not in str(refused.value)  # the text is not echoed
    with pytest.raises(InvalidOutcome), seeded.begin() as session:
        crud.add_outcome(session, row_id, "contacted", "x" * 501)


def test_touch_and_inactive_youths(seeded):
    from datetime import datetime, timedelta

    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    with seeded.begin() as session:
        crud.create_youth(session, youth_profile("Y-old"))
        crud.create_youth(session, youth_profile("Y-new"))
        crud.touch_youth(session, "Y-old", long_ago)
    with seeded.begin() as session:
        assert crud.inactive_youth_ids(session, long_ago + timedelta(days=1)) == ["Y-old"]
        assert crud.get_youth(session, "Y-old").version == 1


def test_territory_by_commune_or_departement(seeded):
    with seeded.begin() as session:
        metz = crud.get_mission_locale(session, "ML-METZ")
        nancy = crud.get_mission_locale(session, "ML-NANCY")
        assert crud.in_territory(metz, "57463") and not crud.in_territory(metz, "54395")
        assert crud.in_territory(nancy, "54395") and not crud.in_territory(nancy, "54001")
        assert not crud.in_territory(metz, None)
        assert nancy.territory == {"departements": [], "communes": ["54395"]}
