"""The simulated world's state, day by day (``docs/SIMULATOR.md``): visits, funnels, answers.

:class:`Simulation` keeps what the latent model remembers between days: which youths were hired
(they stop visiting), how many candidates each vacancy already received (congestion), its hires
against its places (filled), and the answers, immersion ends and six-month checks still to come.
The caller, each simulated day ``d`` (0-based, in order): :meth:`~Simulation.advance` (what falls
due that day), :meth:`~Simulation.visitors` (who comes), serves their lists, then
:meth:`~Simulation.show` (what follows each shown item). Rows are numbered globally in the order
of the :meth:`~Simulation.show` calls; events name them.
"""

from __future__ import annotations

import numpy as np

from matching.learn import simulate as model
from matching.learn.simulate import Events, LatentYouths, Shown

_PENDING_FIELDS = ("kind", "due", "row", "youth", "vacancy", "distance_km", "level_gap", "accept_logit")
_FLOATS = ("distance_km", "accept_logit")


def _occurrence(values: np.ndarray) -> np.ndarray:
    """For each entry, how many equal entries come before it, int64 ``(n,)``."""
    order = np.argsort(values, kind="stable")
    ordered = values[order]
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]]) if len(values) else np.zeros(0, int)
    group_start = np.repeat(starts, np.diff(np.r_[starts, len(values)]))
    out = np.empty(len(values), dtype=np.int64)
    out[order] = np.arange(len(values)) - group_start
    return out


def _events(rows, day: int, status, reason=None) -> Events:
    rows = np.asarray(rows, dtype=np.int64)
    status = [status] * len(rows) if isinstance(status, str) else list(status)
    reason = [None] * len(rows) if reason is None else [None if r is None else str(r) for r in reason]
    status = [str(s) for s in status]
    return Events(rows, np.full(len(rows), day, dtype=np.int64), status, reason)


def concat(parts: list[Events]) -> Events:
    """One :class:`Events` of several, in order."""
    if not parts:
        return _events([], 0, [])
    return Events(np.concatenate([p.row for p in parts]), np.concatenate([p.day for p in parts]),
                  [s for p in parts for s in p.status], [r for p in parts for r in p.reason])


