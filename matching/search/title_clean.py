"""Clean real vacancy titles before matching them to ROME appellations.

Job boards decorate titles with noise that no appellation carries: gender marks ("(H/F)",
"F/H", "h/f/d", "(F-H-X)"), reference numbers ("EC21252", "-V0824P100-47", "2024"), contract
and seniority words ("CDI", "Alternance", "Senior", "confirmé"), support levels ("N2 - N3").
They also abbreviate ("Resp.", "Agt", "Tech", "Admin", "DBA") and write in English
("Software Engineer"). :func:`clean_title` removes the noise and expands the abbreviations and
common English job words into the wording of the ROME, so that a title reads like an
appellation. Separators (" - ", "|", ":") are dropped with the empty parts they leave; scoring
each part of a title on its own (a part is often a company or a place) was measured and did not
help (``benchmarks/quality/offers.py`` notes), so the title is matched whole.

Every rule is a general rule of how titles are written; none names a ROME code. Pure functions.
"""

from __future__ import annotations

import re

# Gender marks: "(H/F)", "H/F", "F/H", "(h/f/d)", "(F-H-X)", "H/F/X", "(H/ F)", "(M/F)", "(W/M)".
_GENDER = re.compile(
    r"\(?\s*\b(?:[hfmwxd](?:\s*/\s*|-)){1,3}[hfmwxd]\b\s*\)?|\(\s*[hf]\s*\)", re.IGNORECASE
)
# Inclusive writing: "Agent.e", "Expert.e", "Administrateur/trice", "technicien(ne)", "- Trice".
_INCLUSIVE = re.compile(
    r"(?<=\w)(?:\.(?:e|es|ne|le|se|rice|trice|euse|ère)\b|\((?:e|ne|le|se|rice|trice|euse|ère)\)|"
    r"\s*/\s*(?:e|ne|se|rice|trice|euse|ère)\b)|\s+-\s+trice\b",
    re.IGNORECASE,
)
# Reference codes: any token with both letters and digits ("EC21252", "V0824P100", "CNA-0193").
_REFERENCE = re.compile(r"#\S+|\b[\w.]*\d[\w.-]*\b")
_NOISE_WORDS = (
    # contract, time, place of the offer
    r"cdi|cdd|cdii|interim|intérim|intérimaire|temps plein|temps partiel|mi-temps|freelance|"
    r"saisonniers?|vacations?|remplaçant|remplaçante|h24|urgent|"
    r"en alternance|alternance|alternant|alternante|apprentissage|apprenti|apprentie|"
    r"contrat pro|contrat de professionnalisation|stage|stagiaire|iae|éligible à l'iae|"
    # seniority and levels
    r"senior|junior|sr|jr|confirmé|confirmée|confirme|expérimenté|expérimentée|experimente|"
    r"débutant|débutante|débutant accepté|expert confirmé|niveau|"
    r"itinérant|itinérante"
)
_NOISE = re.compile(rf"(?<![\w'])(?:{_NOISE_WORDS})(?![\w'])", re.IGNORECASE)
_LEVELS = re.compile(r"\b[nl]\s?[1-4]\b(?:\s*[-/]\s*[nl]?\s?[1-4]\b)*", re.IGNORECASE)

