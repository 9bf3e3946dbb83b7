"""Synthetic data: deterministic, valid, marked synthetic, stereotyped like real life, no personal names."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from matching.profiles import parse_youth
from matching.synthetic import dataset as synthetic
from matching.synthetic.places import ESTABLISHMENTS_PATH, company_like
from matching.synthetic.wording import gendered

N_YOUTHS, N_VACANCIES, SEED = 400, 300, 11
# ``referential`` is the session fixture of conftest.py (the real referential, built once).


@pytest.fixture(scope="module")
def data(referential):
    return synthetic.generate(referential, n_youths=N_YOUTHS, n_vacancies=N_VACANCIES, seed=SEED)


def test_counts_and_progress(referential):
    steps = []
    small = synthetic.generate(
        referential,
        n_youths=5,
        n_vacancies=7,
        seed=1,
        on_progress=lambda step, done, total: steps.append((step, done, total)),
    )
    assert len(small.youths) == 5 and len(small.vacancies) == 7
    assert [done for _, done, _ in steps] == list(range(1, len(steps) + 1))
    assert steps[-1][1] == steps[-1][2]


def test_same_seed_same_bytes(referential, data, tmp_path):
    again = synthetic.generate(referential, n_youths=N_YOUTHS, n_vacancies=N_VACANCIES, seed=SEED)
    synthetic.save(data, tmp_path / "a")
    synthetic.save(again, tmp_path / "b")
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "b").iterdir())
    assert not [n for n in names if n.endswith(".tmp")]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_other_seed_other_data(referential, data):
    other = synthetic.generate(
        referential, n_youths=N_YOUTHS, n_vacancies=N_VACANCIES, seed=SEED + 1
    )
    assert [v.code_rome for v in other.vacancies] != [v.code_rome for v in data.vacancies]


def test_every_youth_is_a_valid_profile(referential, data):
    for profile in data.youths:
        youth, _ = parse_youth(profile, referential, synthetic=True)
        assert youth.id == profile["id"] and youth.synthetic
        assert 16 <= (youth.age or 16) <= 25
        assert youth.experiences or youth.interests or youth.wished_trades
    assert len({y["id"] for y in data.youths}) == len(data.youths)


def test_metz_mission_locale(data, referential):
    missions = {m.code: m for m in data.missions_locales}
    assert len(missions) >= 4
    metz = missions["ML-METZ"]
    assert metz.name == "Mission Locale du Pays Messin"
    assert metz.centre.commune_insee == "57463" and "57463" in metz.communes
    assert set(referential.communes.loc[list(metz.communes), "departement"]) == {"57"}
    assert {y["mission_locale"] for y in data.youths} <= set(missions)
    for profile in data.youths:
        assert profile["commune_insee"] in missions[profile["mission_locale"]].communes


def test_metz_employers_are_real_and_never_named_after_a_person(data):
    raw = pd.read_csv(ESTABLISHMENTS_PATH, dtype=str, keep_default_na=False)
    metz = [e for e in data.employers if not e.siret.startswith("SYN")]
    assert len(metz) == len(raw)
    assert all(re.fullmatch(r"\d{14}", e.siret) for e in metz)
    assert {e.siret for e in metz} == set(raw["siret"])
    personal = raw.loc[
        (raw["enseigne"].str.strip() == "") & ~raw["raisonsociale"].map(company_like)
    ]
    assert len(personal) > 100
    names = {e.siret: e.name for e in metz}
    for siret, legal in zip(personal["siret"], personal["raisonsociale"], strict=True):
        assert names[siret] != legal and legal not in names[siret]
    # A sign that repeats a sole trader's name ("JACQUELINE CHAMPLON") is not shown either.
    assert all(e.name != "JACQUELINE CHAMPLON" for e in metz)


def test_generated_employers_cannot_pass_for_real_ones(data):
    generated = [e for e in data.employers if e.siret.startswith("SYN")]
    assert generated and all(len(e.siret) == 14 and not e.siret.isdigit() for e in generated)


def test_vacancies_use_real_cards_and_realistic_values(data, referential):
    assert all(referential.has_card(v.code_rome) for v in data.vacancies)
    contracts = {v.contract for v in data.vacancies}
    assert {"apprentissage", "CDD", "CDI"} <= contracts
    assert all(1 <= v.places <= 3 and v.start_date >= data.reference_date for v in data.vacancies)
    sentences = [v.description.count(". ") + 1 for v in data.vacancies]
    assert min(sentences) >= 2
    given = np.mean([data.rome_given[v.id] for v in data.vacancies])
    assert 0.8 < given < 0.97
    assert np.mean([v.beginners_accepted for v in data.vacancies]) > 0.6


def test_wishes_are_as_gender_stereotyped_as_real_life(referential, data):
    share_women = referential.cards["share_women"]

    def mean_share(gender):
        values = [
            share_women[code]
            for y in data.youths
            if y["gender"] == gender
            for code in data.wished_codes[y["id"]]
        ]
        return np.nanmean(values)

    assert mean_share("F") > mean_share("M") + 0.25


def test_not_stated_gender_is_present(data):
    genders = [y["gender"] for y in data.youths]
    assert genders.count(None) >= 0.03 * len(genders)
    assert genders.count("F") > 0.35 * len(genders) and genders.count("M") > 0.35 * len(genders)


def test_everything_is_marked_synthetic(data, tmp_path):
    assert all(m.synthetic for m in data.missions_locales)
    assert all(e.synthetic for e in data.employers)
    assert all(v.synthetic and v.employer.synthetic for v in data.vacancies)
    assert all(y["id"].startswith("SYN-") for y in data.youths)
    synthetic.save(data, tmp_path)
    manifest = pd.read_json(tmp_path / "manifest.json", typ="series")
    assert manifest["synthetic"] is True or manifest["synthetic"] == True  # noqa: E712
    assert manifest["counts"]["youths"] == N_YOUTHS
    for name in ("employers.parquet", "vacancies.parquet", "youth_wishes.parquet"):
        assert pd.read_parquet(tmp_path / name)["synthetic"].all()
    assert '"synthetic": true' in (tmp_path / "missions_locales.json").read_text(encoding="utf-8")


def test_save_load_round_trip(data, tmp_path):
    synthetic.save(data, tmp_path)
    loaded = synthetic.load(tmp_path)
    assert loaded.missions_locales == data.missions_locales
    assert loaded.employers == data.employers
    assert loaded.vacancies == data.vacancies
    assert loaded.youths == data.youths
    assert loaded.rome_given == data.rome_given
    assert loaded.wished_codes == data.wished_codes
    assert loaded.seed == SEED and loaded.reference_date == data.reference_date


def test_load_refuses_a_folder_without_manifest(tmp_path):
    with pytest.raises(FileNotFoundError, match="generate"):
        synthetic.load(tmp_path)


@pytest.mark.parametrize(
    ("label", "gender", "expected"),
    [
        ("Boulanger / Boulangère", "F", "Boulangère"),
        ("Conducteur / Conductrice d'engins agricoles", "M", "Conducteur d'engins agricoles"),
        ("Conducteur / Conductrice d'engins agricoles", "F", "Conductrice d'engins agricoles"),
        ("Instructeur sportif / Instructrice sportive", "F", "Instructrice sportive"),
        ("Instructeur sportif / Instructrice sportive", "M", "Instructeur sportif"),
        ("Je suis passionné / passionnée par la cuisine", "F", "Je suis passionnée par la cuisine"),
        ("J'ai l'âme d'un chef / d'une cheffe", "F", "J'ai l'âme d'une cheffe"),
        ("Secrétaire d'édition", "F", "Secrétaire d'édition"),
    ],
)
def test_gendered_forms(label, gender, expected):
    assert gendered(label, gender) == expected


def test_company_words():
    assert company_like("SARL DUPONT") and company_like("ASSOCIATION PIVOD MOSELLE")
    assert not company_like("CHAMPLON JACQUELINE") and not company_like("TABARY MARC")
