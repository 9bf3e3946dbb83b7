"""The CLI end to end on the session's data home (real default model, synthetic data)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import cli
from service.cli import common as cli_common
from service.config import get_settings

pytestmark = pytest.mark.model
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "youth.json"
TRADE_KEYS = {"code_rome", "label", "score", "reasons", "share_women", "band"}
VACANCY_KEYS = {"vacancy_id", "title", "code_rome", "employer", "distance_km", "contract", "score",
                "score_parts", "reasons"}


@pytest.fixture()
def run(engine_home, monkeypatch):
    monkeypatch.setenv("PASSERELLE_HOME", str(engine_home.home))
    monkeypatch.setenv("PASSERELLE_MODEL", "use")
    get_settings.cache_clear()
    monkeypatch.setattr(cli_common, "_WORKSPACE", engine_home)
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(cli.app, list(args))
        assert result.exit_code == 0, result.stderr
        return result

    yield invoke
    get_settings.cache_clear()


def test_trades_search_json_puts_bakery_first(run):
    items = json.loads(run("trades", "search", "je veux travailler avec du pain", "--json").stdout)
    assert items[0]["code_rome"] == "D1102"
    assert all(TRADE_KEYS <= set(item) for item in items)
    assert all(isinstance(r, str) for item in items for r in item["reasons"])


def test_suggest_json_document(run):
    document = json.loads(run("suggest", "--profile", str(EXAMPLE), "--top-k", "5", "--json").stdout)
    assert set(document) >= {"trades", "vacancies", "synthetic"}
    assert document["synthetic"] is bool(document["vacancies"])  # the example youth is real-shaped
    assert len(document["trades"]) == 5 and len(document["vacancies"]) <= 5
    assert all(TRADE_KEYS <= set(t) for t in document["trades"])
    assert all(VACANCY_KEYS <= set(v) for v in document["vacancies"])
    assert all(set(v["employer"]) >= {"name", "sector_family"} for v in document["vacancies"])
    assert document["policy"]["trades"]["mix"] == "balanced"


def test_suggest_counter_stereotype_names_its_policy(run):
    out = run("suggest", "--profile", str(EXAMPLE), "--mix", "counter_stereotype", "--json").stdout
    document = json.loads(out)
    assert document["policy"]["trades"]["mix"] == "counter_stereotype"
    non_traditional = [t for t in document["trades"] if t["share_women"] is not None and t["share_women"] < 0.4]
    assert len(non_traditional) >= 2  # the example youth is "F"


def test_candidates_json_pseudonymises_without_consent(run, engine_home):
    """A vacancy whose shortlist holds youths who did not consent to sharing: every card is the
    API's card before a share (a keyed candidate_ref, two letters, age, commune, skills; no id,
    gender, diploma level, free text or external id)."""
    from service.output import CARD_FIELDS
    from service.pseudonym import candidate_ref, pseudonym_key

    engine = engine_home.loaded_engine
    consent = {y.id: y.consent_share for y in engine.youths.youths}
    vacancy_ids = [v.id for v in engine.vacancies.vacancies[:60]]
    results = engine.find_candidates(vacancy_ids, 10)
    vacancy_id = next(v for v, r in zip(vacancy_ids, results, strict=True)
                      if any(not consent[item.youth_id] for item in r.items))
    document = json.loads(run("candidates", "--vacancy", vacancy_id, "--json").stdout)
    assert document["policy"]["balance"] == "pool" and document["vacancy"]["vacancy_id"] == vacancy_id
    key = pseudonym_key(engine_home.settings)
    youth_of = {candidate_ref(key, vacancy_id, y): y for y in consent}
    hidden = [item["card"] for item in document["candidates"] if not consent[youth_of[item["candidate_ref"]]]]
    assert hidden, "the shortlist holds youths who did not consent"
    for item in document["candidates"]:
        assert "youth_id" not in item and set(item["card"]) == set(CARD_FIELDS)
        assert item["card"]["shared"] is False
        assert re.fullmatch(r"[A-Z]\. [A-Z]\.", item["card"]["initials"])


def test_unknown_vacancy_is_exit_2(engine_home, monkeypatch):
    monkeypatch.setattr(cli_common, "_WORKSPACE", engine_home)
    monkeypatch.setattr(cli_common, "get_settings", lambda: engine_home.settings)
    result = CliRunner().invoke(cli.app, ["candidates", "--vacancy", "NOPE", "--json"])
    assert result.exit_code == 2 and "NOPE" in result.stderr and result.stdout == ""
