"""Parse the public referential files in ``data/`` into the frames of :class:`Referential`.

Pure functions: each takes raw frames (every column read as ``str``) and returns a tidy frame.
:func:`build_frames` reads the files and composes them; :mod:`matching.referential.loader` caches the
result. Sources, licences and rules: ``data/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

ROME = "rome_v4/unix_{}_v460_utf8.csv"
SOURCE_FILES: dict[str, tuple[str, dict]] = {
    "rome": (ROME.format("referentiel_code_rome"), {}),
    "tree": (ROME.format("cr_gd_dp"), {}),
    "texts": (ROME.format("texte") + ".gz", {}),
    "riasec": (ROME.format("referentiel_code_rome_riasec"), {}),
    "appellations": (ROME.format("referentiel_appellation") + ".gz", {}),
    "links": (ROME.format("liens_rome_referentiels") + ".gz", {}),
    "coherence": (ROME.format("coherence_item") + ".gz", {}),
    "contexts": (ROME.format("referentiel_contexte_travail"), {}),
    "items": (ROME.format("item") + ".gz", {}),
    "mobility": (ROME.format("rubrique_mobilite"), {}),
    "centres": (ROME.format("centre_interet"), {}),
    "centre_links": (ROME.format("arborescence_centre_interet"), {}),
    "naf_links": (ROME.format("arborescence_secteur_naf"), {}),
    "shares": ("derived/share_women_by_rome.csv", {}),
    "salaries": ("dares_fap/salaire_median_3niv.csv", {}),
    "tensions": ("dares_fap/tensions.csv.gz", {}),
    "rome_naf": ("labonneboite/rome_naf_mapping.csv", {}),
    "naf_labels": ("labonneboite/naf_labels.csv", {"sep": "|"}),
    "sector_families": ("naf_sector_family.csv", {}),
    "cog": ("communes/insee_cog_v_commune_2024.csv.gz", {}),
    "laposte": ("communes/laposte_hexasmal.csv.gz", {"sep": ";"}),
}
"""Logical name -> (path relative to the data folder, extra ``read_csv`` arguments)."""

GREEN_JOBS = ("Emploi Vert", "Emploi stratégique pour la Transition écologique")
SKILL_KINDS = {"1": "savoir_faire", "2": "savoir_etre", "3": "savoir"}
FLAGS = ["transition_num", "transition_demo", "regulated", "cadre"]
CARD_COLUMNS = (
    "label code_domaine domaine_label code_grand_domaine grand_domaine_label definition access "
    "transition_eco transition_num transition_demo regulated cadre riasec_major riasec_minor "
    "code_rome_parent fap225 share_women transition_eco_category night_work"
).split()
NIGHT_WORK = "Travail de nuit"
"""Label of the work context (bloc 6 of the card links) read into the ``night_work`` flag."""


def read_sources(data_dir: Path) -> dict[str, pd.DataFrame]:
    """Read every file of :data:`SOURCE_FILES` as strings (empty fields stay ``""``)."""
    return {
        name: pd.read_csv(data_dir / path, dtype=str, keep_default_na=False, **kwargs)
        for name, (path, kwargs) in SOURCE_FILES.items()
    }


def build_frames(raw: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Turn the raw source frames into the frames of :class:`matching.referential.loader.Referential`."""
    cards = parse_cards(raw["rome"], raw["tree"], raw["texts"], raw["riasec"], raw["shares"])
    faps = raw["shares"].set_index("code_rome")["fap225_codes"].reindex(cards.index)
    salary = fap_salaries(raw["salaries"])
    cards[["median_salary", "median_salary_year"]] = card_salaries(faps, salary)
    cards[["tension", "tension_year"]] = card_tensions(faps, raw["tensions"])
    cards["night_work"] = cards.index.isin(context_cards(raw["links"], raw["contexts"], NIGHT_WORK))
    communes, postcodes = parse_communes(raw["cog"], raw["laposte"])
    return {
        "cards": cards,
        "appellations": parse_appellations(raw["appellations"]),
        "skills": parse_skills(raw["links"], raw["coherence"], raw["items"]),
        "mobility": _renamed(
            raw["mobility"],
            code_rome="code_rome",
            code_rome_cible="code_rome_target",
            numero_ordre="order",
        )
        .astype({"order": int})
        .sort_values(["code_rome", "order"], ignore_index=True),
        "interest_centres": _renamed(
            raw["centres"],
            code_centre_interet="code",
            libelle_centre_interet="label",
            definition_centre_interet="definition",
        ).assign(definition=lambda frame: frame["definition"].str.strip()),
        "interest_links": _renamed(
            raw["centre_links"],
            code_centre_interet="code",
            code_rome="code_rome",
            principal="principal",
        ).assign(principal=lambda frame: frame["principal"] == "oui"),
        # Division "0" of the ROME file means "transverse to all sectors": it becomes "00".
        "naf_links": _renamed(
            raw["naf_links"], code_secteur_naf="naf_division", code_rome="code_rome"
        )
        .assign(naf_division=lambda frame: frame["naf_division"].str.zfill(2))
        .sort_values(["naf_division", "code_rome"], ignore_index=True),
        "hires": parse_hires(raw["rome_naf"], raw["rome"]),
        "naf_labels": raw["naf_labels"].rename(columns={"naf_id": "naf", "naf_label": "label"}),
        "sector_families": raw["sector_families"][["naf", "sector_family", "rule"]].copy(),
        "communes": communes,
        "postcodes": postcodes,
    }


