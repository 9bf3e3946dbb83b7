"""The territory rule: the Python predicate and the SQL clause give the same answers.

Overseas communes (``97411``, Saint-Denis de La Réunion) belong to a 3-character département
(``974``), Corsican ones (``2A004``, Ajaccio) to ``2A``, the others to their first 2 digits.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from store_factories import employer_fields

from service.store import crud
from service.store.models import Employer
from service.store.territory import departement_of, territory_clause, territory_contains

COMMUNES = {
    "97411000000011": "97411",  # Saint-Denis (La Réunion, 974)
    "97209000000011": "97209",  # Fort-de-France (Martinique, 972)
    "2A004000000011": "2A004",  # Ajaccio (Corse-du-Sud, 2A)
    "2B033000000011": "2B033",  # Bastia (Haute-Corse, 2B)
    "57463000000011": "57463",  # Metz (Moselle, 57)
}
TERRITORIES = {
    "reunion": ({"departements": ["974"]}, {"97411"}),
    "corse-du-sud": ({"departements": ["2A"]}, {"2A004"}),
    "corsica": ({"departements": ["2A", "2B"]}, {"2A004", "2B033"}),
    # "97" is no département: it must not take in every overseas commune.
    "97": ({"departements": ["97"]}, set()),
    "communes": ({"communes": ["97209", "57463"]}, {"97209", "57463"}),
    "mixed": ({"departements": ["57"], "communes": ["2B033"]}, {"57463", "2B033"}),
    "empty": ({}, set()),
}


@pytest.mark.parametrize(
    ("commune", "departement"),
    [("97411", "974"), ("97209", "972"), ("2A004", "2A"), ("2B033", "2B"), ("57463", "57")],
)
def test_departement_of(commune, departement):
    assert departement_of(commune) == departement


@pytest.mark.parametrize("name", sorted(TERRITORIES))
def test_python_predicate(name):
    territory, inside = TERRITORIES[name]
    assert {c for c in COMMUNES.values() if territory_contains(territory, c)} == inside
    assert not territory_contains(territory, None) and not territory_contains(territory, "")


@pytest.mark.parametrize("name", sorted(TERRITORIES))
def test_sql_clause_matches_the_predicate(sessions, name):
    territory, inside = TERRITORIES[name]
    with sessions.begin() as session:
        for siret, commune in COMMUNES.items():
            crud.create_employer(session, employer_fields(siret, commune_insee=commune))
    with sessions() as session:
        statement = select(Employer.commune_insee).where(
            territory_clause(Employer.commune_insee, territory)
        )
        assert set(session.scalars(statement)) == inside
