"""Territories and employers of the synthetic data set.

Missions Locales are real places with illustrative names; their communes are the real
communes of the referential within ``radius_km`` of the centre. Metz employers are the 17,091
real establishments of La Bonne Boite's Metz sample; other territories get generated employers
whose ids start with ``SYN`` so they cannot be mistaken for real SIRETs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from matching.referential.geo import haversine_km
from matching.synthetic.wording import short_naf_label
from matching.types import Location

ESTABLISHMENTS_PATH = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "labonneboite"
    / "etablissements_metz_dev_sample.csv.gz"
)
METZ_CODE = "ML-METZ"

# INSEE headcount bands ("tranche effectif", data/labonneboite/effectif_labels.csv); "99" and
# blanks are unknown.
SIZE_BANDS = {
    "00": "0",
    "01": "1-2",
    "02": "3-5",
    "03": "6-9",
    "11": "10-19",
    "12": "20-49",
    "21": "50-99",
    "22": "100-199",
    "31": "200-249",
    "32": "250-499",
    "41": "500-999",
    "42": "1000-1999",
    "51": "2000-4999",
    "52": "5000-9999",
    "53": "10000+",
}
# Band mix of the Metz sample (known bands only), used for generated employers.
GENERATED_SIZE_CODES = ("00", "01", "02", "03", "11", "12", "21", "22", "32")
GENERATED_SIZE_WEIGHTS = (0.52, 0.15, 0.11, 0.08, 0.05, 0.05, 0.02, 0.015, 0.005)

# A raisonsociale is shown only when one of its words says it is a legal person (company,
# association, public body, co-ownership...). Sole traders are registered under "NOM PRENOM",
# which never contains one of these words. "FRANCE" is left out: it is also a first name.
COMPANY_WORDS = frozenset(
    """
    SA SAS SASU SARL EURL SNC SCI SCP SCM SCS SCA SCOP SCIC SCEA EARL GAEC GIE GIP SEM SPL SCCV
    SELARL SELAS SELAFA SELCA SARLU STE SOC SOCIETE ETS ETABLISSEMENT ETABLISSEMENTS GROUPE
    GROUPEMENT HOLDING ASSOCIATION ASSO FEDERATION SYNDICAT SYNDIC COMITE CLUB UNION AMICALE
    MUTUELLE BANQUE CAISSE CREDIT ASSURANCES COPRO COPROPRIETE IMMEUBLE RESIDENCE CABINET AGENCE
    CENTRE CLINIQUE PHARMACIE LABORATOIRE HOTEL RESTAURANT BRASSERIE CAFE GARAGE BOULANGERIE
    COMMUNE MAIRIE VILLE DEPARTEMENT REGION CONSEIL OFFICE INSTITUT ECOLE LYCEE COLLEGE
    UNIVERSITE FONDATION CHAMBRE SERVICES SERVICE INTERNATIONAL DISTRIBUTION IMMOBILIER
    CONSULTING INVEST INVESTISSEMENT INVESTISSEMENTS PARTICIPATIONS GESTION TRANSPORTS
    COOPERATIVE OEUVRE MAISON HOPITAL CENTRAL DIRECTION MINISTERE PREFECTURE TRESORERIE
