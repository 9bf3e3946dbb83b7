"""The ROME 4.0 referential: job cards, appellations, skills, mobility, % women, NAF, communes.

:func:`load_referential` parses the public files shipped in ``data/`` (see ``data/SOURCES.md``)
into a frozen :class:`Referential` of pandas frames. Given a ``cache_dir`` it saves a compact
Parquet build there, keyed by a hash of the source files, and reloads it in well under 2 s.
Memoise the result in the caller (``functools.cache`` around the loader), not here.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, fields
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from matching.errors import UnknownRomeCode
from matching.referential.build import SOURCE_FILES, build_frames, read_sources

DEFAULT_DATA_DIR = Path(__file__).resolve().parents[2] / "data"
BUILD_VERSION = "2"
"""Bump when :mod:`matching.referential.build` changes its output: it invalidates caches."""

MALE_BELOW = 0.40
FEMALE_ABOVE = 0.60


@dataclass(frozen=True, eq=False)
class Referential:
    """Loaded referential frames; codes are strings. Build it with :func:`load_referential`.

    Compared and hashed by identity (``eq=False``), so it can be an argument of a memoised
    function.

    Attributes:
        cards: index ``code_rome`` (1,584 cards, sorted); label, domain, texts, flags, RIASEC,
            ROME v3 parent, FAP-225 codes, ``share_women``, median salary, tension.
        appellations: ``code_ogr`` (int), ``label``, ``label_short``, ``code_rome``, ``rare``,
            ``principal`` (the card's main title).
        skills: ``code_rome``, ``code_ogr``, ``label``, ``kind``, ``core``, ``emerging``.
        mobility: ``code_rome``, ``code_rome_target``, ``order``.
        interest_centres: ``code``, ``label``, ``definition``.
        interest_links: ``code``, ``code_rome``, ``principal``.
        naf_links: ``naf_division`` (2 chars, ``"00"`` = all sectors), ``code_rome``.
        hires: ``code_rome``, ``naf``, ``hirings`` (float).
        naf_labels: ``naf``, ``label``.
        sector_families: ``naf``, ``sector_family``, ``rule``.
        communes: index ``commune_insee``; ``name``, ``departement``, ``typecom`` (``COM`` or
            ``ARM`` arrondissement), ``lat``, ``lon``.
        postcodes: ``postcode``, ``commune_insee`` (many to many).
        data_hash: hash of the source files this was built from.
    """

    cards: pd.DataFrame
    appellations: pd.DataFrame
    skills: pd.DataFrame
    mobility: pd.DataFrame
    interest_centres: pd.DataFrame
    interest_links: pd.DataFrame
    naf_links: pd.DataFrame
    hires: pd.DataFrame
    naf_labels: pd.DataFrame
    sector_families: pd.DataFrame
    communes: pd.DataFrame
    postcodes: pd.DataFrame
    data_hash: str = ""

    @cached_property
    def codes(self) -> npt.NDArray[np.str_]:
        """ROME codes in card order, shape ``(n_cards,)``: trade ids are positions in it."""
        return self.cards.index.to_numpy(dtype=str)

    @cached_property
    def postcode_communes(self) -> dict[str, list[str]]:
        """INSEE codes of the communes each postcode serves, sorted (a dict: one lookup per
        profile instead of a filter over the 39k postcode rows)."""
        pairs = self.postcodes[["postcode", "commune_insee"]].astype(str).sort_values(["postcode", "commune_insee"])
        return {code: group.tolist() for code, group in pairs.groupby("postcode", sort=False)["commune_insee"]}

    @cached_property
    def commune_places(self) -> dict[str, tuple[str, float, float]]:
        """``(name, lat, lon)`` of each commune by INSEE code."""
        frame = self.communes
        return dict(zip(frame.index.astype(str), zip(frame["name"].astype(str), frame["lat"].astype(float),
                                                    frame["lon"].astype(float), strict=True), strict=True))

    @cached_property
    def card_labels(self) -> dict[str, str]:
        """Each card's label by ROME code (a dict: read per item on the request path)."""
        return {str(code): str(label) for code, label in self.cards["label"].items()}

    def has_card(self, code: str) -> bool:
        """Tell whether ``code`` is a ROME 4.0 job card."""
        return isinstance(code, str) and code in self.cards.index

    def card(self, code: str) -> pd.Series:
        """Return the card row of ``code``.

        Raises:
            UnknownRomeCode: ``code`` is not one of the 1,584 ROME 4.0 cards.
        """
        if not self.has_card(code):
            raise UnknownRomeCode(
                f"unknown ROME code {code!r}: give a ROME 4.0 job card code such as 'D1102' "
                "(see `passerelle trades search`)",
                field="code_rome",
                message_fr=f"code ROME inconnu {code!r} : indiquez le code d'une fiche métier "
                "ROME 4.0, par exemple 'D1102' (voir `passerelle trades search`)",
            )
        return self.cards.loc[code]

    @staticmethod
    def band(
        share_women: float | None,
        *,
        male_below: float = MALE_BELOW,
        female_above: float = FEMALE_ABOVE,
    ) -> str:
        """Return ``"male"`` (< 0.40), ``"female"`` (> 0.60), ``"mixed"`` or ``"unknown"``."""
        if share_women is None or pd.isna(share_women):
            return "unknown"
        if share_women < male_below:
            return "male"
        if share_women > female_above:
            return "female"
        return "mixed"

    @staticmethod
    def bands(
        shares_women: npt.ArrayLike,
        *,
        male_below: float = MALE_BELOW,
        female_above: float = FEMALE_ABOVE,
    ) -> npt.NDArray[np.str_]:
        """Vectorised :meth:`band`: shape ``(n,)`` floats (NaN = unknown) to band names."""
        shares = np.asarray(shares_women, dtype=float)
        return np.select(
            [np.isnan(shares), shares < male_below, shares > female_above],
            ["unknown", "male", "female"],
            default="mixed",
        )


FRAME_NAMES = tuple(f.name for f in fields(Referential) if f.name != "data_hash")


def load_referential(data_dir: Path | None = None, cache_dir: Path | None = None) -> Referential:
    """Load the referential from ``data_dir``, through a Parquet cache in ``cache_dir`` if given.

    Args:
        data_dir: folder holding ``rome_v4/``, ``dares_fap/``...; defaults to the repository's
            ``data/``.
        cache_dir: folder for the compact build (the data home's ``cache/``); created if needed.
            The build lives in ``referential-<hash>/``, the hash covering the source files'
            contents and :data:`BUILD_VERSION`; a stale build is simply not used.

    Returns:
        The loaded :class:`Referential`.

    Raises:
        FileNotFoundError: a source file is missing from ``data_dir``.

    Example:
        >>> ref = load_referential(cache_dir=Path.home() / ".passerelle" / "cache")
        >>> ref.card("D1102")["label"]
        'Boulanger / Boulangère'
    """
    data_dir = Path(data_dir) if data_dir is not None else DEFAULT_DATA_DIR
    data_hash = source_hash(data_dir)
    if cache_dir is None:
        return Referential(**build_frames(read_sources(data_dir)), data_hash=data_hash)
    build_dir = Path(cache_dir) / f"referential-{data_hash}"
    if (build_dir / "complete").exists():
        frames = {name: pd.read_parquet(build_dir / f"{name}.parquet") for name in FRAME_NAMES}
        return Referential(**frames, data_hash=data_hash)
    frames = build_frames(read_sources(data_dir))
    save_build(frames, build_dir)
    return Referential(**frames, data_hash=data_hash)


def source_hash(data_dir: Path) -> str:
    """Hash the contents of the source files and the build version (16 hex characters)."""
    digest = hashlib.blake2b(BUILD_VERSION.encode(), digest_size=8)
    for path, _ in SOURCE_FILES.values():
        digest.update(path.encode())
        digest.update((data_dir / path).read_bytes())
    return digest.hexdigest()


def save_build(frames: dict[str, pd.DataFrame], build_dir: Path) -> None:
    """Write the frames as Parquet into ``build_dir`` atomically (temp folder, then rename)."""
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=".tmp-referential-", dir=build_dir.parent))
    try:
        for name in FRAME_NAMES:
            frames[name].to_parquet(tmp_dir / f"{name}.parquet", engine="pyarrow")
        (tmp_dir / "complete").touch()
        os.replace(tmp_dir, build_dir)
    except OSError:
        # Another process may have written the same build first; theirs is as good as ours.
        if not (build_dir / "complete").exists():
            raise
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