class Simulation:
    """The latent world over ``n_days`` days for the youths of ``latent`` and vacancies with
    ``places`` (``(n_vacancies,)``); strengths in [0, 1]; every draw from ``rng``."""

    def __init__(self, latent: LatentYouths, places: np.ndarray, *, preference: float = 1.0,
                 acceptance: float = 1.0, rng: np.random.Generator) -> None:
        for name, value in (("preference", preference), ("acceptance", acceptance)):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} strength {value} outside [0, 1]")
        self.latent = latent
        self.places = np.asarray(places, dtype=np.int64)
        self.preference, self.acceptance = float(preference), float(acceptance)
        self.rng = rng
        self.hired = np.zeros(len(latent.tolerance_km), dtype=bool)
        self.seen = np.zeros(len(self.places), dtype=np.int64)
        self.hires = np.zeros(len(self.places), dtype=np.int64)
        self.rows = 0
        self._looked = np.zeros(0, dtype=np.int64)  # youth * n_vacancies + vacancy, sorted
        self._pending = {name: np.zeros(0, dtype=np.float64 if name in _FLOATS else np.int64)
                         for name in _PENDING_FIELDS}

    def visitors(self, day: int, weekday: bool) -> np.ndarray:
        """Rows of the youths who visit on ``day`` (ascending; nobody at weekends or once hired)."""
        draws = self.rng.random(len(self.hired))
        if not weekday:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(~self.hired & (draws < (7.0 / 5.0) / self.latent.visit_interval))

    def show(self, day: int, shown: Shown) -> Events:
        """Draw what follows each shown item on ``day``; schedule the employers' answers.

        A pair is decided once, the first time the youth looks at it: shown again later, it
        brings nothing new, with probability the preference strength (at strength 0 the youth
        keeps no memory of a pair, so nothing depends on the pair's history).
        """
        m, lat, rng = len(shown.rank), self.latent, self.rng
        first = self.rows
        self.rows += m
        u = rng.random((m, 5))
        keys = shown.youth * len(self.places) + shown.vacancy
        remembered = np.isin(keys, self._looked) & (u[:, 4] < self.preference)
        looked = (u[:, 0] < model.look_probability(shown.rank)) & ~remembered
        self._looked = np.union1d(self._looked, keys[looked])
        terms = model.interest_terms(shown, lat)
        intercept = model.calibrated_intercept(terms[looked], model.INTEREST_RATE, self.preference)
        interested = looked & (u[:, 1] < model.interest_probability(shown, lat, self.preference, intercept))
        says_no = looked & ~interested & (u[:, 2] < model.YOUTH_SAYS_NO)
        far = shown.distance_km > lat.tolerance_km[shown.youth]
        other_contract = shown.contract != lat.contract[shown.youth]
        reasons = model.youth_reasons(far[says_no], other_contract[says_no], self.preference, rng)
        contact = np.flatnonzero(interested)
        applied = u[contact, 3] < model.APPLIED_SHARE
        vacancies = shown.vacancy[contact]
        seen_before = self.seen[vacancies] + _occurrence(vacancies)
        self.seen += np.bincount(vacancies, minlength=len(self.seen))
        delay = rng.integers(model.ANSWER_DELAY[0], model.ANSWER_DELAY[1] + 1, len(contact))
        logits = model.accept_logits(shown.level_gap[contact], shown.distance_km[contact], seen_before,
                                     self.acceptance)
        self._schedule(model.ANSWER, day + delay, first + contact, shown.youth[contact], vacancies,
                       shown.distance_km[contact], shown.level_gap[contact], logits)
        statuses = ["applied" if a else "contacted" for a in applied.tolist()]
        return concat([_events(first + contact, day, statuses),
                       _events(first + np.flatnonzero(says_no), day, "declined", reasons)])

    def advance(self, day: int) -> Events:
        """Draw the answers, immersion ends and six-month checks due on ``day``."""
        pending = self._pending
        due = pending["due"] == day
        now = {name: values[due] for name, values in pending.items()}
        self._pending = {name: values[~due] for name, values in pending.items()}
        parts = [self._answers(day, {k: v[now["kind"] == model.ANSWER] for k, v in now.items()}),
                 self._immersion_ends(day, {k: v[now["kind"] == model.IMMERSION_END] for k, v in now.items()})]
        in_post = now["row"][now["kind"] == model.IN_POST]
        kept = self.rng.random(len(in_post)) < model.IN_POST_RATE
        parts.append(_events(in_post[kept], day, "in_post_6_months"))
        return concat(parts)

    def _answers(self, day: int, due: dict[str, np.ndarray]) -> Events:
        n, rng = len(due["row"]), self.rng
        filled = self.hires[due["vacancy"]] >= self.places[due["vacancy"]]
        p = model.accept_probability(due["accept_logit"], filled, self.acceptance)
        u = rng.random((n, 2))
        accepted = u[:, 0] < p
        refused = ~accepted
        reasons = model.employer_reasons(filled[refused], due["level_gap"][refused],
                                         due["distance_km"][refused], self.acceptance, rng)
        immersion = accepted & (u[:, 1] < model.IMMERSION_SHARE)
        ends = day + rng.integers(model.IMMERSION_DAYS[0], model.IMMERSION_DAYS[1] + 1, n)
        self._schedule(model.IMMERSION_END, ends[immersion], *(due[k][immersion] for k in _PENDING_FIELDS[2:]))
        hire, taken = self._hire(day, due, accepted & ~immersion)
        return concat([_events(due["row"][refused], day, "declined", reasons),
                       _events(due["row"][immersion], day, "immersion"),
                       _events(due["row"][hire], day, "hired"),
                       _events(due["row"][taken], day, "declined", ["youth_declined"] * int(taken.sum()))])

    def _immersion_ends(self, day: int, due: dict[str, np.ndarray]) -> Events:
        n = len(due["row"])
        offered = self.rng.random(n) < model.IMMERSION_HIRE
        ended = ~offered
        reasons = model._from_table(model.IMMERSION_REASONS, int(ended.sum()), self.rng)
        hire, taken = self._hire(day, due, offered)
        return concat([_events(due["row"][hire], day, "hired"),
                       _events(due["row"][ended], day, "declined", reasons),
                       _events(due["row"][taken], day, "declined", ["youth_declined"] * int(taken.sum()))])

    def _hire(self, day: int, due: dict[str, np.ndarray], offered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Split hire offers into hires and offers a youth turns down (already hired, earlier the
        same day included); record the hires and schedule their six-month checks."""
        youths = due["youth"]
        hire = offered & ~self.hired[youths]
        hire &= _occurrence(np.where(hire, youths, -1 - np.arange(len(youths)))) == 0
        taken = offered & ~hire
        self.hired[youths[hire]] = True
        np.add.at(self.hires, due["vacancy"][hire], 1)
        self._schedule(model.IN_POST, day + model.IN_POST_DAYS + np.zeros(int(hire.sum()), dtype=np.int64),
                       *(due[k][hire] for k in _PENDING_FIELDS[2:]))
        return hire, taken

    def _schedule(self, kind: int, due, *columns) -> None:
        due = np.asarray(due, dtype=np.int64)
        values = dict(zip(_PENDING_FIELDS, (np.full(len(due), kind, dtype=np.int64), due, *columns),
                          strict=True))
        self._pending = {name: np.concatenate([self._pending[name], np.asarray(values[name]).astype(
            self._pending[name].dtype)]) for name in _PENDING_FIELDS}