""".split()
)
VACANCIES_PER_EMPLOYER = 2.5
MIN_EMPLOYERS = 40
_WORD = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True)
class TerritorySpec:
    """How to build one Mission Locale: centre commune, départements, radius and weights."""

    code: str
    name: str
    centre_insee: str
    departements: tuple[str, ...]
    radius_km: float
    weight: float  # share of youths and vacancies
    qpv_rate: float
    main_city_share: float
    rural: bool = False


# fmt: off
TERRITORIES: tuple[TerritorySpec, ...] = (
    # code, name, centre, départements, radius_km, weight, qpv_rate, main_city_share, rural
    TerritorySpec(METZ_CODE, "Mission Locale du Pays Messin", "57463", ("57",), 15.0, 0.34, 0.22, 0.45),
    TerritorySpec("ML-NANCY", "Mission Locale du Grand Nancy", "54395", ("54",), 15.0, 0.16, 0.20, 0.45),
    TerritorySpec("ML-LILLE", "Mission Locale de Lille", "59350", ("59",), 12.0, 0.18, 0.28, 0.45),
    TerritorySpec("ML-SAINT-DENIS", "Mission Locale de Saint-Denis", "93066", ("93",), 7.0, 0.16, 0.50, 0.40),
    TerritorySpec("ML-GUERET", "Mission Locale de la Creuse", "23096", ("23",), 25.0, 0.08, 0.06, 0.35, True),
    TerritorySpec("ML-MENDE", "Mission Locale de la Lozère", "48095", ("48",), 25.0, 0.08, 0.03, 0.35, True),
)
# fmt: on


def company_like(raisonsociale: str) -> bool:
    """Return True when a legal name clearly designates a company or an organisation."""
    return any(word in COMPANY_WORDS for word in _WORD.findall(raisonsociale.upper()))


def display_names(
    establishments: pd.DataFrame, naf_labels: dict[str, str], commune_names: list[str]
) -> list[str]:
    """Return a displayable name per establishment, never a sole trader's personal name.

    Order: the enseigne, unless it repeats words of a personal raisonsociale ("JACQUELINE
    CHAMPLON" for "CHAMPLON JACQUELINE"); then the raisonsociale when :func:`company_like`;
    else a label from the NAF code and the commune, e.g. ``"Restauration traditionnelle (Metz)"``.
    """
    names = []
    for legal, sign, naf, commune in zip(
        establishments["raisonsociale"].fillna(""),
        establishments["enseigne"].fillna(""),
        establishments["codenaf"],
        commune_names,
        strict=True,
    ):
        company = company_like(legal)
        sign = sign.strip()
        personal_sign = not company and bool(
            set(_WORD.findall(sign.upper())) & set(_WORD.findall(legal.upper()))
        )
        if sign and not personal_sign:
            names.append(sign)
        elif company and legal.strip():
            names.append(legal.strip())
        else:
            names.append(f"{short_naf_label(naf_labels.get(naf, 'Entreprise'))} ({commune})")
    return names


def territory_communes(referential, spec: TerritorySpec) -> pd.DataFrame:
    """Return the communes of a territory (index commune_insee; name, lat, lon, distance_km, weight).

    Communes of ``spec.departements`` within ``spec.radius_km`` of the centre; the centre takes
    ``main_city_share`` of the weight, the others share the rest, nearer ones more.
    """
    communes = referential.communes
    centre = communes.loc[spec.centre_insee]
    local = communes.loc[communes["departement"].isin(spec.departements)].copy()
    local["distance_km"] = haversine_km(
        centre["lat"], centre["lon"], local["lat"].to_numpy(), local["lon"].to_numpy()
    )
    local = local.loc[local["distance_km"] <= spec.radius_km].sort_index()
    others = local.index != spec.centre_insee
    weights = np.where(others, 1.0 / (1.0 + local["distance_km"].to_numpy() / 5.0), 0.0)
    if others.any():
        weights = weights / weights.sum() * (1.0 - spec.main_city_share)
    weights[~others] = 1.0 - weights.sum()
    local["weight"] = weights
    return local


def commune_postcodes(referential, commune_codes) -> dict[str, str]:
    """Return the first (smallest) postcode of each commune."""
    postcodes = referential.postcodes
    chosen = postcodes.loc[postcodes["commune_insee"].isin(set(commune_codes))]
    return (
        chosen.sort_values(["commune_insee", "postcode"])
        .drop_duplicates("commune_insee")
        .set_index("commune_insee")["postcode"]
        .to_dict()
    )


def location_of(referential, commune_insee: str, postcodes: dict[str, str]) -> Location:
    """Return the :class:`Location` of a commune's centre."""
    row = referential.communes.loc[commune_insee]
    return Location(
        commune_insee,
        postcodes.get(commune_insee),
        str(row["name"]),
        float(row["lat"]),
        float(row["lon"]),
    )


def metz_establishments(referential, path: Path | None = None) -> pd.DataFrame:
    """Read the real Metz establishments with display names, family and coordinates.

    Returns one row per establishment: siret, name, naf, sector_family, size_band,
    commune_insee, postcode, lat, lon, hiring. Rows without coordinates (0, 0) take their
    commune's centre.
    """
    path = path or ESTABLISHMENTS_PATH
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: copy labonneboite/etablissements_metz_dev_sample.csv.gz into data/"
        )
    raw = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    communes = referential.communes
    known = raw["codecommune"].isin(communes.index)
    raw = raw.loc[known].reset_index(drop=True)
    naf_labels = dict(
        zip(referential.naf_labels["naf"], referential.naf_labels["label"], strict=True)
    )
    lat = raw["lat"].astype(float).to_numpy()
    lon = raw["lon"].astype(float).to_numpy()
    missing = (lat == 0) | (lon == 0) | np.isnan(lat) | np.isnan(lon)
    centre = communes.loc[raw["codecommune"]]
    lat = np.where(missing, centre["lat"].to_numpy(), lat)
    lon = np.where(missing, centre["lon"].to_numpy(), lon)
    families = dict(
        zip(
            referential.sector_families["naf"],
            referential.sector_families["sector_family"],
            strict=True,
        )
    )
    return pd.DataFrame(
        {
            "siret": raw["siret"],
            "name": display_names(raw, naf_labels, centre["name"].astype(str).tolist()),
            "naf": raw["codenaf"],
            "sector_family": raw["codenaf"].map(families).fillna("other"),
            "size_band": raw["trancheeffectif"].map(SIZE_BANDS),
            "commune_insee": raw["codecommune"],
            "postcode": raw["codepostal"],
            "lat": lat,
            "lon": lon,
            "hiring": raw["hiring"].astype(float).fillna(0.0).to_numpy(),
        }
    )