def _renamed(frame: pd.DataFrame, **columns: str) -> pd.DataFrame:
    """Keep and rename the given columns (``old="new"``)."""
    return frame[list(columns)].rename(columns=columns)


def parse_cards(
    rome: pd.DataFrame,
    tree: pd.DataFrame,
    texts: pd.DataFrame,
    riasec: pd.DataFrame,
    shares: pd.DataFrame,
) -> pd.DataFrame:
    """Join the job cards with their domain, texts, RIASEC code and share of women."""
    cards = _renamed(
        rome,
        code_rome="code_rome",
        libelle_rome="label",
        transition_eco="transition_eco",
        transition_num="transition_num",
        transition_demo="transition_demo",
        emploi_reglemente="regulated",
        emploi_cadre="cadre",
        code_rome_parent="code_rome_parent",
    ).set_index("code_rome")
    # Flags are "O" (yes), "N" (no) or "" (not stated: read as no).
    cards[FLAGS] = cards[FLAGS].eq("O")
    cards["transition_eco_category"] = cards["transition_eco"]
    cards["transition_eco"] = cards["transition_eco"].isin(GREEN_JOBS)
    domains = tree.set_index("code_rome").rename(
        columns={
            "code_domaine_professionel": "code_domaine",
            "libelle_domaine_professionel": "domaine_label",
            "libelle_grand_domaine": "grand_domaine_label",
        }
    )[["code_domaine", "domaine_label", "code_grand_domaine", "grand_domaine_label"]]
    riasec = riasec.set_index("code_rome").rename(
        columns={"riasec_majeur": "riasec_major", "riasec_mineur": "riasec_minor"}
    )
    shares = shares.set_index("code_rome")
    cards = (
        cards.join(domains)
        .join(card_texts(texts))
        .join(riasec)
        .assign(
            fap225=shares["fap225_codes"],
            share_women=pd.to_numeric(shares["share_women"], errors="coerce"),
        )
    )
    text_columns = ["definition", "access", "riasec_major", "riasec_minor", "fap225"]
    cards[text_columns] = cards[text_columns].fillna("")
    return cards[[c for c in CARD_COLUMNS if c != "night_work"]].sort_index()


def context_cards(links: pd.DataFrame, contexts: pd.DataFrame, label: str) -> list[str]:
    """Cards linked (bloc 6 of the card links) to the work context of this label."""
    items = contexts.loc[contexts["libelle_cont_travail"] == label, "code_ogr"]
    linked = links.loc[(links["code_compo_bloc"] == "6") & links["code_ogr"].isin(items), "code_rome"]
    return sorted(set(linked))


