"""CSV and XLSX files of a youth's suggestions and of a vacancy's shortlist (issue #14).

The input is the JSON document the API answers: ``GET /v1/youths/{id}/suggestions`` (or
``passerelle suggest --json``) for :func:`suggestions_csv` / :func:`suggestions_xlsx`, and
``GET /v1/vacancies/{id}/candidates`` for :func:`shortlist_csv` / :func:`shortlist_xlsx`. Columns
have French headers and are chosen field by field (:data:`SUGGESTION_HEADERS`,
:data:`SHORTLIST_HEADERS`): a shortlist file holds the pseudonymised card of docs/API.md
(reference, initials, age, commune, matched skills) and never a youth's id, nor the fields a
share adds (those stay on the page, for the person the youth agreed to show them to).
People read positions, not scores: no score column.

Files are opened by spreadsheet programs, so text that starts with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is prefixed with ``'`` (:func:`safe_text`): a vacancy title such as
``=HYPERLINK(...)`` stays text. CSV: UTF-8 with a byte-order mark, ``;`` between fields and
``\\r\\n`` line ends, as French spreadsheet programs expect. XLSX: the table on the first sheet
(headers on row 1), and a sheet "À propos" (what the file is, policy, synthetic data notice).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from service.output import BALANCE_LABELS, SYNTHETIC_NOTICE, sector_family_label

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_DELIMITER = ";"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make a spreadsheet program read a cell as a formula."""

BAND_LABELS = {"male": "à prédominance masculine", "female": "à prédominance féminine",
               "mixed": "mixte", "unknown": "non renseignée"}
"""French words for a trade's ``band`` (share of women)."""
MOVED_BY_LABELS = {
    None: "pertinence",
    "mixite": "proposé pour la mixité",
    "balance": "équilibre des genres",
    "domain_cap": "variété des domaines",
    "diversity": "variété de la liste",
    "sector_mix": "variété des secteurs",
    "employer_cap": "variété des employeurs",
    "exposure": "répartition entre les offres",
    "representation": "équilibre du vivier",
}
"""French words for ``moved_by``: why an item stands where it stands."""

MIX_LABELS = {"balanced": "équilibrée", "counter_stereotype": "contre les stéréotypes",
              "off": "aucune"}
"""French words for the trade list's mix policy (``policy.trades.mix``)."""

SUGGESTION_HEADERS: tuple[str, ...] = (
    "Rang", "Type", "Code ROME", "Intitulé", "Employeur", "Famille de secteur", "Contrat",
    "Distance (km)", "Part de femmes dans le métier (%)", "Mixité du métier", "Placé par",
    "Métier réglementé", "Niveau cadre", "Accès", "Compétences déjà montrées",
    "Compétences à acquérir", "Débutants acceptés", "Pourquoi", "Référence de l'offre",
    "N° de suggestion",
)
SHORTLIST_HEADERS: tuple[str, ...] = (
    "Rang", "Référence candidat", "Initiales", "Âge", "Commune",
    "Compétences de l'offre citées", "Distance (km)", "Placé par", "Pourquoi", "Profil partagé",
)

Table = tuple[Sequence[str], list[list[Any]]]
"""Headers and rows of a file (cells: str, int, float or None)."""


def safe_text(value: Any) -> Any:
    """Return ``value`` with ``'`` in front when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _yes_no(value: Any) -> str:
    return "" if value is None else ("Oui" if value else "Non")


def _joined(texts: Iterable[str] | None) -> str:
    return " ; ".join(texts or ())


def _moved_by(token: str | None) -> str:
    return MOVED_BY_LABELS.get(token, token or "")


def suggestions_table(document: Mapping[str, Any]) -> Table:
    """Rows of a suggestions document: its trades, then its vacancies, each by position."""
    rows: list[list[Any]] = []
    for rank, trade in enumerate(document.get("trades", []), start=1):
        share = trade.get("share_women")
        rows.append([
            rank, "Métier", trade["code_rome"], trade["label"], None, None, None, None,
            None if share is None else round(100 * share), BAND_LABELS.get(trade.get("band"), ""),
            _moved_by(trade.get("moved_by")), _yes_no(trade.get("regulated")),
            _yes_no(trade.get("cadre")), trade.get("access"), _joined(trade.get("skills_shown")),
            _joined(trade.get("skills_to_acquire")), None, _joined(trade.get("reasons")), None,
            trade.get("suggestion_id"),
        ])
    for rank, item in enumerate(document.get("vacancies", []), start=1):
        employer = item.get("employer") or {}
        rows.append([
            rank, "Offre", item["code_rome"], item["title"], employer.get("name"),
            sector_family_label(employer.get("sector_family")), item.get("contract"),
            item.get("distance_km"), None, None, _moved_by(item.get("moved_by")), None, None,
            None, None, None, _yes_no(item.get("beginners_accepted")), _joined(item.get("reasons")),
            item["vacancy_id"], item.get("suggestion_id"),
        ])
    return SUGGESTION_HEADERS, rows


def shortlist_table(document: Mapping[str, Any]) -> Table:
    """Rows of a shortlist document: one pseudonymised card a candidate, by position."""
    rows: list[list[Any]] = []
    for rank, candidate in enumerate(document.get("candidates", []), start=1):
        card = candidate["card"]
        rows.append([
            rank, candidate["candidate_ref"], card["initials"], card.get("age"), card["commune"],
            _joined(card.get("skills")), candidate.get("distance_km"),
            _moved_by(candidate.get("moved_by")), _joined(candidate.get("reasons")),
            _yes_no(card.get("shared")),
        ])
    return SHORTLIST_HEADERS, rows


def table_csv(table: Table) -> bytes:
    """Write a table as CSV bytes (UTF-8 with BOM, ``;``, ``\\r\\n``), formulas defused."""
    headers, rows = table
    out = io.StringIO()
    writer = csv.writer(out, delimiter=CSV_DELIMITER, lineterminator="\r\n")
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if cell is None else safe_text(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters that an XLSX file cannot hold (openpyxl refuses them)."""


