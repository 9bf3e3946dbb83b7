"""Issue #12 end to end: the ``passerelle suggest --json`` document for realistic profiles.

The acceptance check of ``benchmarks/quality/realistic.py`` over its 22 Metz-area profiles, and
the named cases of the issue: "Préfet / Préfète" for a 17-year-old girl with no diploma who
likes fashion and make-up, "Ingénieur réservoir" for the example girl, "je sais pas", a
16-year-old and night work or driving, "Dresseur animalier" (53 % women) for a girl.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.quality import realistic
from matching.fairness.policies import TradeMix
from matching.profiles import parse_youth
from matching.recommend.access import first_diploma
from matching.recommend.thin import ASK_NEXT
from service.output import suggestions_for

pytestmark = pytest.mark.model
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "youth.json"
BASE = {"commune_insee": "57463", "contracts": [], "experiences": [], "wished_trades": []}


def _document(engine, referential, policy: str = "balanced", top_k: int = 10, **fields) -> dict:
    youth, _ = parse_youth({**BASE, "id": "t", **fields}, referential)
    return suggestions_for(engine, youth, top_k, TradeMix(policy=policy))


@pytest.mark.slow  # 22 profiles x 3 documents with reasons: minutes on 2 cores
def test_realistic_profiles_acceptance(engine, referential) -> None:
    result = realistic.run(engine, referential, realistic.load_profiles())
    counts = result["counts"]
    assert counts["profiles"] >= 20
    assert counts["cadre_unwished"] == 0, result["violations"]
    assert counts["outside_top50"] == 0, result["violations"]
    assert counts["minor_night_or_driving"] == 0, result["violations"]
    assert counts["mixite_wrong_band"] == 0, result["violations"]
    assert counts["thin"] >= 2  # "je sais pas" and "bof" at least


@pytest.mark.parametrize("policy", ["balanced", "counter_stereotype"])
def test_no_prefet_for_a_young_fashion_lover_without_diploma(engine, referential, policy) -> None:
    document = _document(engine, referential, policy, age=17, gender="F", diploma_level="none",
                         interests="J'aime la mode, le maquillage et la coiffure")
    labels = [t["label"] for t in document["trades"]]
    assert not any(label.startswith("Préfet") for label in labels), labels
    assert not any(t["cadre"] for t in document["trades"]), labels
    assert all(t["access"] for t in document["trades"])


@pytest.mark.parametrize("policy", ["balanced", "counter_stereotype"])
def test_no_reservoir_engineer_for_the_example_girl(engine, referential, policy) -> None:
    youth, _ = parse_youth(json.loads(EXAMPLE.read_text()), referential)
    document = suggestions_for(engine, youth, 10, TradeMix(policy=policy))
    labels = [t["label"] for t in document["trades"]]
    assert not any("réservoir" in label for label in labels), labels
    assert not any(t["cadre"] for t in document["trades"]), labels


def test_je_sais_pas_is_a_thin_profile(engine, referential) -> None:
    document = _document(engine, referential, age=18, gender="M", diploma_level="none", interests="je sais pas")
    assert "thin_profile" in document["notes"]["trades"]
    assert document["ask_next"] == ASK_NEXT and len(document["ask_next"]) == 3
    labels = [t["label"] for t in document["trades"]]
    assert len(labels) == 10
    for noise in ("Nez", "Artiste de cirque", "Passementier"):
        assert not any(label.startswith(noise) for label in labels), labels
    cards = referential.cards
    assert not any(cards.at[t["code_rome"], "cadre"] or cards.at[t["code_rome"], "regulated"]
                   for t in document["trades"])
    # open trades for a beginner: no access text that first asks for bac+2 or more
    assert all(first_diploma(cards.at[t["code_rome"], "access"]) < 5 for t in document["trades"]), labels
    # one card per domain, unless a gender-band floor had to relax the cap
    assert len({cards.at[t["code_rome"], "code_domaine"] for t in document["trades"]}) >= 8


def test_a_profile_with_words_is_not_thin(engine, referential) -> None:
    document = _document(engine, referential, age=19, interests="La cuisine, la pâtisserie, le service en salle")
    assert "thin_profile" not in document["notes"]["trades"] and document["ask_next"] == []


@pytest.mark.parametrize("policy", ["off", "balanced"])
def test_a_16_year_old_gets_no_night_work_nor_driving(engine, referential, policy) -> None:
    document = _document(engine, referential, policy, top_k=30, age=16, gender="M", diploma_level="none",
                         interests="J'aime conduire, les camions, la route, travailler la nuit",
                         experiences=["Livraison à vélo", "Aide dans un entrepôt"])
    cards = referential.cards
    for trade in document["trades"]:
        code = trade["code_rome"]
        assert str(cards.at[code, "code_domaine"]) != "N41", trade["label"]
        assert not (cards.at[code, "night_work"] and not str(cards.at[code, "code_domaine"]).startswith(
            ("D11", "G15", "G16", "G17", "G18", "L1"))), trade["label"]
    adult = _document(engine, referential, policy, top_k=30, age=25, gender="M", diploma_level="none",
                      interests="J'aime conduire, les camions, la route, travailler la nuit",
                      experiences=["Livraison à vélo", "Aide dans un entrepôt"])
    assert any(str(cards.at[t["code_rome"], "code_domaine"]) == "N41" for t in adult["trades"])


def test_dresseur_animalier_is_never_for_mixite_for_a_girl(engine, referential) -> None:
    for policy in ("balanced", "counter_stereotype"):
        document = _document(engine, referential, policy, top_k=15, age=19, gender="F", diploma_level="3",
                             interests="Les animaux, le dressage des chiens, les chevaux",
                             experiences=["Stage en pension canine"])
        for trade in document["trades"]:
            if trade["code_rome"] == "A1508":
                assert trade["moved_by"] != "mixite"
                assert not any("mixité" in reason for reason in trade["reasons"])
            if trade["moved_by"] == "mixite":
                assert trade["share_women"] < 0.40
