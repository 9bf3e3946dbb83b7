"""Vacancy title -> ROME: title cleaning, the inference path, ``passerelle trades infer``, the
API's inferred code and the offers benchmark (on offers written here, never the real ones)."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from api_fixtures import api, shared_api  # noqa: F401  (fixtures of tests/api, reused)
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from matching.errors import PasserelleError
from matching.search.title_clean import clean_title
from matching.search.titles import (
    InferSettings,
    card_parents,
    combine_scores,
    domain_scores,
    infer_rome,
    sibling_max,
)
from service import cli
from service.cli import common as cli_common
from service.config import get_settings
from service.vacancy_rome import infer_code, infer_codes

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ cleaning (pure)
@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("ADMINISTRATEUR SYSTÈME MCO - H/F", "administrateur système mco"),
        ("Ripeur / Ripeuse (H/F)2024  (H/F)", "ripeur / ripeuse"),
        ("agent entretien H/F - EC20911", "agent entretien"),
        ("Technicien dératiseur itinérant (h/f) (h/f/d)", "technicien dératiseur"),
        ("Technicien Assainissement et Hygiène  (F-H-X) (H/F)", "technicien assainissement et hygiène"),
        ("Administrateur Systèmes Réseaux N2 - N3 (H/F)", "administrateur systèmes réseaux"),
        ("Resp. magasin CDI", "responsable magasin"),
        ("Agt de collecte Senior", "agent de collecte"),
        ("Expert.e Fonctionnel.le F/H", "expert fonctionnel"),
        ("Administrateur/trice Bases de données H/F", "administrateur bases de données"),
        ("Senior Software Engineer", "logiciel ingénieur"),
        ("DBA confirmé PostgreSQL", "administrateur de bases de données postgresql"),
        ("ASH (H/F)", "agent de service hospitalier"),
        ("Maçon Alternance (H/F)", "maçon"),
        ("(H/F)", ""),
    ],
)
def test_clean_title_known_answers(title, expected):
    assert clean_title(title) == expected


TITLE_ALPHABET = st.sampled_from(
    list("abcdefhé ()/-.:|'") + ["H/F", "(H/F)", "F/H", " CDI ", " senior ", "Resp.", " dev ",
                                 "EC2125", " N2 ", "Agent", "(e)", ".e", "/trice", "DBA", " - "]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(TITLE_ALPHABET, max_size=14).map("".join))
def test_clean_title_is_idempotent_and_removes_gender_marks(title):
    cleaned = clean_title(title)
    assert clean_title(cleaned) == cleaned
    for mark in (" (H/F)", " H/F", " - F/H", " (h/f/d)", " (F-H-X)"):
        assert clean_title(cleaned + mark) == cleaned
    assert cleaned == cleaned.strip() and "  " not in cleaned


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_clean_title_never_fails_and_is_idempotent_on_any_text(title):
    cleaned = clean_title(title)
    assert clean_title(cleaned) == cleaned


# ------------------------------------------------------------------ scoring steps (pure)
def test_sibling_max_gives_each_card_its_best_siblings_score():
    scores = np.array([[0.9, 0.2, 0.5, 0.4], [0.1, 0.3, 0.2, 0.8]], dtype=np.float32)
    parents = np.array(["A", "A", "A", "B"])
    out = sibling_max(scores, parents)
    np.testing.assert_allclose(out[:, :3], [[0.5, 0.9, 0.9], [0.3, 0.2, 0.3]])
    assert np.isneginf(out[:, 3]).all()  # a card without a sibling


def test_domain_scores_average_each_domains_best_cards():
    scores = np.array([[1.0, 3.0, 2.0, 7.0]], dtype=np.float32)
    out = domain_scores(scores, np.array(["X", "X", "X", "Y"]), top=2)
    np.testing.assert_allclose(out, [[2.5, 2.5, 2.5, 7.0]])


def test_combine_scores_lifts_a_sibling_without_overtaking_the_best_card():
    parts = {"lex_app": np.array([[1.0, 0.1, 0.3]], np.float32),
             "sem_app": np.array([[1.0, 0.1, 0.3]], np.float32),
             "svm": np.zeros((1, 3), np.float32)}
    parents = np.array(["P", "P", "Q"])
    plain = combine_scores(parts, None, None, InferSettings(sibling=0.0))
    lifted = combine_scores(parts, None, parents, InferSettings(sibling=0.6))
    assert plain.argsort()[0].tolist() == [1, 2, 0]
    assert lifted.argsort()[0].tolist() == [2, 1, 0] and lifted[0, 0] == plain[0, 0]
    with pytest.raises(ValueError):
        InferSettings(lex=0.0, sem=0.0, svm=0.0)


# ------------------------------------------------------------------ the real model
OBVIOUS = [  # title, description, a code expected first
    ("Ripeur (H/F)", None, "K2303"),
    ("Boulanger / Boulangère CDI", None, "D1102"),
    ("Aide-soignant de nuit H/F - REF 1234", None, "J1501"),
    ("Agt entretien espaces verts", None, "A1203"),
    ("Chauffeur PL (H/F)", None, "N4101"),
    ("Comptable confirmé F/H - CDI", None, "M1203"),
    ("ASH (H/F)", None, "J1301"),
    ("Maçon Alternance (H/F)", None, "F1703"),
    ("Data Engineer Junior", None, "M1811"),
    ("Boulanger / boulangère", "Pétrissage, façonnage et cuisson du pain au levain", "D1102"),
]


@pytest.mark.model
@pytest.mark.parametrize(("title", "description", "code"), OBVIOUS)
def test_obvious_titles_get_their_card_first(engine, title, description, code):
    assert infer_code(engine, title, description) == code


@pytest.mark.model
def test_a_python_developer_is_a_software_developer_in_the_top_3(engine):
    codes = [item["code_rome"] for item in infer_codes(engine, ["Développeur Python (H/F)"], top_k=3)[0]]
    assert {"M1805", "M1855", "M1861"} & set(codes)


@pytest.mark.model
def test_a_batch_answers_as_one_vacancy_at_a_time(engine):
    searcher, parents = engine.trade_searcher, card_parents(engine.referential, engine.trade_searcher.codes_)
    titles = [t for t, _, _ in OBVIOUS[:4]]
    descriptions = ["Collecte des déchets ménagers", None, "", "Tonte, taille des haies"]
    batch = infer_rome(searcher, titles, descriptions, top_k=4, parents=parents)
    for row, (title, description) in enumerate(zip(titles, descriptions, strict=True)):
        one = infer_rome(searcher, [title], [description], top_k=4, parents=parents)
        np.testing.assert_array_equal(batch[0][row], one[0][0])
        np.testing.assert_allclose(batch[1][row], one[1][0], rtol=1e-5)
    assert (np.diff(batch[1], axis=1) <= 0).all()  # best first


@pytest.mark.model
def test_an_empty_title_is_refused(engine):
    with pytest.raises(PasserelleError) as error:
        infer_codes(engine, ["Ripeur", "  "])
    assert error.value.field == "title"


# ------------------------------------------------------------------ the command line
@pytest.fixture()
def cli_run(engine_home, monkeypatch):
    monkeypatch.setenv("PASSERELLE_HOME", str(engine_home.home))
    monkeypatch.setenv("PASSERELLE_MODEL", "use")
    get_settings.cache_clear()
    monkeypatch.setattr(cli_common, "_WORKSPACE", engine_home)
    runner = CliRunner()
    yield lambda *args: runner.invoke(cli.app, ["trades", "infer", *args])
    get_settings.cache_clear()


@pytest.mark.model
def test_cli_title_json_is_a_ranked_list_of_codes(cli_run):
    result = cli_run("--title", "Ripeur (H/F)", "--description", "Collecte des déchets", "--top-k", "4", "--json")
    assert result.exit_code == 0, result.stderr
    items = json.loads(result.stdout)
    assert len(items) == 4 and all(set(item) == {"code_rome", "label", "score"} for item in items)
    assert items[0]["code_rome"] == "K2303"
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)


@pytest.mark.model
def test_cli_input_answers_one_list_per_line_in_input_order(cli_run, tmp_path):
    lines = [{"title": "Maçon Alternance (H/F)"}, {"title": "Ripeur (H/F)", "description": "Collecte"},
             {"title": "Comptable confirmé F/H", "description": None}]
    path = tmp_path / "offers.jsonl"
    path.write_text("\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n", encoding="utf-8")
    result = cli_run("--input", str(path), "--top-k", "2", "--json")
    assert result.exit_code == 0, result.stderr
    lists = json.loads(result.stdout)
    assert [items[0]["code_rome"] for items in lists] == ["F1703", "K2303", "M1203"]
    assert all(len(items) == 2 for items in lists)
    single = json.loads(cli_run("--title", "Ripeur (H/F)", "--description", "Collecte", "--top-k", "2",
                                "--json").stdout)
    assert lists[1] == single
    text = cli_run("--input", str(path), "--top-k", "2").stdout
    assert "Ligne 2 : Ripeur (H/F)" in text and "1. Ripeur / Ripeuse (K2303)" in text


@pytest.mark.model
@pytest.mark.parametrize(
    ("args", "content", "message"),
    [
        ([], None, "--title"),
        (["--title", "  "], None, "intitulé vide"),
        (["--title", "Ripeur", "--top-k", "0"], None, "--top-k"),
        (["--title", "Ripeur", "--top-k", "101"], None, "--top-k"),
        (["--input", "{path}"], '{"title": "Ripeur"}\nnot json\n', "ligne 2"),
        (["--input", "{path}"], '{"title": "Ripeur"}\n{"description": "x"}\n', "ligne 2 : 'title'"),
        (["--input", "{path}"], '["Ripeur"]\n', "ligne 1"),
        (["--input", "{path}", "--description", "x"], '{"title": "Ripeur"}\n', "--description"),
        (["--input", "{path}"], "", "aucune offre"),
        (["--input", "/nonexistent/offers.jsonl"], None, "introuvable"),
    ],
)
def test_cli_errors_are_one_line_and_exit_2(cli_run, tmp_path, args, content, message):
    path = tmp_path / "offers.jsonl"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    result = cli_run(*[a.replace("{path}", str(path)) for a in args])
    assert result.exit_code == 2
    assert message in result.stderr and "(en: " in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


# ------------------------------------------------------------------ the API
@pytest.mark.model
def test_api_vacancy_without_code_gets_the_code_of_trades_infer(api):  # noqa: F811
    employer = {"siret": "90000000000041", "name": "Collectes de l'Est", "naf": "3811Z", "commune_insee": "57463"}
    assert api.client.post("/v1/employers", json=employer, headers=api.as_("er")).status_code == 201
    title, description = "RIPEUR / RIPEUSE H/F - REF EC2041", "Collecte des déchets ménagers en porte à porte"
    vacancy = {"employer_siret": employer["siret"], "title": title, "description": description,
               "contract": "CDI"}
    created = api.client.post("/v1/vacancies", json=vacancy, headers=api.as_("er"))
    assert created.status_code == 201, created.text
    expected = infer_code(api.client.app.state.live.recommender, title, description)
    assert created.json()["code_rome"] == expected == "K2303"
    assert created.json()["rome_inferred"] is True


# ------------------------------------------------------------------ the benchmark (written offers)
@pytest.mark.model
def test_offers_benchmark_runs_on_written_offers(engine_home, tmp_path):
    rows = [("Ripeur (H/F)", "K2303"), ("Eboueur H/F", "K2303"), ("Balayeur urbain", "K2307"),
            ("Agent de propreté urbaine CDI", "K2307")]
    with gzip.open(tmp_path / "written_K23.jsonl.gz", "wt", encoding="utf-8") as out:
        for title, code in rows:
            out.write(json.dumps({"intitule": title, "description": "", "romeCode": code}) + "\n")
    env = {**os.environ, "PASSERELLE_HOME": str(engine_home.home), "PASSERELLE_MODEL": "use"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.quality.offers", "--offers-dir", str(tmp_path),
         "--out", str(tmp_path / "out.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert result["n_offers"] == 4 and result["domains"] == ["K23"]
    assert result["systems"]["infer"]["pooled"]["r1"] == 1.0
    assert result["systems"]["mode"]["pooled"]["r5"] == result["systems"]["mode"]["pooled"]["r1"] == 0.5
    assert {row["code_rome"] for row in result["per_code"]} == {"K2303", "K2307"}
    assert "| infer |" in done.stdout


def test_current_gold_reads_only_split_out_cards_no_offer_is_coded_with():
    import pandas as pd

    from benchmarks.quality.offers import current_gold

    codes = np.array(["K2303", "K2318", "M1801", "M1854", "M1894"])
    parents = np.array(["K2303", "K2303", "M1801", "M1801", "M1801"])
    referential = type("Ref", (), {"appellations": pd.DataFrame({
        "label": ["Gardien / Gardienne de déchetterie", "Administrateur / Administratrice réseau informatique",
                  "Ripeur / Ripeuse", "Gestionnaire de base de données"],
        "code_rome": ["K2318", "M1854", "K2303", "M1894"]})})()
    offers = [{"romeCode": "K2303", "appellationlibelle": "Gardien / Gardienne de déchetterie "},
              {"romeCode": "M1801", "appellationlibelle": "Administrateur / Administratrice réseau informatique"},
              {"romeCode": "M1854", "appellationlibelle": "Administrateur / Administratrice réseau informatique"},
              {"romeCode": "K2303", "appellationlibelle": "Ripeur / Ripeuse"},
              {"romeCode": "K2303", "appellationlibelle": "Gestionnaire de base de données"},
              {"romeCode": "K2303"}]
    gold = np.searchsorted(codes, [offer["romeCode"] for offer in offers])
    remapped, moves = current_gold(offers, referential, codes, parents, gold)
    # moved: only the split-out card that no offer is coded with (K2318); M1854 is coded by an
    # offer (it existed for the coders), M1894's parent is not K2303, no appellation: kept
    assert codes[remapped].tolist() == ["K2318", "M1801", "M1854", "K2303", "K2303", "K2303"]
    assert moves == {"K2303 -> K2318": 1}
