"""Negated clauses of a youth's free text: split, scored as negative queries, not cited."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.search.negation import negative_penalty, split_negations
from matching.search.texts import youth_query_texts


@pytest.mark.parametrize(("text", "positive", "negated"), [
    ("j'aime être dehors, pas enfermé dans un bureau", "j'aime être dehors", ["enfermé dans un bureau"]),
    ("je ne veux pas travailler dans un bureau", "", ["travailler dans un bureau"]),
    ("je n'aime plus la vente mais j'adore la cuisine", "j'adore la cuisine", ["la vente"]),
    ("surtout pas la caisse et je veux conduire", "je veux conduire", ["la caisse"]),
    ("plutôt pas de vente", "", ["vente"]),
    ("jamais de travail de nuit", "", ["travail de nuit"]),
    ("sans contact avec les enfants, j'aime le jardinage", "j'aime le jardinage", ["contact avec les enfants"]),
])
def test_negated_clauses_are_cut_to_the_end_of_the_clause(text, positive, negated):
    assert split_negations(text) == (positive, negated)


@pytest.mark.parametrize("text", [
    "je veux travailler avec du pain", "j'aime pas mal la cuisine", "plus de contact avec les gens",
    "réparer des scooters", "animateur en accueil de loisirs sans hébergement", "",
])
def test_a_text_without_negation_is_returned_unchanged(text):
    assert split_negations(text) == (text, [])


def test_query_texts_carry_negated_clauses_with_the_opposite_weight():
    from types import SimpleNamespace

    youth = SimpleNamespace(wished_trades=("pas de vente",), experiences=("caissière, jamais la nuit",),
                            interests="les animaux")
    assert youth_query_texts(youth) == [
        ("vente", -1.0), ("caissière", 0.8), ("la nuit", -0.8), ("les animaux", 0.6)]


def test_penalty_lowers_only_the_cards_a_clause_names():
    scores = np.array([[1.0, 0.9, 0.8] + [0.3, 0.2, 0.1, 0.0] * 4 + [0.3]], dtype=np.float32)
    penalty = negative_penalty(scores, np.array([0.8]))
    assert penalty[0] == pytest.approx(0.4)  # the best card loses scale x weight
    assert 0 < penalty[1] < penalty[0]
    assert (penalty[2:] == 0).all()
    assert negative_penalty(np.zeros((0, 10)), np.zeros(0)).shape == (10,)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.floats(0, 1, width=32), min_size=5, max_size=5), min_size=1, max_size=4),
       st.floats(0.1, 1.0))
def test_penalty_is_bounded_by_scale_times_weight(rows, weight):
    penalty = negative_penalty(np.array(rows, dtype=np.float32), np.full(len(rows), weight))
    assert penalty.shape == (5,)
    assert (penalty >= 0).all() and (penalty <= 0.5 * weight + 1e-6).all()
