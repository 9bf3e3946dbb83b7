"""Per-youth rules of trade lists (issue #12): which cards are accessible, which a policy may add,
and what a thin profile gets instead of a relevance ranking.

Loaded state for :class:`~matching.recommend.recommender.Recommender` (built once per
referential, lazily for what costs): the cards' requirements (:mod:`~matching.recommend.access`),
the wish matcher, the card neighbourhood (:mod:`~matching.recommend.plausible`) and the cards'
openness (:mod:`~matching.recommend.thin`). Rules and thresholds: ``docs/ACCESS.md``.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from matching.fairness.policies import TradeMix
from matching.recommend import access, plausible, thin
from matching.types import Youth

THIN_NOTE = "thin_profile"
ASK_NEXT = thin.ASK_NEXT
CENTRE_REASON = "lié à un centre d'intérêt que vous avez cité (ROME)"
OPEN_REASON = "métier qui recrute, accessible pour débuter (profil à compléter)"


class TradeRules:
    """Accessibility, plausible pool and thin-profile candidates over one referential's cards.

    Args:
        referential: the loaded referential; codes: ROME codes in card order; cards: the card
            frame in that order.
    """

    def __init__(self, referential, codes: np.ndarray, cards) -> None:
        self.referential = referential
        self.codes = np.asarray(codes)
        self.requirements = access.card_requirements(cards)
        self._domains = cards["code_domaine"].to_numpy()
        self._wishes: access.WishMatcher | None = None
        self._close: np.ndarray | None = None
        self._open: np.ndarray | None = None
        self._open_key: int | None = None
        self.relevance_floor = plausible.RELEVANCE_FLOOR
        """Share of the best score a policy pick reaches (measured: benchmarks/quality/realistic_floor.py)."""

    def wished(self, youth: Youth) -> np.ndarray:
        """Bool ``(n_cards,)``: the cards the youth's wishes name (codes or titles)."""
        if self._wishes is None:
            self._wishes = access.WishMatcher(self.referential, self.codes)
        return self._wishes.mask(youth.wished_trades)

    def accessible(self, youth: Youth, wished: np.ndarray) -> np.ndarray:
        """Bool ``(n_cards,)``: the cards that may be suggested to this youth."""
        return access.accessible(self.requirements, age=youth.age, diploma_level=youth.diploma_level,
                                 wished=wished)

    def plausible(self, row_scores: np.ndarray, wished: np.ndarray) -> np.ndarray:
        """Bool ``(n_cards,)``: the cards a policy may move into this youth's list."""
        if self._close is None:
            self._close = plausible.neighbours(self.referential, self.codes)
        return plausible.plausible(row_scores, self._close, wished=wished, floor=self.relevance_floor)

    @staticmethod
    def texts(youth: Youth) -> list[str]:
        return [*youth.experiences, youth.interests or "", *youth.wished_trades]

    def is_thin(self, youth: Youth, wished: np.ndarray) -> bool:
        """Whether the profile is too thin to rank (:func:`matching.recommend.thin.is_thin`)."""
        return thin.is_thin(self.texts(youth), bool(wished.any()))

    def thin_scores(self, youth: Youth, row_scores: np.ndarray, table) -> tuple[np.ndarray, np.ndarray]:
        """A thin profile's candidate order (``-inf`` where ``row_scores`` is) and which cards
        come from a named interest centre, both ``(n_cards,)``; ``table``: the loaded vacancies
        (the territory's: their count per card adds to the openness)."""
        vacancies = None
        if len(table):
            vacancies = np.bincount(np.asarray(table.rome_pos, dtype=np.int64), minlength=self.codes.size)
        key = None if vacancies is None else int(vacancies.sum())
        if self._open is None or key != self._open_key:
            req = self.requirements
            closed = req.driving.copy()
            if req.first_diploma is not None:
                closed |= req.first_diploma >= thin.OPEN_MAX_DIPLOMA
            self._open = thin.openness(self.referential, self.codes, vacancies, closed=closed)
            self._open_key = key
        centres = thin.centre_cards(self.referential, self.codes, thin.informative_words(self.texts(youth)))
        order = thin.thin_key(row_scores, centres, self._open)
        return np.where(np.isfinite(row_scores), order, -np.inf).astype(np.float32), centres

    @staticmethod
    def thin_mix(mix: TradeMix) -> TradeMix:
        """The policy applied to a thin list: the same gender mix, one card per domain, no MMR."""
        return replace(mix, max_per_domain=thin.OPEN_PER_DOMAIN, diversity=0.0)

    def finish_items(self, items: list, positions, centres: np.ndarray | None) -> None:
        """Give each item its access requirements; in a thin list, say why it is there."""
        for item, pos in zip(items, positions, strict=True):
            item.access = self.requirements.text[int(pos)]
            if centres is not None:
                item.reasons.insert(0, CENTRE_REASON if centres[int(pos)] else OPEN_REASON)