# Abbreviations and English job words, as ROME wording. Keys are lowercase whole words.
ABBREVIATIONS: dict[str, str] = {
    "resp": "responsable",
    "resp.": "responsable",
    "respo": "responsable",
    "agt": "agent",
    "adj": "adjoint",
    "adj.": "adjoint",
    "asst": "assistant",
    "tech": "technicien",
    "tech.": "technicien",
    "techn": "technicien",
    "tec": "technicien",
    "admin": "administrateur",
    "adm": "administrateur",
    "sys": "systèmes",
    "sysadmin": "administrateur systèmes",
    "dev": "développeur",
    "dév": "développeur",
    "devs": "développeur",
    "fullstack": "développeur",
    "full-stack": "développeur",
    "back-end": "développeur",
    "backend": "développeur",
    "front-end": "développeur",
    "frontend": "développeur",
    "dba": "administrateur de bases de données",
    "bdd": "bases de données",
    "si": "systèmes d'information",
    "it": "informatique",
    "ti": "informatique",
    "ash": "agent de service hospitalier",
    "as": "aide-soignant",
    "ide": "infirmier",
    "avs": "auxiliaire de vie sociale",
    "aes": "accompagnant éducatif et social",
    "atsem": "agent territorial spécialisé des écoles maternelles",
    "adv": "administration des ventes",
    "rh": "ressources humaines",
    "qse": "qualité sécurité environnement",
    "hse": "hygiène sécurité environnement",
    "cvc": "chauffage ventilation climatisation",
    "pl": "poids lourd",
    "spl": "super poids lourd",
    "vl": "véhicule léger",
    "chauff": "chauffeur",
    "chauff.": "chauffeur",
    "mgr": "manager",
    "dir": "directeur",
    "ope": "opérateur",
    "opé": "opérateur",
    "op": "opérateur",
    # English job words
    "engineer": "ingénieur",
    "engineering": "ingénierie",
    "developer": "développeur",
    "software": "logiciel",
    "network": "réseaux",
    "networks": "réseaux",
    "security": "sécurité",
    "administrator": "administrateur",
    "systems": "systèmes",
    "system": "système",
    "database": "bases de données",
    "databases": "bases de données",
    "technician": "technicien",
    "sales": "commercial",
    "salesman": "commercial",
    "buyer": "acheteur",
    "accountant": "comptable",
    "driver": "chauffeur",
    "cleaner": "agent de nettoyage",
    "cook": "cuisinier",
    "waiter": "serveur",
    "nurse": "infirmier",
    "teacher": "enseignant",
    "project": "projet",
    "head": "responsable",
    "officer": "chargé",
    "lead": "responsable",
    "helpdesk": "support informatique",
    "help desk": "support informatique",
    "desk": "support",
    "warehouse": "entrepôt",
    "storekeeper": "magasinier",
    "receptionist": "réceptionniste",
}
_ABBREVIATION = re.compile(
    r"(?<![\w.])("
    + "|".join(re.escape(k) for k in sorted(ABBREVIATIONS, key=len, reverse=True))
    + r")(?![\w])",
    re.IGNORECASE,
)
_SEPARATORS = re.compile(r"\s+[-–—|:]\s+|\s*[|:]\s*|\s+[-–—]$|^[-–—]\s+")
_PUNCT_EDGES = re.compile(r"^[\s\-–—/|:,.*()&+]+|[\s\-–—/|:,.*(&+]+$")
_EMPTY_BRACKETS = re.compile(r"\(\s*[\s\-/,.*]*\)")
_SPACES = re.compile(r"\s+")


def _expand(match: re.Match[str]) -> str:
    return ABBREVIATIONS[match.group(1).lower()]


def clean_title(title: str) -> str:
    """Strip a vacancy title's noise and expand its abbreviations; idempotent.

    "ADMINISTRATEUR SYSTÈME MCO - H/F" -> "administrateur système mco";
    "Resp. d'agence CDI (H/F) - EC21252" -> "responsable d'agence".
    Returns lowercase text; an empty string when nothing is left. The rules run until nothing
    changes (an expansion can uncover a mark: "Resp.(e)"), at most a few rounds.
    """
    text = _SPACES.sub(" ", title.replace("’", "'")).strip().lower()
    for _ in range(5):
        cleaned = _clean_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def _clean_once(text: str) -> str:
    text = _GENDER.sub(" ", text)
    text = _INCLUSIVE.sub("", text)
    text = _REFERENCE.sub(" ", text)
    text = _LEVELS.sub(" ", text)
    text = _NOISE.sub(" ", text)
    text = _ABBREVIATION.sub(_expand, text)
    text = _EMPTY_BRACKETS.sub(" ", text)
    text = " ".join(_PUNCT_EDGES.sub("", part) for part in _SEPARATORS.split(text))
    text = _EMPTY_BRACKETS.sub(" ", text)
    return _PUNCT_EDGES.sub("", _SPACES.sub(" ", text)).strip()
