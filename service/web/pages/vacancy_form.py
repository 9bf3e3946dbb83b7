"""The vacancy form of ``/offres/nouvelle``: what was typed -> the API's ``VacancyIn`` body, and
French messages by the field for what its validation refuses.

The form reads text only; the rules are the API's (:class:`~service.api.employers.VacancyIn`,
then :func:`~service.api.employers.create_vacancy`), so a page and an API client are refused
the same things. Pydantic's messages are English: each field gets a French one here.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from matching.errors import PasserelleError
from service.api.employers import VacancyIn
from service.api.problems import ApiError
from service.store.errors import Conflict
from service.web.pages.profile_form import CONTRACT_LABELS, DIPLOMAS

TEXT_FIELDS = ("external_id", "employer_siret", "title", "description", "contract", "level_required",
               "places", "start_date", "end_date")
LEVELS = [("", "Aucun niveau exigé"), *[(code, text) for code, text in DIPLOMAS if code]]
CONTRACTS = list(CONTRACT_LABELS.items())
MESSAGES_FR = {
    "external_id": "64 caractères au plus.",
    "employer_siret": "Choisissez un employeur de votre territoire.",
    "title": "Indiquez l'intitulé du poste (300 caractères au plus).",
    "description": "10 000 caractères au plus.",
    "code_rome": "Choisissez un des codes ROME proposés.",
    "contract": "Choisissez un type de contrat de la liste.",
    "level_required": "Choisissez un niveau de la liste.",
    "places": "Indiquez un nombre de postes entre 1 et 1000.",
    "start_date": "Indiquez une date valide.",
    "end_date": "Indiquez une date valide.",
}
"""The message next to a field that :class:`VacancyIn` refused."""


def form_values(form: Any) -> dict[str, Any]:
    """The entries as typed (kept to show the form again)."""
    values = {name: str(form.get(name) or "").strip() for name in TEXT_FIELDS}
    values["beginners_accepted"] = form.get("beginners_accepted") == "on"
    values["code_rome"] = str(form.get("code_rome") or "").strip().upper()
    return values


def empty_values() -> dict[str, Any]:
    """A new vacancy's form: one place, beginners accepted, a CDI."""
    return {**dict.fromkeys(TEXT_FIELDS, ""), "places": "1", "contract": "CDI",
            "beginners_accepted": True, "code_rome": ""}


def vacancy_body(values: dict[str, Any], *, code_rome: str | None) -> VacancyIn:
    """The API's body for the entries (``code_rome`` None: to be inferred).

    Raises:
        ValidationError: what the API would answer 422 for.
    """
    body: dict[str, Any] = {key: values[key] or None for key in
                            ("external_id", "level_required", "start_date", "end_date")}
    body.update(employer_siret=values["employer_siret"], title=values["title"],
                description=values["description"], contract=values["contract"],
                beginners_accepted=values["beginners_accepted"], code_rome=code_rome,
                places=values["places"] or "1")
    return VacancyIn.model_validate({key: value for key, value in body.items() if value is not None})


def errors_of(error: Exception) -> dict[str, str]:
    """French messages by field name (``form``: not tied to one field)."""
    if isinstance(error, ValidationError):
        errors: dict[str, str] = {}
        for item in error.errors():
            field = str(item["loc"][0]) if item.get("loc") else "form"
            errors.setdefault(field, MESSAGES_FR.get(field, "Valeur refusée."))
        return errors
    if isinstance(error, ApiError):
        return {error.field or "form": error.detail_fr}
    if isinstance(error, Conflict):
        return {"form": "Cette offre vient d'être enregistrée : voyez la liste des offres."}
    assert isinstance(error, PasserelleError)
    field = {"employer": "employer_siret", "siret": "employer_siret"}.get(error.field or "", error.field or "form")
    return {field if field in MESSAGES_FR else "form": error.message_fr}
