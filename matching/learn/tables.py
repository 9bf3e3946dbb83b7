"""The referential-derived tables the features read, built once per referential (cached).

- **Tension per (card, département)**: DARES "tensions sur le marché du travail" 2019
  (``data/dares_fap/tensions.csv.gz``), rows ``niveau_fap == "fap 225"`` at ``niveau_geo ==
  "dep"`` (100 départements, overseas included) and ``"nat"``. A ROME 4.0 card maps to its FAP-225
  families through ``cards.fap225`` (``data/derived/share_women_by_rome.csv``, built from the
  FAP <-> ROME v3 crosswalk ``data/dares_fap/fap225_rome.csv`` through the card's v3 parent). The
  card's tension in a département is the mean over its families of the département value, a
  family missing there taking its national value; the national column is the mean of the
  national values; a card without family reads 0 (the indicator is centred on 0).
- **Hires per card x NAF**: ``referential.hires`` (La Bonne Boîte ``rome_naf_mapping.csv``, ROME v3
  codes mapped to the v4 cards by the referential loader), as ``log1p(hirings)``.
- **Mobility links**: ``referential.mobility`` as CSR arrays over card positions.
- **Communes**: INSEE code -> département column of the tension table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TENSIONS_FILE = "dares_fap/tensions.csv.gz"


@dataclass(frozen=True, eq=False)
class FeatureTables:
    """Lookups of :mod:`matching.learn.features`, aligned with ``referential.codes``."""

    tension: np.ndarray
    """float32 ``(n_cards, n_departements + 1)``; the last column is national."""
    departements: tuple[str, ...]
    """Département code of each tension column but the last."""
    commune_column: dict[str, int]
    """INSEE commune code -> tension column of its département."""
    hires_log: dict[tuple[str, str], float]
    """``(code_rome, naf)`` -> ``log1p(hirings)``."""
    neighbour_ptr: np.ndarray
    """int32 ``(n_cards + 1,)``: CSR row pointers of the mobility links."""
    neighbours: np.ndarray
    """int32: card positions of the mobility targets."""

    @property
    def national(self) -> int:
        """The tension column used when a place's département is not in the table."""
        return self.tension.shape[1] - 1


@functools.lru_cache(maxsize=4)
def feature_tables(referential, data_dir: Path | None = None) -> FeatureTables:
    """Build the tables for ``referential`` (cached per referential: it hashes by identity).

    Args:
        referential: a loaded :class:`~matching.referential.loader.Referential`.
        data_dir: where ``dares_fap/tensions.csv.gz`` lies; default the repository's ``data/``.
    """
    from matching.referential.loader import DEFAULT_DATA_DIR

    codes = np.asarray(referential.codes)
    raw = pd.read_csv(Path(data_dir or DEFAULT_DATA_DIR) / TENSIONS_FILE, dtype=str, keep_default_na=False)
    tension, departements = tension_table(referential.cards["fap225"].reindex(codes), raw)
    column = {dep: i for i, dep in enumerate(departements)}
    communes = referential.communes["departement"].astype(str)
    commune_column = {str(c): column[d] for c, d in zip(communes.index, communes, strict=True) if d in column}
    hires = referential.hires
    hires_log = dict(zip(zip(hires["code_rome"].astype(str), hires["naf"].astype(str), strict=True),
                         np.log1p(hires["hirings"].to_numpy(dtype=np.float64)).tolist(), strict=True))
    ptr, targets = mobility_csr(codes, referential.mobility)
    return FeatureTables(tension, departements, commune_column, hires_log, ptr, targets)


def tension_table(faps: pd.Series, raw: pd.DataFrame) -> tuple[np.ndarray, tuple[str, ...]]:
    """Tension of each card (``faps``: ``"A,B"`` FAP-225 codes per card, in card order) in each
    département and nationally: float32 ``(n_cards, n_deps + 1)`` and the département codes."""
    rows = raw.loc[raw["niveau_fap"] == "fap 225"]
    value = pd.to_numeric(rows["Tension "], errors="coerce")
    national = value[rows["niveau_geo"] == "nat"].set_axis(rows.loc[rows["niveau_geo"] == "nat", "fap"])
    local = rows["niveau_geo"] == "dep"
    by_dep = pd.DataFrame({"fap": rows.loc[local, "fap"], "dep": rows.loc[local, "dep"], "v": value[local]})
    grid = by_dep.pivot_table(index="fap", columns="dep", values="v", aggfunc="mean")
    departements = tuple(str(d) for d in grid.columns)
    fap_index = {fap: i for i, fap in enumerate(grid.index)}
    grid_values = grid.to_numpy(dtype=np.float64)
    out = np.zeros((len(faps), len(departements) + 1), dtype=np.float32)
    for card, listed in enumerate(faps.fillna("").astype(str).tolist()):
        families = [f for f in listed.split(",") if f in national.index and pd.notna(national[f])]
        if not families:
            continue
        nat = np.array([national[f] for f in families], dtype=np.float64)
        per_dep = np.array([grid_values[fap_index[f]] if f in fap_index
                            else np.full(len(departements), np.nan) for f in families])
        per_dep = np.where(np.isnan(per_dep), nat[:, None], per_dep)
        out[card, :-1] = per_dep.mean(axis=0)
        out[card, -1] = nat.mean()
    return out, departements


def mobility_csr(codes: np.ndarray, mobility: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Mobility links ``code_rome -> code_rome_target`` as CSR arrays over card positions."""
    position = {str(code): i for i, code in enumerate(codes.tolist())}
    pairs = [(position[s], position[t]) for s, t in zip(mobility["code_rome"].astype(str),
                                                        mobility["code_rome_target"].astype(str), strict=True)
             if s in position and t in position]
    sources = np.array([s for s, _ in pairs], dtype=np.int64)
    targets = np.array([t for _, t in pairs], dtype=np.int32)
    order = np.argsort(sources, kind="stable")
    ptr = np.zeros(len(codes) + 1, dtype=np.int32)
    np.cumsum(np.bincount(sources, minlength=len(codes)), out=ptr[1:])
    return ptr, targets[order]
