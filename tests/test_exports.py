"""CSV and XLSX exports of suggestions and shortlists: read back, French headers, known values,
pseudonymised cards only, formulas defused."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from service.exports import (
    SHORTLIST_HEADERS,
    SUGGESTION_HEADERS,
    safe_text,
    shortlist_csv,
    shortlist_xlsx,
    suggestions_csv,
    suggestions_xlsx,
)
from service.output import SYNTHETIC_NOTICE

SUGGESTIONS = {
    "trades": [
        {"code_rome": "D1102", "label": "Boulanger / Boulangère", "score": 1.0,
         "reasons": ["Vous avez parlé de pain", "Métier en tension"], "share_women": 0.18,
         "band": "male", "regulated": False, "cadre": False, "moved_by": None,
         "access": "non renseigné", "suggestion_id": 41,
         "skills_shown": ["Pétrissage"], "skills_to_acquire": ["Hygiène", "Cuisson"]},
        {"code_rome": "I1604", "label": "Mécanicien automobile", "score": 0.7,
         "reasons": ["=HYPERLINK(\"http://x\")"], "share_women": None, "band": "unknown",
         "regulated": True, "cadre": False, "moved_by": "mixite", "access": "CAP"},
    ],
    "vacancies": [
        {"vacancy_id": "V-00ab", "title": "-Vendeur (H/F)", "code_rome": "D1106",
         "employer": {"name": "@Fournil de Metz", "sector_family": "liberal"},
         "distance_km": 3.4, "contract": "CDI", "score": 0.8, "score_parts": {"semantic": 0.5},
         "reasons": ["à 3,4 km"], "moved_by": "employer_cap", "suggestion_id": 43,
         "beginners_accepted": True},
    ],
    "synthetic": True,
    "policy": {"trades": {"mix": "counter_stereotype"}, "vacancies": {}},
    "notes": {"trades": [], "vacancies": []},
    "ask_next": [],
}
SHORTLIST = {
    "vacancy": {"vacancy_id": "V-00ab", "title": "Boulanger", "code_rome": "D1102",
                "employer": {"name": "Fournil", "sector_family": "artisanat"}, "contract": "CDI"},
    "candidates": [
        {"candidate_ref": "C-" + "a" * 32, "score": 0.9, "score_parts": {}, "moved_by": None,
         "reasons": ["Habite à 2 km"], "distance_km": 2.0,
         "card": {"initials": "KB", "age": 19, "commune": "Metz", "skills": ["pétrissage"],
                  "shared": False}},
        {"candidate_ref": "C-" + "b" * 32, "score": 0.8, "score_parts": {},
         "moved_by": "representation", "reasons": [], "distance_km": 7.5,
         "youth_id": "Y-must-not-leak",  # defensive: never a column
         "card": {"initials": "+A", "age": None, "commune": "Woippy", "skills": [],
                  "shared": True, "gender": "F", "external_id": "DOSSIER-SECRET",
                  "experiences": ["caissière chez X"], "interests": "cuisine",
                  "diploma_level": "3", "wished_trades": ["D1102"]}},
    ],
    "policy": {"balance": "parity"},
    "notes": [],
    "synthetic": False,
}


def read_csv(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: spreadsheet programs read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig")), delimiter=";"))


def read_xlsx(data: bytes) -> dict[str, list[list]]:
    book = load_workbook(io.BytesIO(data))
    return {sheet.title: [list(row) for row in sheet.iter_rows(values_only=True)]
            for sheet in book.worksheets}


def test_suggestions_csv_and_xlsx_hold_the_same_known_rows():
    rows = read_csv(suggestions_csv(SUGGESTIONS))
    assert tuple(rows[0]) == SUGGESTION_HEADERS
    assert len(rows) == 4
    bread = dict(zip(SUGGESTION_HEADERS, rows[1], strict=True))
    assert bread["Rang"] == "1" and bread["Type"] == "Métier" and bread["Code ROME"] == "D1102"
    assert bread["Intitulé"] == "Boulanger / Boulangère"
    assert bread["Part de femmes dans le métier (%)"] == "18"
    assert bread["Mixité du métier"] == "à prédominance masculine"
    assert bread["Placé par"] == "pertinence" and bread["Métier réglementé"] == "Non"
    assert bread["Pourquoi"] == "Vous avez parlé de pain ; Métier en tension"
    assert bread["N° de suggestion"] == "41"
    assert bread["Compétences déjà montrées"] == "Pétrissage"
    assert bread["Compétences à acquérir"] == "Hygiène ; Cuisson"
    assert bread["Débutants acceptés"] == ""
    mechanic = dict(zip(SUGGESTION_HEADERS, rows[2], strict=True))
    assert mechanic["Placé par"] == "proposé pour la mixité" and mechanic["Métier réglementé"] == "Oui"
    assert mechanic["Pourquoi"] == "'=HYPERLINK(\"http://x\")"
    offer = dict(zip(SUGGESTION_HEADERS, rows[3], strict=True))
    assert (offer["Rang"], offer["Type"], offer["Intitulé"]) == ("1", "Offre", "'-Vendeur (H/F)")
    assert offer["Employeur"] == "'@Fournil de Metz"
    assert offer["Famille de secteur"] == "profession libérale"
    assert offer["Distance (km)"] == "3.4" and offer["Référence de l'offre"] == "V-00ab"
    assert offer["Débutants acceptés"] == "Oui"
    sheets = read_xlsx(suggestions_xlsx(SUGGESTIONS))
    assert list(sheets) == ["Suggestions", "À propos"]
    table = sheets["Suggestions"]
    assert tuple(table[0]) == SUGGESTION_HEADERS
    assert table[1][:4] == [1, "Métier", "D1102", "Boulanger / Boulangère"]
    assert table[2][SUGGESTION_HEADERS.index("Pourquoi")] == "'=HYPERLINK(\"http://x\")"
    assert table[3][7] == 3.4 and table[3][3] == "'-Vendeur (H/F)"
    about = dict(row[:2] for row in sheets["À propos"])
    assert about["Attention"] == SYNTHETIC_NOTICE
    assert about["Politique de mixité"] == "contre les stéréotypes"


def test_shortlists_keep_pseudonymised_cards_only():
    rows = read_csv(shortlist_csv(SHORTLIST))
    assert tuple(rows[0]) == SHORTLIST_HEADERS
    first = dict(zip(SHORTLIST_HEADERS, rows[1], strict=True))
    assert first == {
        "Rang": "1", "Référence candidat": "C-" + "a" * 32, "Initiales": "KB", "Âge": "19",
        "Commune": "Metz", "Compétences de l'offre citées": "pétrissage", "Distance (km)": "2.0",
        "Placé par": "pertinence", "Pourquoi": "Habite à 2 km", "Profil partagé": "Non"}
    second = dict(zip(SHORTLIST_HEADERS, rows[2], strict=True))
    assert (second["Initiales"], second["Âge"], second["Profil partagé"]) == ("'+A", "", "Oui")
    assert second["Placé par"] == "équilibre du vivier"
    sheets = read_xlsx(shortlist_xlsx(SHORTLIST))
    assert list(sheets) == ["Candidats", "À propos"]
    assert tuple(sheets["Candidats"][0]) == SHORTLIST_HEADERS
    assert sheets["Candidats"][1][:5] == [1, "C-" + "a" * 32, "KB", 19, "Metz"]
    about = dict(row[:2] for row in sheets["À propos"])
    assert about["Offre"] == "Boulanger" and about["Équilibre"] == "parité"
    assert "Attention" not in about
    for data in (shortlist_csv(SHORTLIST), read_xlsx(shortlist_xlsx(SHORTLIST))):
        text = str(data) if isinstance(data, dict) else data.decode("utf-8-sig")
        for secret in ("Y-must-not-leak", "DOSSIER-SECRET", "caissière", "cuisine", "youth_id"):
            assert secret not in text


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+33 6", "'+33 6"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\tx"), ("\rx", "'\rx"), ("Metz", "Metz"), ("a=b", "a=b"), (-2, -2), (None, None),
])
def test_safe_text(value, expected):
    assert safe_text(value) == expected


def test_control_characters_do_not_break_xlsx():
    document = {**SHORTLIST, "vacancy": {**SHORTLIST["vacancy"], "title": "Boulanger\x00\x07"}}
    about = dict(row[:2] for row in read_xlsx(shortlist_xlsx(document))["À propos"])
    assert about["Offre"] == "Boulanger"


def test_empty_lists_give_headers_only():
    assert read_csv(suggestions_csv({"trades": [], "vacancies": []})) == [list(SUGGESTION_HEADERS)]
    assert read_xlsx(shortlist_xlsx({"candidates": []}))["Candidats"] == [list(SHORTLIST_HEADERS)]
