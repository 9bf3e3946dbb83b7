"""Graded labels of logged suggestions: what happened after an item was shown.

A suggestion's label is the highest grade among its outcomes (0 when it has none). The grades
follow issue #15: hired or still in post after 6 months 3, immersion 2, applied or contacted 1,
declined, proposed or nothing 0. Override them with :func:`grades_from` (e.g. from the
``PASSERELLE_LABEL_GRADES`` setting, ``"hired=4,immersion=2"``: the statuses named replace their
default grade, the others keep it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

DEFAULT_GRADES: Mapping[str, int] = {
    "proposed": 0,
    "contacted": 1,
    "applied": 1,
    "immersion": 2,
    "hired": 3,
    "in_post_6_months": 3,
    "declined": 0,
}
"""Outcome status -> graded relevance (``service.store.outcome_codes.OUTCOME_STATUSES``)."""
NO_OUTCOME = 0
"""The label of a suggestion without any outcome."""
GRADES_ENV = "PASSERELLE_LABEL_GRADES"
"""Environment variable read by the service for :func:`grades_from`."""


def grades_from(text: str | None, base: Mapping[str, int] = DEFAULT_GRADES) -> dict[str, int]:
    """``base`` with the grades of ``"status=grade,..."`` (empty or None: ``base`` unchanged).

    Raises:
        ValueError: an unknown status, a grade that is not an integer in 0..10.
    """
    grades = dict(base)
    for part in (text or "").split(","):
        if not part.strip():
            continue
        status, _, value = part.partition("=")
        status = status.strip()
        if status not in base:
            raise ValueError(f"unknown outcome status {status!r} in label grades: use {', '.join(base)}")
        try:
            grade = int(value)
        except ValueError:
            raise ValueError(f"grade of {status!r} must be an integer, got {value.strip()!r}") from None
        if not 0 <= grade <= 10:
            raise ValueError(f"grade of {status!r} must lie in 0..10, got {grade}")
        grades[status] = grade
    return grades


def label_of(statuses: Iterable[str], grades: Mapping[str, int] = DEFAULT_GRADES) -> int:
    """The label of one suggestion: the highest grade of its outcome ``statuses``."""
    return max((grades.get(status, NO_OUTCOME) for status in statuses), default=NO_OUTCOME)
