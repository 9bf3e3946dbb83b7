"""The suggestion document (``GET /v1/youths/{id}/suggestions``) as the pages show it: French
words for bands, flags, contracts and sector families; no score (people read positions)."""

from __future__ import annotations

from typing import Any

from service.exports import BAND_LABELS as BANDS
from service.output import sector_family_label
from service.web.pages.profile_form import CONTRACT_LABELS

MIX_POLICIES = {"balanced": "Équilibrée (au moins 20 % de métiers de chaque profil)",
                "counter_stereotype": "Contre les stéréotypes (métiers où le genre du jeune est peu représenté)",
                "off": "Aucune (pertinence seule)"}
"""The mix policy switch: token -> French label, in the order the switch lists them."""
MIX_MOVES = ("mixite", "balance")
"""``moved_by`` tokens of a card that a mix policy placed: the card says so."""


def share_text(share_women: float | None, band: str) -> str:
    """"23 % de femmes (métier à prédominance masculine)"."""
    if share_women is None:
        return "Part de femmes inconnue"
    return f"{round(100 * share_women)} % de femmes (métier {BANDS.get(band, band)})"


def trade_card(trade: dict[str, Any]) -> dict[str, Any]:
    """One trade card's display values."""
    access = trade.get("access")
    return {
        "code": trade["code_rome"], "label": trade["label"], "reasons": trade["reasons"],
        "suggestion_id": trade.get("suggestion_id"),
        "for_mix": trade.get("moved_by") in MIX_MOVES,
        "regulated": bool(trade.get("regulated")), "graduate": bool(trade.get("cadre")),
        "share": share_text(trade.get("share_women"), trade.get("band", "unknown")),
        "band": trade.get("band", "unknown"),
        "skills_shown": trade.get("skills_shown", []),
        "skills_to_acquire": trade.get("skills_to_acquire", []),
        "close_trades": trade.get("close_trades", []),
        "access": access if access and access != "non renseigné" else None,
    }


def vacancy_card(vacancy: dict[str, Any]) -> dict[str, Any]:
    """One vacancy card's display values."""
    from matching.recommend.ranking import distance_text  # the engine's wording of distances

    employer = vacancy["employer"]
    return {
        "id": vacancy["vacancy_id"], "title": vacancy["title"], "reasons": vacancy["reasons"],
        "suggestion_id": vacancy.get("suggestion_id"),
        "employer": employer["name"], "sector": sector_family_label(employer.get("sector_family")),
        "contract": CONTRACT_LABELS.get(vacancy["contract"], vacancy["contract"]),
        "distance": distance_text(vacancy["distance_km"]),
        "beginners": vacancy.get("beginners_accepted"),
    }


def notes_text(document: dict[str, Any]) -> list[str]:
    """French sentences for the document's notes (unmet floors, thin profile, no vacancies)."""
    texts = []
    for note in document.get("notes", {}).get("trades", []):
        if note.startswith("floor_unmet:"):
            band = BANDS.get(note.split(":", 1)[1], note)
            texts.append(f"Pas assez de métiers proches du profil {band} pour atteindre le minimum "
                         "de la politique de mixité : la liste n'est pas complétée par d'autres.")
        elif note == "thin_profile":
            texts.append("Le profil est trop court pour bien classer les métiers : posez d'abord "
                         "les questions ci-dessous.")
    if "no_vacancies_loaded" in document.get("notes", {}).get("vacancies", []):
        texts.append("Aucune offre n'est chargée.")
    return texts


def suggestions_view(document: dict[str, Any]) -> dict[str, Any]:
    """Everything the suggestions page, the fiche and the exports show."""
    return {"trades": [trade_card(t) for t in document["trades"]],
            "vacancies": [vacancy_card(v) for v in document["vacancies"]],
            "notes": notes_text(document), "ask_next": document.get("ask_next", []),
            "synthetic": document.get("synthetic", False)}

