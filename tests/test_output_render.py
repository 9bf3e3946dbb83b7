"""What people read: positions not scores, one rounded distance, French sector families,
candidate cards with their matched skills (pure renders on hand-made documents)."""

from __future__ import annotations

import re

import pytest

from matching.recommend import ranking
from matching.types import SECTOR_FAMILIES
from service import output


def _trade(code, score):
    return {"code_rome": code, "label": f"Métier {code}", "score": score, "reasons": ["métier souhaité"]}


def _vacancy(distance_km, family="liberal"):
    return {"vacancy_id": "V1", "title": "Boulanger H/F", "employer": {"name": "Fournil", "sector_family": family},
            "contract": "CDI", "distance_km": distance_km, "score": 0.61234,
            "reasons": [ranking.distance_reason(distance_km)]}


def test_trades_show_positions_not_scores():
    # re-ranked for mixité: the scores are out of order, the positions are not
    text = output.render_trades([_trade("D1102", 0.5012), _trade("D1104", 0.5234)])
    assert re.search(r"^ 1\. D1102", text, re.M) and re.search(r"^ 2\. D1104", text, re.M)
    assert "0.50" not in text and "0.52" not in text


@pytest.mark.parametrize("raw", [0.4, 1.46, 1.5, 2.5, 12.04, 99.96])
def test_vacancy_header_and_reason_say_the_same_distance(raw):
    shown = ranking.shown_km(raw)
    line = output.render_vacancies([_vacancy(shown)])
    header, reasons = line.splitlines()
    said = ranking.distance_text(shown)
    assert f", {said}  [V1]" in header and f"à {said}" in reasons
    assert "0.61" not in line


def test_sector_families_are_french_everywhere_they_are_shown():
    assert set(output.SECTOR_FAMILY_LABELS) == set(SECTOR_FAMILIES)
    text = output.render_vacancies([_vacancy(3.0, "liberal"), _vacancy(3.0, "other")])
    assert "(profession libérale)" in text and "(autre secteur)" in text
    assert "(liberal)" not in text and "(other)" not in text


def _candidates(skills):
    card = {"initials": "A. B.", "age": 19, "commune": "Metz", "skills": skills, "shared": False}
    return {"vacancy": {"vacancy_id": "V1", "title": "Boulanger H/F", "code_rome": "D1102", "contract": "CDI",
                        "employer": {"name": "Fournil", "sector_family": "artisanat"}},
            "candidates": [{"candidate_ref": "c1", "score": 0.7345, "reasons": ["à 3 km"], "card": card}],
            "policy": {"balance": "pool"}, "notes": [], "synthetic": True}


def test_candidate_cards_show_matched_skills_and_no_score():
    text = output.render_candidates(_candidates(["défourner des pains et viennoiseries"]))
    assert " 1. A. B., 19 ans, Metz" in text
    assert "compétences : défourner des pains et viennoiseries" in text
    assert "0.73" not in text and "(Fournil, artisanat, CDI)" in text
    assert "aucune compétence" in output.render_candidates(_candidates([]))
    assert "équilibre : à l'image du vivier des candidats (pool)" in text


def test_distance_text():
    assert ranking.distance_text(0.4) == "moins d'1 km"
    assert ranking.distance_reason(12.0) == "à 12 km"