def card_texts(texts: pd.DataFrame) -> pd.DataFrame:
    """Join each card's sentences in order: ``definition`` and ``access`` (acces_metier).

    The source doubles every apostrophe (``d''hygiène``, an SQL escape); it is undone here.
    """
    texts = texts.assign(
        position=texts["position_phrase"].astype(int),
        text=texts["libelle_texte"].str.replace("''", "'", regex=False).str.strip(),
    ).sort_values(["code_rome", "libelle_type_texte", "position"])
    joined = texts.groupby(["code_rome", "libelle_type_texte"])["text"].agg(" ".join).unstack()
    return joined.rename(columns={"acces_metier": "access"})[["definition", "access"]]


def fap_salaries(salaries: pd.DataFrame) -> pd.DataFrame:
    """Keep each FAP's most recent median salary window: index ``Fap3``, ``salary``, ``window``."""
    salaries = salaries.assign(salary=pd.to_numeric(salaries["Salaire_median"], errors="coerce"))
    latest = salaries.dropna(subset="salary").sort_values("Annee").groupby("Fap3").last()
    return latest.rename(columns={"Annee": "window"})[["salary", "window"]]


def card_salaries(faps: pd.Series, salary: pd.DataFrame) -> pd.DataFrame:
    """Mean median salary over each card's FAP-225 families (FAP-87 value when missing)."""
    long = _explode_faps(faps)
    by_fap = salary.reindex(long["fap"]).set_axis(long.index)
    fallback = salary.reindex(long["fap"].str[:3]).set_axis(long.index)
    long = long.assign(
        salary=by_fap["salary"].fillna(fallback["salary"]),
        window=by_fap["window"].where(by_fap["salary"].notna(), fallback["window"]),
    ).dropna(subset="salary")
    out = long.groupby("code_rome").agg(
        median_salary=("salary", "mean"), median_salary_year=("window", "max")
    )
    out = out.reindex(faps.index)
    out["median_salary_year"] = out["median_salary_year"].fillna("")
    return out


def card_tensions(faps: pd.Series, tensions: pd.DataFrame) -> pd.DataFrame:
    """Mean national DARES tension indicator over each card's FAP-225 families.

    A family with no FAP-225 indicator (public-sector families P*, V2*, W0*...) takes its FAP-87
    value when there is one. Returns columns ``tension`` (float) and ``tension_year`` (Int64).
    """
    national = tensions.loc[tensions["niveau_geo"] == "nat"]
    value = pd.to_numeric(national["Tension "], errors="coerce").set_axis(national["fap"])
    year = national["Année"].astype(int).set_axis(national["fap"])
    long = _explode_faps(faps)
    long = long.assign(
        tension=long["fap"].map(value).fillna(long["fap"].str[:3].map(value)),
        year=long["fap"].map(year).fillna(long["fap"].str[:3].map(year)),
    ).dropna(subset="tension")
    out = long.groupby("code_rome").agg(tension=("tension", "mean"), tension_year=("year", "max"))
    out = out.reindex(faps.index)
    out["tension_year"] = out["tension_year"].astype("Int64")
    return out


def _explode_faps(faps: pd.Series) -> pd.DataFrame:
    """``code_rome -> "A,B"`` to a long frame ``code_rome, fap`` (cards without FAP dropped)."""
    long = faps.str.split(",").explode()
    long = long[long.notna() & (long != "")]
    return pd.DataFrame({"code_rome": long.index, "fap": long.to_numpy()})


def parse_appellations(appellations: pd.DataFrame) -> pd.DataFrame:
    """Appellations: ``code_ogr`` (int), labels, ``code_rome``, ``rare``, ``principal``."""
    return pd.DataFrame(
        {
            "code_ogr": appellations["code_ogr"].astype(np.int64),
            "label": appellations["libelle_appellation_long"],
            "label_short": appellations["libelle_appellation_court"],
            "code_rome": appellations["code_rome"],
            "rare": appellations["peu_usite"] == "O",
            "principal": appellations["classification"] == "PRINCIPALE",
        }
    ).sort_values(["code_rome", "code_ogr"], ignore_index=True)