def generated_employers(
    referential,
    spec: TerritorySpec,
    index: int,
    communes: pd.DataFrame,
    n_employers: int,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Generate ``n_employers`` employers of a territory, NAF drawn from the hires table weights.

    Ids are ``"SYN" + 2-digit territory + 9-digit number`` (14 characters, not a SIRET).
    """
    naf_hires = referential.hires.groupby("naf")["hirings"].sum().sort_index()
    nafs = naf_hires.index.to_numpy()
    drawn_naf = nafs[
        rng.choice(len(nafs), size=n_employers, p=(naf_hires / naf_hires.sum()).to_numpy())
    ]
    drawn_commune = communes.index.to_numpy()[
        rng.choice(len(communes), size=n_employers, p=communes["weight"].to_numpy())
    ]
    sizes = rng.choice(
        GENERATED_SIZE_CODES,
        size=n_employers,
        p=np.array(GENERATED_SIZE_WEIGHTS) / sum(GENERATED_SIZE_WEIGHTS),
    )
    # Spread employers around the commune centre (about 1 km) so distances are not all equal.
    jitter = rng.normal(0.0, 0.008, size=(n_employers, 2))
    naf_labels = dict(
        zip(referential.naf_labels["naf"], referential.naf_labels["label"], strict=True)
    )
    families = dict(
        zip(
            referential.sector_families["naf"],
            referential.sector_families["sector_family"],
            strict=True,
        )
    )
    names = communes["name"].to_dict()
    postcodes = commune_postcodes(referential, communes.index)
    return pd.DataFrame(
        {
            "siret": [f"SYN{index:02d}{i:09d}" for i in range(n_employers)],
            "name": [
                f"{short_naf_label(naf_labels.get(n, 'Entreprise'))} ({names[c]})"
                for n, c in zip(drawn_naf, drawn_commune, strict=True)
            ],
            "naf": drawn_naf,
            "sector_family": [families.get(n, "other") for n in drawn_naf],
            "size_band": [SIZE_BANDS[s] for s in sizes],
            "commune_insee": drawn_commune,
            "postcode": [postcodes.get(c) for c in drawn_commune],
            "lat": communes.loc[drawn_commune, "lat"].to_numpy() + jitter[:, 0],
            "lon": communes.loc[drawn_commune, "lon"].to_numpy() + jitter[:, 1],
            "hiring": rng.gamma(1.0, 50.0, size=n_employers),
        }
    )


def build_employers(
    referential,
    territories: list[pd.DataFrame],
    weights: np.ndarray,
    n_vacancies: int,
    rng: np.random.Generator,
    establishments_path: Path | None = None,
) -> tuple[pd.DataFrame, np.ndarray]:
    """Return all employers (real Metz ones first) and the territory index of each, shape ``(n,)``.

    Territories other than Metz get about one employer per ``VACANCIES_PER_EMPLOYER`` of their
    vacancies (at least ``MIN_EMPLOYERS``).
    """
    frames = [metz_establishments(referential, establishments_path)]
    for index, (spec, communes) in enumerate(zip(TERRITORIES[1:], territories[1:], strict=True), 1):
        count = max(MIN_EMPLOYERS, round(n_vacancies * weights[index] / VACANCIES_PER_EMPLOYER))
        frames.append(generated_employers(referential, spec, index, communes, count, rng))
    employers = pd.concat(frames, ignore_index=True)
    territory = np.repeat(np.arange(len(frames)), [len(f) for f in frames])
    employers["mission_locale"] = np.asarray([spec.code for spec in TERRITORIES])[territory]
    return employers, territory
