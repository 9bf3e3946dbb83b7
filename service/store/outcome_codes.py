"""The outcome statuses and decline reasons: the tokens the store keeps and their French labels.

One place for the API, the web pages, the indicators and the erasure counts. A status or reason
is a token (English, stable, in the store and the JSON); people read its French label.

Rule for ``reason`` (:func:`check_outcome`): a ``declined`` outcome must carry one of
:data:`DECLINE_REASONS`; any other status may carry an optional free note of up to 500
characters (as before the reasons became codes, issue #14). Outcomes stored before that keep
their reason as written: a declined row whose reason is no code counts in ``declined`` only.
"""

from __future__ import annotations

from matching.errors import PasserelleError

OUTCOME_STATUSES: tuple[str, ...] = (
    "proposed",
    "contacted",
    "applied",
    "immersion",
    "hired",
    "in_post_6_months",
    "declined",
)
"""Every status an outcome row may have, in the order a suggestion moves through them."""
COUNTED_STATUSES: tuple[str, ...] = OUTCOME_STATUSES[1:]
"""Statuses the indicators and the anonymous counts keep (``proposed`` is not counted)."""
TAKE_UP_STATUSES: tuple[str, ...] = ("contacted", "applied", "immersion", "hired", "in_post_6_months")
"""Statuses that show a take-up of the suggestion (not ``proposed``, not ``declined``)."""

OUTCOME_LABELS_FR: dict[str, str] = {
    "proposed": "Proposé",
    "contacted": "Contact pris",
    "applied": "Candidature envoyée",
    "immersion": "Immersion",
    "hired": "Embauché",
    "in_post_6_months": "Toujours en poste après 6 mois",
    "declined": "Décliné",
}
"""French label of each status."""

DECLINE_REASONS: dict[str, str] = {
    "employer_no_reply": "L'employeur n'a pas répondu",
    "employer_declined": "L'employeur a refusé",
    "youth_declined": "Le jeune a refusé",
    "transport_distance": "Transport / distance",
    "hours_conditions": "Horaires / conditions de travail",
    "qualification_missing": "Qualification manquante",
    "position_filled": "Poste déjà pourvu",
    "other": "Autre",
}
"""Reason code of a ``declined`` outcome -> French label, in the order a form lists them."""

REASON_MAX_LENGTH = 500


class InvalidOutcome(PasserelleError):
    """An outcome whose status or reason is not allowed (422 naming the field)."""


def declined_measure(reason: str) -> str:
    """Name of the count of declines for ``reason`` (an ``indicator_counts`` column too)."""
    return f"declined_{reason}"


DECLINE_MEASURES: tuple[str, ...] = tuple(declined_measure(code) for code in DECLINE_REASONS)
"""``declined_<reason>`` for each reason code: columns of ``indicator_counts``."""


def check_outcome(status: str, reason: str | None) -> str | None:
    """Return the reason to store for an outcome of ``status``, or raise.

    Raises:
        InvalidOutcome: unknown status (field ``status``); a ``declined`` outcome without a
            reason code, or a note over 500 characters (field ``reason``).
    """
    if status not in OUTCOME_STATUSES:
        listed = ", ".join(OUTCOME_STATUSES)
        raise InvalidOutcome(
            f"unknown status {status!r}: use one of {listed}",
            field="status",
            message_fr=f"statut inconnu « {status} » : choisissez parmi {listed}",
        )
    if status == "declined" and reason not in DECLINE_REASONS:
        listed = ", ".join(DECLINE_REASONS)
        given = "missing" if reason is None else "not a reason code"  # the text is not echoed
        given_fr = "absente" if reason is None else "inconnue"
        raise InvalidOutcome(
            f"reason {given}: a declined outcome takes one of {listed}",
            field="reason",
            message_fr=f"raison {given_fr} : un refus prend l'un des codes {listed}",
        )
    if reason is not None and len(reason) > REASON_MAX_LENGTH:
        raise InvalidOutcome(
            f"reason: at most {REASON_MAX_LENGTH} characters",
            field="reason",
            message_fr=f"raison : {REASON_MAX_LENGTH} caractères au plus",
        )
    return reason


__all__ = [
    "COUNTED_STATUSES",
    "DECLINE_MEASURES",
    "DECLINE_REASONS",
    "OUTCOME_LABELS_FR",
    "OUTCOME_STATUSES",
    "REASON_MAX_LENGTH",
    "TAKE_UP_STATUSES",
    "InvalidOutcome",
    "check_outcome",
    "declined_measure",
]
