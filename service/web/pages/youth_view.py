"""Shared by the youth pages: load an adviser's youth (404 otherwise, audited) and describe a
profile in French."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request

from matching.profiles import SAFE_ID
from service.store import crud
from service.web.core.errors import NOT_FOUND_FR, WebError
from service.web.pages import profile_form as pf

_SAFE_ID = re.compile(SAFE_ID)


def load_youth(request: Request, principal, youth_id: str, *, action: str | None):
    """The adviser's youth ``youth_id`` (a 404 page when unknown, malformed or another Mission
    Locale's); writes an audit line ``action`` (None: the caller audits its own write)."""
    if len(youth_id) > 64 or not _SAFE_ID.fullmatch(youth_id):
        raise WebError(404, NOT_FOUND_FR)
    st = request.app.state
    if action is None:
        with st.read_sessions() as session:
            return crud.get_youth(session, youth_id, mission_locale=principal.mission_locale)
    with st.sessions.begin() as session:
        row = crud.get_youth(session, youth_id, mission_locale=principal.mission_locale)
        crud.audit(session, principal.actor, action, "youth", row.id)
    return row


def _label(options: list[tuple[str, str]], value: Any) -> str:
    return dict(options).get(value or "", str(value))


def _yes_no(value: Any) -> str:
    return "non renseigné" if value is None else ("oui" if value else "non")


def youth_summary(request: Request, profile: dict[str, Any]) -> list[tuple[str, Any]]:
    """``(label, value)`` pairs of a profile, in French; a list value is shown as a list."""
    referential = request.app.state.workspace.referential()
    wishes = [pf.wish_label(referential, w) for w in profile.get("wished_trades") or []]
    contracts = [pf.CONTRACT_LABELS.get(c, c) for c in profile.get("contracts") or []]
    age = profile.get("age")
    mobility = profile.get("mobility_km")
    return [
        ("Référence du dossier", profile.get("external_id") or "non renseignée"),
        ("Commune", pf.commune_label(referential, profile.get("commune_insee")) or "non renseignée"),
        ("Mobilité", f"{mobility:g} km" if mobility is not None else "20 km"),
        ("Âge", f"{age} ans" if age is not None else "non renseigné"),
        ("Genre", _label(pf.GENDERS, profile.get("gender"))),
        ("Diplôme", _label(pf.DIPLOMAS, profile.get("diploma_level"))),
        ("Métiers souhaités", wishes or "aucun"),
        ("Expériences", list(profile.get("experiences") or []) or "aucune"),
        ("Centres d'intérêt", profile.get("interests") or "non renseignés"),
        ("Contrats recherchés", contracts or "tous"),
        ("Permis de conduire", _yes_no(profile.get("driving_licence"))),
        ("Quartier prioritaire (QPV)", _yes_no(profile.get("qpv"))),
        ("Disponible à partir du", profile.get("available_from") or "non renseigné"),
        ("Partage du profil accepté", _yes_no(profile.get("consent_share"))),
    ]
