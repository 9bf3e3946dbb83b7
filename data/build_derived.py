"""Build the two derived referential files shipped in ``data/``.

- ``derived/share_women_by_rome.csv``: share of women in employment per ROME 4.0 card.
- ``naf_sector_family.csv``: NAF rév. 2 sub-class -> ``artisanat`` / ``commerce`` /
  ``liberal`` / ``other``, with the rule that decided it.

Both are joins of public files in this folder plus the explicit rule list below; no new facts.
The rules are documented in ``data/SOURCES.md``. Re-run after updating a source file::

    python data/build_derived.py                                # sources and output: data/
    python data/build_derived.py --source ../shared/data     # sources elsewhere

Needs only pandas.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
YEAR_WINDOW = "2017-2019"

# NAF sub-class -> sector family. First matching rule wins; a rule matches a NAF code when the
# code starts with one of its prefixes. Everything unmatched is "other".
# U2P (Union des entreprises de proximité) = artisanat + commerce de proximité + professions
# libérales; Opcommerce = the retail and trade branches (section G).
SECTOR_RULES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # Exceptions inside section G, before the section rule.
    (
        ("4520A", "4520B"),
        "artisanat",
        "vehicle maintenance and repair (garages): craft, Répertoire des métiers",
    ),
    (("4722Z",), "artisanat", "butcher-charcutier shop: craft butcher, Répertoire des métiers"),
    (
        ("4773Z",),
        "liberal",
        "pharmacie d'officine: pharmacist, regulated liberal health profession",
    ),
    (
        ("45",),
        "commerce",
        "section G division 45: trade of vehicles and parts (repair 4520A/B is artisanat)",
    ),
    (("46",), "commerce", "section G division 46: wholesale trade (Opcommerce branches)"),
    (("47",), "commerce", "section G division 47: retail trade, including food retail"),
    # Construction: every trade of section F is a craft, except property development.
    (("4110",), "other", "property development (promotion immobilière): not a building trade"),
    (("41", "42", "43"), "artisanat", "section F construction trades: Répertoire des métiers"),
    # Food crafts (industrial slaughter 1011Z-1013A and industrial bakery 1071A stay "other").
    (("1013B",), "artisanat", "food craft: charcuterie"),
    (("1071B", "1071C", "1071D"), "artisanat", "food craft: bakery, bakery-pastry, pastry"),
    # Small-scale manufacturing crafts.
    (("1623Z",), "artisanat", "manufacturing craft: carpentry and joinery"),
    (
        ("1812Z", "1813Z", "1814Z"),
        "artisanat",
        "manufacturing craft: printing, prepress, bookbinding",
    ),
    (("2341Z",), "artisanat", "manufacturing craft: pottery and ceramics"),
    (("2370Z",), "artisanat", "manufacturing craft: stone cutting (marbrerie)"),
    (("2512Z",), "artisanat", "manufacturing craft: metal joinery (serrurerie-métallerie)"),
    (("3109B",), "artisanat", "manufacturing craft: cabinet-making and upholstery (ébénisterie)"),
    (("3212Z", "3213Z"), "artisanat", "manufacturing craft: jewellery"),
    (("3220Z",), "artisanat", "manufacturing craft: musical instruments (lutherie)"),
    (("3250A",), "artisanat", "manufacturing craft: dental prostheses"),
    # Transport crafts.
    (("4932Z",), "artisanat", "transport craft: taxis"),
    (("4942Z",), "artisanat", "transport craft: removals"),
    (("8690A",), "artisanat", "transport craft: ambulances (transport sanitaire)"),
    # Service crafts.
    (("7420Z",), "artisanat", "service craft: photography"),
    (
        ("9511Z", "9512Z", "952"),
        "artisanat",
        "service craft: repair of computers, phones and household goods",
    ),
    (("9601B",), "artisanat", "service craft: dry cleaning (pressing)"),
    (("9602A", "9602B"), "artisanat", "service craft: hairdressing and beauty care"),
    (("9603Z",), "artisanat", "service craft: funeral services"),
    # Professions libérales.
    (("6910Z",), "liberal", "liberal profession: legal (avocats, notaires, huissiers)"),
    (("6920Z",), "liberal", "liberal profession: accounting (experts-comptables)"),
    (("7022Z",), "liberal", "liberal profession (not regulated): business consultants"),
    (("7111Z",), "liberal", "liberal profession: architects"),
    (("7112A",), "liberal", "liberal profession: surveyors (géomètres-experts)"),
    (("7112B",), "liberal", "liberal profession: engineering and technical studies"),
    (("7410Z",), "liberal", "liberal profession (not regulated): designers"),
    (("7430Z",), "liberal", "liberal profession (not regulated): translators, interpreters"),
    (
        ("7490B",),
        "liberal",
        "liberal profession: other specialised, scientific and technical activities",
    ),
    (("7500Z",), "liberal", "liberal profession: veterinarians"),
    (
        ("8621Z", "8622", "8623Z"),
        "liberal",
        "liberal health profession: doctors, specialists, dentists",
    ),
    (
        ("8690D", "8690E", "8690F"),
        "liberal",
        "liberal health profession: nurses, midwives, physiotherapists, other practitioners",
    ),
)


def sector_family_table(naf_labels: pd.DataFrame) -> pd.DataFrame:
    """Classify every NAF sub-class with :data:`SECTOR_RULES`.

    Args:
        naf_labels: columns ``naf_id``, ``naf_label`` (732 NAF rév. 2 sub-classes).

    Returns:
        Frame with columns ``naf``, ``naf_label``, ``sector_family``, ``rule``, sorted by ``naf``.
    """
    rows = []
    for naf, label in zip(naf_labels["naf_id"], naf_labels["naf_label"], strict=True):
        family, rule = "other", "no rule: other sectors (industry, services, public, ...)"
        for prefixes, rule_family, rule_text in SECTOR_RULES:
            if naf.startswith(prefixes):
                family, rule = rule_family, rule_text
                break
        rows.append((naf, label, family, rule))
    table = pd.DataFrame(rows, columns=["naf", "naf_label", "sector_family", "rule"])
    return table.sort_values("naf", ignore_index=True)


def share_women_table(
    cards: pd.DataFrame, fap_rome: pd.DataFrame, women_3niv: pd.DataFrame, women_fap87: pd.DataFrame
) -> pd.DataFrame:
    """Average the DARES share of women over each ROME 4.0 card's FAP-225 families.

    A card is linked to its FAP-225 families through its ROME v3 parent code (DARES
    crosswalk). Each family counts once; its value is the FAP-225 share for 2017-2019, else the
    FAP-87 share (first 3 characters) for the same window. A card with no family gets NaN.

    Returns:
        Frame with columns ``code_rome``, ``share_women`` (0..1), ``n_fap``, ``fap225_codes``
        (comma-joined, sorted), ``year_window``, one row per card, sorted by ``code_rome``.
    """
    links = fap_rome.loc[(fap_rome["Fap"] != "") & (fap_rome["Rome"] != "NA"), ["Fap", "Rome"]]
    links = links.drop_duplicates()
    share225 = _window_share(women_3niv)
    share87 = _window_share(women_fap87)
    links = links.assign(share=links["Fap"].map(share225).fillna(links["Fap"].str[:3].map(share87)))
    by_parent = links.groupby("Rome").agg(
        share_women=("share", "mean"),
        n_fap=("Fap", "size"),
        fap225_codes=("Fap", lambda codes: ",".join(sorted(codes))),
    )
    table = cards[["code_rome", "code_rome_parent"]].join(by_parent, on="code_rome_parent")
    table["share_women"] = (table["share_women"] / 100.0).round(4)
    table["n_fap"] = table["n_fap"].fillna(0).astype(int)
    table["fap225_codes"] = table["fap225_codes"].fillna("")
    table["year_window"] = YEAR_WINDOW
    table = table.drop(columns="code_rome_parent")
    return table.sort_values("code_rome", ignore_index=True)


def _window_share(women: pd.DataFrame) -> pd.Series:
    window = women.loc[women["Annee"] == YEAR_WINDOW]
    return pd.to_numeric(window.set_index("Fap3")["Part"], errors="coerce")


def _read(path: Path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)


def build(source: Path, out: Path) -> None:
    """Read the source files under ``source`` and write both derived files under ``out``."""
    cards = _read(source / "rome_v4" / "unix_referentiel_code_rome_v460_utf8.csv")
    fap_rome = _read(source / "dares_fap" / "fap225_rome.csv", sep=";")
    women_3niv = _read(source / "dares_fap" / "part_femmes_3niv.csv.gz")
    women_fap87 = _read(source / "dares_fap" / "part_femmes.csv")
    naf_labels = _read(source / "labonneboite" / "naf_labels.csv", sep="|")

    shares = share_women_table(cards, fap_rome, women_3niv, women_fap87)
    (out / "derived").mkdir(parents=True, exist_ok=True)
    shares.to_csv(out / "derived" / "share_women_by_rome.csv", index=False)
    families = sector_family_table(naf_labels)
    families.to_csv(out / "naf_sector_family.csv", index=False)
    print(f"{len(shares)} cards ({shares['share_women'].isna().sum()} without a share of women)")
    print(families["sector_family"].value_counts().to_string())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=HERE, help="folder holding rome_v4/ etc.")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write into")
    args = parser.parse_args()
    build(args.source, args.out)


if __name__ == "__main__":
    main()
