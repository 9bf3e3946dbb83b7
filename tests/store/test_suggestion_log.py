"""The suggestion log (issue #15): features, labels, simulated rows, exposure, migration 0007."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import inspect, select
from store_factories import vacancy_fields, youth_profile

from matching.learn.features import VACANCY_FEATURES
from service.live.learning import ExposureCache
from service.store import crud
from service.store.db import alembic_config, upgrade
from service.store.indicator_series import monthly_indicators
from service.store.indicators import indicators
from service.store.models import IndicatorCount, Share, Suggestion, Youth
from service.store.suggestion_log import (
    LOG_COLUMNS,
    exposure_counts,
    read_log,
    read_parquet,
    shown_to,
    write_parquet,
)

MARCH = datetime(2026, 3, 10, 9, 30, tzinfo=UTC)


def features(value: float) -> dict[str, float]:
    return {name: value for name in VACANCY_FEATURES}


def vacancy_item(vacancy_id: str, value: float) -> dict:
    return {"item_kind": "vacancy", "item_id": vacancy_id, "score": 0.9, "sector_family": "artisanat",
            "employer_siret": "12345678900011", "non_traditional": False, "features": features(value)}


TRADE = {"item_kind": "trade", "item_id": "F1703", "score": 0.7, "non_traditional": True,
         "features": {"trade": 0.7}}


def serve(session, youth, items, *, at=MARCH, simulated=False, model_version=None) -> list[Suggestion]:
    return crud.add_suggestions(session, youth, items, policy={"mix": "balanced"}, engine_version="t",
                                simulated=simulated, model_version=model_version, created_at=at)


@pytest.fixture
def logged(seeded):
    """Y-alice: one document (a trade, then vacancies V-1 and V-2) in March with outcomes on
    V-1 (contacted, hired) and V-2 (declined); a second list in April, V-2 with an immersion."""
    with seeded.begin() as session:
        crud.create_vacancy(session, vacancy_fields("V-2"))
        youth = crud.create_youth(session, youth_profile("Y-alice"))
        _trade, v1, v2 = serve(session, youth, [TRADE, vacancy_item("V-1", 0.5), vacancy_item("V-2", 0.25)],
                               model_version="m-1")
        crud.add_outcome(session, v1.id, "contacted")
        crud.add_outcome(session, v1.id, "hired")
        crud.add_outcome(session, v2.id, "declined", "employer_declined")
        (again,) = serve(session, youth, [vacancy_item("V-2", 0.75)], at=MARCH + timedelta(days=30))
        crud.add_outcome(session, again.id, "immersion")
    return seeded


def test_read_log_has_features_graded_labels_and_shown_ranks(logged, tmp_path):
    with logged() as session:
        frame = read_log(session)
    assert list(frame.columns) == [*LOG_COLUMNS, *VACANCY_FEATURES]
    assert frame["item_kind"].tolist() == ["trade", "vacancy", "vacancy", "vacancy"]
    assert frame["label"].tolist() == [0, 3, 0, 2]  # hired beats contacted; declined 0; immersion 2
    assert frame["rank"].tolist() == [1, 1, 2, 1]  # within each list, not over the document
    lists = frame["list_id"].tolist()
    assert lists[1] == lists[2] != lists[3] and lists[0] != lists[1] and lists[0][:-2] == lists[1][:-2]
    assert frame["model_version"].fillna("").tolist() == ["", "m-1", "m-1", ""]
    assert frame["semantic"].tolist()[1:] == [0.5, 0.25, 0.75]
    assert np.isnan(frame.loc[0, "semantic"]) and np.isnan(frame["propensity"]).all()
    assert not frame["simulated"].any()
    path = write_parquet(frame, tmp_path / "log.parquet")
    back = read_parquet(path)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)


def test_read_log_filters_by_date_mission_locale_and_simulation(logged):
    with logged.begin() as session:
        youth = crud.get_youth(session, "Y-alice")
        serve(session, youth, [vacancy_item("V-1", 0.1)], simulated=True)
    with logged() as session:
        assert len(read_log(session)) == 5
        assert len(read_log(session, include_simulated=False)) == 4
        assert len(read_log(session, until=MARCH + timedelta(days=1))) == 4
        assert len(read_log(session, since=MARCH + timedelta(days=1))) == 1
        assert len(read_log(session, mission_locale="ML-NANCY")) == 0
        assert read_log(session, item_kind="vacancy")["item_kind"].eq("vacancy").all()
        graded = read_log(session, grades={"immersion": 5})
    assert graded["label"].tolist()[-1] == 5 and sorted(graded["label"]) == [0, 0, 0, 0, 5]  # April last


def test_simulated_rows_and_outcomes_are_left_out_of_the_indicators(logged):
    def figures():
        with logged() as session:
            document = indicators(session, mission_locale="ML-METZ", start=None, end=None)
            series = monthly_indicators(session, mission_locale="ML-METZ", start=date(2026, 3, 1),
                                        end=date(2026, 4, 30))
        document.pop("generated_at"), series.pop("generated_at")
        return document, series

    before = figures()
    with logged.begin() as session:
        youth = crud.create_youth(session, youth_profile("Y-sim", gender="F", external_id="D-sim"))
        for row in serve(session, youth, [TRADE, vacancy_item("V-1", 0.3)], simulated=True):
            crud.add_outcome(session, row.id, "hired")
    assert figures() == before
    with logged.begin() as session:  # nor do they become anonymous counts when erased
        crud.erase_youth(session, "Y-sim", None)
    with logged() as session:
        assert session.scalars(select(IndicatorCount)).all() == []
    assert figures() == before


def test_erasure_removes_the_youths_log_rows(logged):
    with logged.begin() as session:
        crud.erase_youth(session, "Y-alice", None)
    with logged() as session:
        assert read_log(session).empty
        assert session.scalars(select(Suggestion)).all() == []
        counts = session.scalars(select(IndicatorCount)).all()
    assert sum(c.suggestions for c in counts) == 4 and sum(c.hired for c in counts) == 1


def test_exposure_counts_youths_shown_in_the_window_and_shares(logged):
    with logged.begin() as session:
        bob = crud.create_youth(session, youth_profile("Y-bob", external_id="D-bob"))
        serve(session, bob, [vacancy_item("V-1", 0.1)], at=MARCH + timedelta(days=29))
        serve(session, bob, [vacancy_item("V-1", 0.1)], at=MARCH + timedelta(days=29))  # a reload
        session.add(Share(youth_id="Y-bob", vacancy_id="V-2", created_at=MARCH + timedelta(days=29)))
    since = MARCH + timedelta(days=20)
    with logged() as session:
        # V-1: Bob once (Alice's March list is older); V-2: Alice's April list + Bob's share
        assert exposure_counts(session, since) == {"V-1": 1, "V-2": 2}
        assert exposure_counts(session, MARCH - timedelta(days=1)) == {"V-1": 2, "V-2": 2}
        assert shown_to(session, "Y-alice", since) == {"V-2"}


@pytest.mark.parametrize("background", [False, True])
def test_exposure_cache_reads_the_log_again_after_its_ttl(logged, background):
    now = [0.0]
    cache = ExposureCache(logged, days=10_000, ttl_s=60, clock=lambda: now[0], background=background)
    assert cache.counts() == {"V-1": 1, "V-2": 1}
    with logged.begin() as session:
        serve(session, crud.create_youth(session, youth_profile("Y-bob", external_id="D-bob")),
              [vacancy_item("V-1", 0.1)])
    now[0] = 59.0
    assert cache.counts() == {"V-1": 1, "V-2": 1}  # cached
    now[0] = 60.0
    first = cache.counts()  # in the background: the old counts while the log is read again
    assert first == ({"V-1": 1, "V-2": 1} if background else {"V-1": 2, "V-2": 1})
    deadline = time.monotonic() + 10
    while cache.counts() != {"V-1": 2, "V-2": 1} and time.monotonic() < deadline:
        time.sleep(0.01)
    assert cache.counts() == {"V-1": 2, "V-2": 1}


def test_migration_0007_downgrades_and_upgrades(engine):
    from alembic import command

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("suggestions")}

    new = {"list_id", "features", "model_version", "propensity", "simulated"}
    assert new <= columns()
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, "0006")
    assert not new & columns()
    upgrade(engine, "0007")
    assert new <= columns()


def test_exposure_is_aligned_with_the_table_and_leaves_out_the_youths_own_shows(logged):
    from types import SimpleNamespace

    vacancies = tuple(SimpleNamespace(id=v) for v in ("V-0", "V-1", "V-2"))
    table = SimpleNamespace(vacancies=vacancies, rows={v.id: i for i, v in enumerate(vacancies)})
    cache = ExposureCache(logged, days=10_000, background=False)
    assert cache.for_table(table).tolist() == [0, 1, 1]
    assert cache.for_table(table) is cache.for_table(table)  # kept per table
    assert cache.for_youth(table, {"V-2", "V-9"}).tolist() == [0, 1, 0]
    assert cache.for_table(table).tolist() == [0, 1, 1]  # the shared counts are untouched


def test_lists_served_between_two_reads_are_counted_as_the_next_read_counts_them(logged):
    from types import SimpleNamespace

    vacancies = tuple(SimpleNamespace(id=v) for v in ("V-0", "V-1", "V-2"))
    table = SimpleNamespace(vacancies=vacancies, rows={v.id: i for i, v in enumerate(vacancies)})
    cache = ExposureCache(logged, days=10_000, ttl_s=3600, background=False)
    held = cache.for_table(table)
    assert held.tolist() == [0, 1, 1]
    with logged.begin() as session:  # Bob, never shown anything, is served V-0 and V-1
        bob = crud.create_youth(session, youth_profile("Y-bob", external_id="D-bob"))
        serve(session, bob, [vacancy_item("V-0", 0.2), vacancy_item("V-1", 0.1)])
    cache.shown(["V-0", "V-1", "V-0"], own=set())
    with logged.begin() as session:  # Alice, already shown V-2, is served V-2 and V-0 again
        own = shown_to(session, "Y-alice", datetime(2000, 1, 1, tzinfo=UTC))
        serve(session, session.get(Youth, "Y-alice"), [vacancy_item("V-2", 0.2), vacancy_item("V-0", 0.1)])
    cache.shown(["V-2", "V-0"], own=own)
    assert cache.for_table(table).tolist() == [2, 2, 1]
    assert held.tolist() == [0, 1, 1]  # a list holding the old array keeps it
    with logged() as session:
        assert cache.counts() == exposure_counts(session, datetime(2000, 1, 1, tzinfo=UTC))  # the log, read again
    cache.invalidate()
    assert cache.for_table(table).tolist() == [2, 2, 1]
