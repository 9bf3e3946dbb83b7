"""Per-card lookup tables for the synthetic generator, built once per call from the referential.

Everything is indexed by card position in ``referential.codes`` so that sampling is a few numpy
operations over whole batches (no per-row pandas).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

SHORT_SKILL_CHARS = 60


@dataclass(frozen=True)
class Ragged:
    """A ragged table: the values of card ``i`` are ``values[offsets[i]:offsets[i + 1]]``."""

    offsets: npt.NDArray[np.int64]  # (n_cards + 1,)
    values: npt.NDArray[np.object_]  # (n_values,)

    @classmethod
    def build(cls, codes: np.ndarray, frame: pd.DataFrame, column: str) -> Ragged:
        """Group ``frame[column]`` by ``frame["code_rome"]`` in the order of ``codes``."""
        frame = frame.loc[frame["code_rome"].isin(set(codes))]
        positions = np.searchsorted(codes, frame["code_rome"].to_numpy())
        order = np.argsort(positions, kind="stable")
        counts = np.bincount(positions, minlength=len(codes))
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        return cls(offsets, frame[column].to_numpy(dtype=object)[order])

    def counts(self, cards: np.ndarray) -> np.ndarray:
        return self.offsets[cards + 1] - self.offsets[cards]

    def pick(self, cards: np.ndarray, uniforms: np.ndarray, shift: int = 0) -> list[str | None]:
        """Pick one value per card from uniforms in [0, 1); ``shift`` takes the next ones (wrapping)."""
        counts = self.counts(cards)
        chosen = np.floor(uniforms * counts).astype(np.int64) + shift
        index = self.offsets[cards] + np.mod(chosen, np.maximum(counts, 1))
        return [self.values[i] if n > 0 else None for i, n in zip(index, counts, strict=True)]


@dataclass(frozen=True)
class CardTables:
    """Lookup tables over the ROME cards (positions in ``codes``)."""

    codes: np.ndarray  # (n_cards,) str
    labels: list[str]  # card labels ("Boulanger / Boulangère")
    hires: np.ndarray  # (n_cards,) float: total hires per card over all NAF codes
    share_women: np.ndarray  # (n_cards,) float, NaN -> 0.5
    definitions: list[str]  # first sentence of each card's definition
    appellations: Ragged  # common (not rare) appellation labels
    skills: Ragged  # core savoir-faire labels ("coeur de métier")
    interest_centres: Ragged  # "J'ai envie de ..." labels linked to the card
    naf_cards: dict[str, tuple[np.ndarray, np.ndarray]]  # naf -> (card positions, probabilities)
    division_cards: dict[str, tuple[np.ndarray, np.ndarray]]  # 2-digit NAF division -> same
    all_cards: tuple[np.ndarray, np.ndarray]  # fallback: every hiring card

    def job_titles(self, cards: np.ndarray, uniforms: np.ndarray) -> list[str]:
        """Pick a job title per card: the card label half the time (the usual wording), else an appellation."""
        picked = self.appellations.pick(cards, np.clip((uniforms - 0.5) * 2.0, 0.0, 0.999999))
        return [
            self.labels[card] if u < 0.5 or title is None else title
            for card, u, title in zip(cards, uniforms, picked, strict=True)
        ]

    def cards_for_naf(self, naf: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (card positions, probabilities) for a NAF code: its hires, else its division's links."""
        return self.naf_cards.get(naf) or self.division_cards.get(naf[:2]) or self.all_cards


def _first_sentence(text: str) -> str:
    text = " ".join(str(text).split())
    end = text.find(". ")
    return text[: end + 1] if end >= 0 else text


def _distribution(cards: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return cards.astype(np.int64), weights / weights.sum()


def build_card_tables(referential) -> CardTables:
    """Build the per-card tables from a loaded referential."""
    codes = np.asarray(referential.codes).astype(str)
    cards = referential.cards.reindex(codes)
    hires = referential.hires.loc[referential.hires["code_rome"].isin(set(codes))]
    hires = hires.assign(card=np.searchsorted(codes, hires["code_rome"].to_numpy()))
    total = np.bincount(
        hires["card"].to_numpy(),
        weights=hires["hirings"].to_numpy(dtype=float),
        minlength=len(codes),
    )
    share = cards["share_women"].astype(float).fillna(0.5).to_numpy()
    appellations = referential.appellations
    appellations = appellations.loc[~appellations["rare"].astype(bool)].sort_values(
        ["code_rome", "code_ogr"]
    )
    skills = referential.skills
    skills = skills.loc[skills["core"].astype(bool) & (skills["kind"] == "savoir_faire")]
    # Prefer short skills (they read like what a youth or an employer writes); keep the long
    # ones only for cards that have nothing shorter.
    short = skills["label"].str.len() <= SHORT_SKILL_CHARS
    skills = skills.loc[short | ~skills["code_rome"].isin(set(skills.loc[short, "code_rome"]))]
    skills = skills.sort_values(["code_rome", "code_ogr"])
    links = referential.interest_links.merge(
        referential.interest_centres[["code", "label"]], on="code"
    )
    links = links.drop_duplicates(["code_rome", "code"]).sort_values(["code_rome", "code"])

    naf_cards: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    grouped = hires.groupby(["naf", "card"], sort=True)["hirings"].sum().reset_index()
    grouped = grouped.loc[grouped["hirings"] > 0]
    for naf, rows in grouped.groupby("naf", sort=True):
        naf_cards[str(naf)] = _distribution(
            rows["card"].to_numpy(), rows["hirings"].to_numpy(dtype=float)
        )
    division_cards: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    naf_links = referential.naf_links.loc[referential.naf_links["code_rome"].isin(set(codes))]
    for division, rows in naf_links.groupby("naf_division", sort=True):
        linked = np.unique(np.searchsorted(codes, rows["code_rome"].to_numpy()))
        division_cards[str(division).zfill(2)] = _distribution(linked, total[linked] + 1.0)
    hiring = np.flatnonzero(total > 0)
    return CardTables(
        codes=codes,
        labels=[str(label) for label in cards["label"]],
        hires=total,
        share_women=share,
        definitions=[_first_sentence(d) for d in cards["definition"].fillna("")],
        appellations=Ragged.build(codes, appellations, "label"),
        skills=Ragged.build(codes, skills, "label"),
        interest_centres=Ragged.build(codes, links, "label"),
        naf_cards=naf_cards,
        division_cards=division_cards,
        all_cards=_distribution(hiring, total[hiring]),
    )