def _xlsx_cell(value: Any) -> Any:
    if isinstance(value, str):
        return safe_text(_ILLEGAL_XML.sub("", value))
    return value


def table_xlsx(table: Table, *, sheet: str, about: Sequence[tuple[str, Any]] = ()) -> bytes:
    """Write a table as XLSX bytes: the table on sheet ``sheet``, ``about`` lines on "À propos"."""
    from openpyxl import Workbook  # only the exports need it
    from openpyxl.styles import Font

    headers, rows = table
    book = Workbook()
    data = book.active
    data.title = sheet
    data.append(list(headers))
    for cell in data[1]:
        cell.font = Font(bold=True)
    for row in rows:
        data.append([_xlsx_cell(cell) for cell in row])
    data.freeze_panes = "A2"
    info = book.create_sheet("À propos")
    for label, value in about:
        info.append([_xlsx_cell(label), _xlsx_cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _about(document: Mapping[str, Any], lines: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    if document.get("synthetic"):
        lines.append(("Attention", SYNTHETIC_NOTICE))
    return lines


def suggestions_about(document: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The "À propos" lines of a suggestions file."""
    policy = (document.get("policy") or {}).get("trades") or {}
    mix = policy.get("mix") if isinstance(policy, Mapping) else None
    return _about(document, [
        ("Export", "Passerelle : métiers et offres suggérés à un jeune"),
        ("Politique de mixité", MIX_LABELS.get(mix or "", str(mix or "non précisée"))),
        ("Lecture", "Les métiers et les offres sont classés par rang ; aucun score n'est montré."),
    ])


def shortlist_about(document: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """The "À propos" lines of a shortlist file."""
    vacancy = document.get("vacancy") or {}
    employer = vacancy.get("employer") or {}
    balance = (document.get("policy") or {}).get("balance")
    return _about(document, [
        ("Export", "Passerelle : candidats pseudonymisés pour une offre"),
        ("Offre", vacancy.get("title")),
        ("Référence de l'offre", vacancy.get("vacancy_id")),
        ("Employeur", employer.get("name")),
        ("Équilibre", BALANCE_LABELS.get(balance or "", str(balance or "non précisé"))),
        ("Profils", "Cartes pseudonymisées : le profil complet se demande au conseiller du jeune."),
    ])


def suggestions_csv(document: Mapping[str, Any]) -> bytes:
    """CSV bytes of a suggestions document (``GET /v1/youths/{id}/suggestions``)."""
    return table_csv(suggestions_table(document))


def suggestions_xlsx(document: Mapping[str, Any]) -> bytes:
    """XLSX bytes of a suggestions document: sheet "Suggestions", then "À propos"."""
    return table_xlsx(suggestions_table(document), sheet="Suggestions",
                      about=suggestions_about(document))


def shortlist_csv(document: Mapping[str, Any]) -> bytes:
    """CSV bytes of a shortlist document (``GET /v1/vacancies/{id}/candidates``)."""
    return table_csv(shortlist_table(document))


def shortlist_xlsx(document: Mapping[str, Any]) -> bytes:
    """XLSX bytes of a shortlist document: sheet "Candidats", then "À propos"."""
    return table_xlsx(shortlist_table(document), sheet="Candidats", about=shortlist_about(document))


__all__ = [
    "CSV_MEDIA_TYPE",
    "SHORTLIST_HEADERS",
    "SUGGESTION_HEADERS",
    "XLSX_MEDIA_TYPE",
    "safe_text",
    "shortlist_csv",
    "shortlist_table",
    "shortlist_xlsx",
    "suggestions_csv",
    "suggestions_table",
    "suggestions_xlsx",
    "table_csv",
    "table_xlsx",
]
