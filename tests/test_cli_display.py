"""What the CLI shows people (real model, the session's data home): positions without raw
scores, one rounded distance, French sector families, candidate cards with matched skills, and
``data generate`` that never replaces data silently."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from matching.recommend import ranking
from service import cli
from service.cli import common as cli_common
from service.config import get_settings
from service.output import SECTOR_FAMILY_LABELS

pytestmark = pytest.mark.model
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "youth.json"
RAW_SCORE = re.compile(r"\(\d\.\d\d\)")


@pytest.fixture()
def invoke(engine_home, monkeypatch):
    monkeypatch.setenv("PASSERELLE_HOME", str(engine_home.home))
    monkeypatch.setenv("PASSERELLE_MODEL", "use")
    get_settings.cache_clear()
    monkeypatch.setattr(cli_common, "_WORKSPACE", engine_home)
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli.app, list(args))
    get_settings.cache_clear()


def test_suggest_shows_positions_french_families_and_one_distance(invoke):
    text = invoke("suggest", "--profile", str(EXAMPLE), "--top-k", "5").stdout
    document = json.loads(invoke("suggest", "--profile", str(EXAMPLE), "--top-k", "5", "--json").stdout)
    assert not RAW_SCORE.search(text)
    assert re.search(r"^ 1\. ", text, re.M) and re.search(r"^ 5\. ", text, re.M)
    assert all(0 <= t["score"] <= 1 for t in document["trades"])
    for vacancy in document["vacancies"]:
        said = ranking.distance_text(vacancy["distance_km"])
        assert f"à {said}" in vacancy["reasons"]  # the reason says what the header says
        assert f", {said}  [{vacancy['vacancy_id']}]" in text
        family = vacancy["employer"]["sector_family"]
        assert family in SECTOR_FAMILY_LABELS and f"({SECTOR_FAMILY_LABELS[family]})" in text
    assert "(other)" not in text and "(liberal)" not in text


def test_candidates_cards_show_matched_skills(invoke, engine_home):
    engine = engine_home.loaded_engine
    vacancy_ids = [v.id for v in engine.vacancies.vacancies[:40]]
    document = None
    for vacancy_id in vacancy_ids:
        document = json.loads(invoke("candidates", "--vacancy", vacancy_id, "--json").stdout)
        if any(c["card"]["skills"] for c in document["candidates"]):
            break
    assert document is not None and any(c["card"]["skills"] for c in document["candidates"])
    text = invoke("candidates", "--vacancy", document["vacancy"]["vacancy_id"]).stdout
    assert not RAW_SCORE.search(text)
    assert text.count("      compétences : ") == len(document["candidates"])
    shown = next(c["card"]["skills"] for c in document["candidates"] if c["card"]["skills"])
    assert "compétences : " + ", ".join(shown) in text


def test_data_generate_refuses_to_replace_the_demo(invoke, engine_home):
    manifest = engine_home.demo_dir / "manifest.json"
    before = manifest.stat().st_mtime_ns
    result = invoke("data", "generate", "--youths", "10", "--vacancies", "10")
    assert result.exit_code == 2 and "--replace" in result.stderr
    assert manifest.stat().st_mtime_ns == before


def test_data_generate_out_refuses_a_folder_with_data(invoke, tmp_path):
    (tmp_path / "keep.txt").write_text("x")
    result = invoke("data", "generate", "--youths", "10", "--vacancies", "10", "--out", str(tmp_path))
    assert result.exit_code == 2 and "--replace" in result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]
    fresh = tmp_path / "new"
    result = invoke("data", "generate", "--youths", "10", "--vacancies", "10", "--out", str(fresh))
    assert result.exit_code == 0, result.stderr
    assert (fresh / "manifest.json").exists()
    again = invoke("data", "generate", "--youths", "10", "--vacancies", "10", "--out", str(fresh), "--replace")
    assert again.exit_code == 0, again.stderr