def parse_skills(links: pd.DataFrame, coherence: pd.DataFrame, items: pd.DataFrame) -> pd.DataFrame:
    """Skills per card (bloc 5 of the card links) with label, kind and "coeur de métier" flag."""
    skills = links.loc[links["code_compo_bloc"] == "5"]
    skills = skills.merge(coherence, on=["code_rome", "code_ogr"], how="left").merge(
        items[["code_ogr", "libelle"]], on="code_ogr", how="left"
    )
    return pd.DataFrame(
        {
            "code_rome": skills["code_rome"],
            "code_ogr": skills["code_ogr"].astype(np.int64),
            "label": skills["libelle"].fillna(""),
            "kind": skills["code_rubrique"].map(SKILL_KINDS),
            "core": skills["coeur_metier"] == "Principale",
            "emerging": skills["coeur_metier"] == "Émergente",
        }
    ).sort_values(["code_rome", "kind", "code_ogr"], ignore_index=True)


def parse_hires(rome_naf: pd.DataFrame, rome: pd.DataFrame) -> pd.DataFrame:
    """Map hires per (ROME v3, NAF) to ROME 4.0 cards through ``code_rome_parent``.

    A v3 code with several v4 children has its hirings split evenly among them.
    """
    children = rome[["code_rome", "code_rome_parent"]]
    n_children = children.groupby("code_rome_parent")["code_rome"].transform("size")
    children = children.assign(n_children=n_children)
    hires = rome_naf.merge(children, left_on="rome_id", right_on="code_rome_parent")
    return pd.DataFrame(
        {
            "code_rome": hires["code_rome"],
            "naf": hires["naf_id"],
            "hirings": hires["hirings"].astype(float) / hires["n_children"],
        }
    ).sort_values(["code_rome", "naf"], ignore_index=True)


def parse_communes(cog: pd.DataFrame, laposte: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Communes (COG 2024 COM + ARM rows) with La Poste 2019 coordinates, and postcodes.

    La Poste codes that are no longer communes in 2024 (communes déléguées or associées) are
    mapped to their current commune. A commune takes the mean coordinate of its own La Poste
    rows; one without (Paris, Lyon, Marseille, recent communes nouvelles) takes the mean of its
    arrondissements or former communes. Communes still without coordinates are left out.
    Postcodes of an arrondissement also serve its city (75011 -> 75111 and 75056).
    """
    current = cog.loc[cog["TYPECOM"].isin(["COM", "ARM"])]
    parent_of = cog.loc[cog["COMPARENT"] != "", ["COM", "COMPARENT"]].drop_duplicates("COM")
    parent_of = parent_of.set_index("COM")["COMPARENT"]
    known = pd.Index(current["COM"])

    latlon = laposte["coordonnees_gps"].str.split(",", expand=True)
    points = pd.DataFrame(
        {
            "code": laposte["Code_commune_INSEE"],
            "lat": pd.to_numeric(latlon[0], errors="coerce"),
            "lon": pd.to_numeric(latlon[1], errors="coerce"),
        }
    )
    points["commune_insee"] = points["code"].where(
        points["code"].isin(known), points["code"].map(parent_of)
    )
    own = points.dropna(subset="lat").groupby("code")[["lat", "lon"]].mean()
    inherited = points.dropna(subset="lat").assign(parent=points["code"].map(parent_of))
    inherited = inherited.groupby("parent")[["lat", "lon"]].mean()

    communes = pd.DataFrame(
        {
            "commune_insee": current["COM"],
            "name": current["LIBELLE"],
            "departement": current["DEP"],
            "typecom": current["TYPECOM"],
        }
    ).set_index("commune_insee")
    coords = own.reindex(communes.index).fillna(inherited.reindex(communes.index))
    communes = communes.join(coords).dropna(subset=["lat", "lon"]).sort_index()

    postcodes = pd.DataFrame(
        {"postcode": laposte["Code_postal"], "commune_insee": points["commune_insee"]}
    ).dropna()
    arrondissements = postcodes.assign(
        commune_insee=postcodes["commune_insee"].map(
            parent_of.loc[parent_of.index.isin(current.loc[current["TYPECOM"] == "ARM", "COM"])]
        )
    )
    postcodes = pd.concat([postcodes, arrondissements.dropna()])
    postcodes = postcodes.loc[postcodes["commune_insee"].isin(communes.index)]
    postcodes = postcodes.drop_duplicates().sort_values(["postcode", "commune_insee"])
    return communes, postcodes.reset_index(drop=True)
