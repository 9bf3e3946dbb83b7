"""Erasure: nothing mentions the youth afterwards; anonymous counts stay."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from store_factories import dump_database, youth_profile

from matching.errors import UnknownId
from matching.types import stable_key
from service.store import crud
from service.store.erasure import MEASURES
from service.store.models import AuditLine, IndicatorCount, Outcome

VACANCY_ITEM = {
    "item_kind": "vacancy",
    "item_id": "V-1",
    "score": 0.9,
    "sector_family": "artisanat",
    "employer_siret": "12345678900011",
    "non_traditional": False,
}
TRADE_ITEM = {"item_kind": "trade", "item_id": "F1703", "score": 0.7, "non_traditional": True}


def make_history(sessions, youth_id: str, external_id: str) -> None:
    """A youth with two suggestions, outcomes on the vacancy, and audit lines."""
    with sessions.begin() as session:
        key, _ = crud.create_api_key(session, "adviser", "ML-METZ")
        youth = crud.create_youth(session, youth_profile(youth_id, external_id=external_id))
        crud.audit(session, key, "create", "youth", youth_id)
        vacancy, _trade = crud.add_suggestions(
            session,
            youth,
            [VACANCY_ITEM, TRADE_ITEM],
            policy={"mix": "balance"},
            engine_version="0.1.0",
        )
        crud.add_outcome(session, vacancy.id, "contacted")
        crud.add_outcome(session, vacancy.id, "applied")
        crud.add_outcome(session, vacancy.id, "hired")
        crud.audit(session, key, "read_suggestions", "youth", youth_id)


def counts(sessions) -> dict[tuple, dict[str, int]]:
    with sessions.begin() as session:
        rows = session.scalars(select(IndicatorCount)).all()
        return {
            (
                r.mission_locale,
                r.gender_group,
                r.item_kind,
                r.sector_family,
                r.non_traditional,
                r.employer_siret,
            ): {
                "youths": r.youths,
                "suggestions": r.suggestions,
                "contacted": r.contacted,
                "applied": r.applied,
                "hired": r.hired,
                "declined": r.declined,
            }
            for r in rows
        }


def test_erasure_leaves_no_row_mentioning_the_youth(seeded, engine):
    make_history(seeded, "Y-alice-7f3a", "DOSSIER-ALICE-77")
    make_history(seeded, "Y-bob-1c2d", "DOSSIER-BOB-88")
    before = dump_database(engine)
    assert "Y-alice-7f3a" in before and "DOSSIER-ALICE-77" in before
    with seeded.begin() as session:
        pseudonym = crud.erase_youth(session, "Y-alice-7f3a", actor=None)
    after = dump_database(engine)
    assert "Y-alice-7f3a" not in after and "DOSSIER-ALICE-77" not in after
    assert "Y-bob-1c2d" in after  # the other youth is untouched
    with seeded.begin() as session:
        lines = session.scalars(select(AuditLine).where(AuditLine.object_id == pseudonym)).all()
        assert [line.action for line in lines] == ["create", "read_suggestions", "erase"]
        assert pseudonym.startswith("erased-") and "alice" not in pseudonym
        with pytest.raises(UnknownId):
            crud.get_youth(session, "Y-alice-7f3a")
        # the index log keeps only the int64 key, until a snapshot covers the delete
        change = crud.changes_since(session, 0)[-1]
        assert (change.op, change.object_id, change.object_key) == (
            "delete",
            None,
            stable_key("Y-alice-7f3a"),
        )
        assert crud.prune_tombstones(session, change.generation) == 1
    assert str(stable_key("Y-alice-7f3a")) not in dump_database(engine)


def test_erasure_keeps_anonymous_counts_and_merges_groups(seeded):
    make_history(seeded, "Y-alice", "D-1")
    make_history(seeded, "Y-claire", "D-2")
    with seeded.begin() as session:
        crud.erase_youth(session, "Y-alice")
    vacancy_group = ("ML-METZ", "F", "vacancy", "artisanat", False, "12345678900011")
    trade_group = ("ML-METZ", "F", "trade", "", True, "")
    once = counts(seeded)
    assert once[vacancy_group] == {
        "youths": 1,
        "suggestions": 1,
        "contacted": 1,
        "applied": 1,
        "hired": 1,
        "declined": 0,
    }
    assert once[trade_group] == {
        "youths": 0,
        "suggestions": 1,
        "contacted": 0,
        "applied": 0,
        "hired": 0,
        "declined": 0,
    }
    with seeded.begin() as session:
        crud.erase_youth(session, "Y-claire")
    twice = counts(seeded)
    assert len(twice) == 2  # the second erasure added to the same rows
    assert twice[vacancy_group] == {
        "youths": 2,
        "suggestions": 2,
        "contacted": 2,
        "applied": 2,
        "hired": 2,
        "declined": 0,
    }
    assert twice[trade_group]["suggestions"] == 2


def test_counts_use_the_month_and_the_gender_group(seeded):
    with seeded.begin() as session:
        youth = crud.create_youth(session, youth_profile("Y-x", gender=None))
        (suggestion,) = crud.add_suggestions(
            session, youth, [TRADE_ITEM], policy={}, engine_version="t"
        )
        suggestion.created_at = datetime(2026, 3, 31, 23, 0, tzinfo=UTC)
        outcome = crud.add_outcome(session, suggestion.id, "declined", reason="transport_distance")
        outcome.created_at = datetime(2026, 4, 2, tzinfo=UTC)
        # a decline stored before reasons were codes (free text): counted, under no reason
        session.add(Outcome(suggestion_id=suggestion.id, status="declined", reason="trop loin",
                            created_at=datetime(2026, 4, 3, tzinfo=UTC)))
    with seeded.begin() as session:
        crud.erase_youth(session, "Y-x")
        rows = session.scalars(select(IndicatorCount).order_by(IndicatorCount.period)).all()
        assert [(r.period, r.gender_group, r.youths, r.suggestions, r.declined,
                 r.declined_transport_distance, r.declined_other) for r in rows] == [
            ("2026-03", "not_stated", 1, 1, 0, 0, 0),
            ("2026-04", "not_stated", 0, 0, 2, 1, 0),
        ]


def test_every_counted_measure_has_its_column():
    assert all(hasattr(IndicatorCount, name) for name in MEASURES)


def test_erasing_an_unknown_youth_raises(seeded):
    with pytest.raises(UnknownId), seeded.begin() as session:
        crud.erase_youth(session, "Y-nobody")
