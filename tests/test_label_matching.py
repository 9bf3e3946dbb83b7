"""Skill labels named in reasons: the stem index equals a scan of every label."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from matching.recommend import ranking

WORDS = ["accueillir", "accueil", "clients", "client", "vente", "vendre", "pain", "pâtisserie",
         "boulangerie", "soudure", "souder", "réaliser", "réalisation", "les", "des", "et", "à",
         "gérer", "gestion", "caisse", "caissier", "Équipe", "équipement", "XXL", "a"]


def scan(query_stems, labels, limit=3, common=frozenset(), max_length=80):
    """The oracle: every label's stems compared with the query (the former implementation)."""
    specific = query_stems - common
    overlaps = [(len(specific & ranking.stems(label)), i) for i, label in enumerate(labels)
                if len(label) <= max_length and not specific.isdisjoint(ranking.stems(label))]
    best = sorted(overlaps, key=lambda o: (-o[0], o[1]))
    return [labels[i] for _, i in best[:limit]]


labels_st = st.lists(st.lists(st.sampled_from(WORDS), min_size=0, max_size=8).map(" ".join),
                     max_size=30)
stems_st = st.frozensets(st.sampled_from(sorted({s for w in WORDS for s in ranking.stems(w)}
                                                 | {"zzzzzz"})), max_size=8)


@settings(max_examples=400, deadline=None)
@given(labels_st, stems_st, stems_st, st.integers(-1, 6), st.integers(0, 60))
def test_matching_labels_equals_scan(labels, query, common, limit, max_length):
    got = ranking.matching_labels(query, labels, limit, common, max_length)
    assert got == scan(query, labels, limit, common, max_length)


@settings(max_examples=300, deadline=None)
@given(labels_st, st.lists(stems_st, max_size=5), st.integers(0, 5))
def test_one_index_serves_many_queries(labels, queries, limit):
    index = ranking.LabelIndex(labels)
    for query in queries:
        assert index.best(query, limit) == scan(query, labels, limit)
    assert index.best(set(), limit) == []


def test_ties_keep_input_order_and_long_labels_are_skipped():
    labels = ["vendre du pain", "pain", "x" * 81 + " pain vente", "vente de pain et pâtisserie"]
    query = ranking.stems("vente pain")
    assert ranking.matching_labels(query, labels) == [labels[3], labels[0], labels[1]]
    assert ranking.matching_labels(query, labels, common=ranking.stems("vente"), limit=2) == labels[:2]
