"""The youth profile form: what the adviser types, turned into the profile JSON the API
validates (and back, to edit a stored profile).

No validation here: :func:`service.api.youths.validated_profile` checks the profile and its
French messages are shown next to the field they name (:func:`field_of_error`). This module only
reads the form (numbers with a decimal comma, one experience per line, a commune picked from the
list as "Metz (57463)", a trade as "Boulanger / Boulangère (D1102)").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from matching.types import CONTRACTS

GENDERS = [("", "Non précisé"), ("F", "Femme"), ("M", "Homme"), ("X", "Autre")]
DIPLOMAS = [("", "Non renseigné"), ("none", "Aucun diplôme"), ("3", "CAP, BEP (niveau 3)"),
            ("4", "Baccalauréat (niveau 4)"), ("5", "Bac+2 : BTS, BUT (niveau 5)"),
            ("6", "Licence, bac+3 (niveau 6)"), ("7", "Master, bac+5 (niveau 7)"),
            ("8", "Doctorat (niveau 8)")]
CONTRACT_LABELS = {"CDI": "CDI", "CDD": "CDD", "interim": "Intérim", "apprentissage": "Apprentissage",
                   "professionnalisation": "Contrat de professionnalisation", "stage": "Stage",
                   "immersion": "Immersion (PMSMP)"}
WISH_FIELDS = 3
"""Wished-trade inputs on the form."""
TEXT_FIELDS = ("external_id", "commune", "mobility_km", "age", "gender", "diploma_level",
               "experiences", "interests", "available_from")
CHECKBOXES = ("qpv", "driving_licence", "consent_share")
FIELD_OF = {"commune_insee": "commune", "postcode": "commune", "location": "commune",
            "mission_locale": "form", "body": "form", "id": "form"}
"""Form field showing the error of a profile field (others show under their own name)."""

_CODE_AT_END = re.compile(r"\(\s*([0-9][0-9AB][0-9]{3})\s*\)\s*$")
_ROME_AT_END = re.compile(r"\(\s*([A-N][0-9]{4})\s*\)\s*$")
_CODE = re.compile(r"[0-9][0-9AB][0-9]{3}")


def fold(text: str) -> str:
    """Lower case without accents, hyphens as spaces: how names are compared."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("-", " ").replace("'", " ").split())


@lru_cache(maxsize=4)
def commune_names(referential) -> dict[str, list[str]]:
    """Folded commune name -> INSEE codes (a name may be shared)."""
    names: dict[str, list[str]] = {}
    for code, name in referential.communes["name"].items():
        names.setdefault(fold(str(name)), []).append(str(code))
    return names


def commune_label(referential, code: str | None) -> str:
    """"Metz (57463)", as the commune list shows it ("" when unknown)."""
    if not code or code not in referential.communes.index:
        return code or ""
    return f"{referential.communes.at[code, 'name']} ({code})"


class FormProblem(ValueError):
    """A form value that cannot be read as a profile field (the field and a French message)."""

    def __init__(self, field: str, message_fr: str):
        super().__init__(message_fr)
        self.field, self.message_fr = field, message_fr


def _location(referential, text: str) -> dict[str, str]:
    text = text.strip()
    if not text:
        return {}
    found = _CODE_AT_END.search(text)
    if found:
        return {"commune_insee": found.group(1)}
    if _CODE.fullmatch(text):
        if text in referential.communes.index or not text.isdigit():
            return {"commune_insee": text}
        return {"postcode": text}
    codes = commune_names(referential).get(fold(text), [])
    if len(codes) == 1:
        return {"commune_insee": codes[0]}
    if codes:
        raise FormProblem("commune", f"plusieurs communes s'appellent « {text} » : choisissez la vôtre "
                                     "dans la liste proposée ou saisissez son code postal")
    raise FormProblem("commune", f"commune « {text} » introuvable : choisissez-la dans la liste "
                                 "proposée ou saisissez son code postal (ex. 57000)")


def _number(text: str, integer: bool) -> Any:
    text = text.strip().replace(",", ".").replace("\u00a0", "").replace(" ", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return text  # not a number: the profile schema names the field and says what it expects
    return int(value) if integer and value.is_integer() else value


def _wish(text: str) -> str:
    found = _ROME_AT_END.search(text)
    return found.group(1) if found else text.strip()


def form_values(form) -> dict[str, Any]:
    """The raw entries of a submitted form, to show them again as typed."""
    values: dict[str, Any] = {name: str(form.get(name) or "") for name in TEXT_FIELDS}
    values.update({name: form.get(name) == "on" for name in CHECKBOXES})
    wishes = [str(w) for w in form.getlist("wished_trades")][:WISH_FIELDS]
    values["wished_trades"] = wishes + [""] * (WISH_FIELDS - len(wishes))
    values["contracts"] = [str(c) for c in form.getlist("contracts")]
    return values


def profile_of(values: dict[str, Any], referential) -> dict[str, Any]:
    """The profile JSON of the form's ``values`` (:func:`form_values`); raise
    :class:`FormProblem` for a commune that cannot be found."""
    profile: dict[str, Any] = {
        "external_id": values["external_id"].strip() or None,
        "age": _number(values["age"], integer=True),
        "gender": values["gender"] or None,
        "diploma_level": values["diploma_level"] or None,
        "experiences": [line.strip() for line in values["experiences"].splitlines() if line.strip()],
        "interests": values["interests"].strip(),
        "wished_trades": [_wish(w) for w in values["wished_trades"] if w.strip()],
        "contracts": [c for c in values["contracts"] if c in CONTRACTS] + [
            c for c in values["contracts"] if c not in CONTRACTS],
        "available_from": values["available_from"].strip() or None,
        **{name: bool(values[name]) for name in CHECKBOXES},
    }
    mobility = _number(values["mobility_km"], integer=False)
    if mobility is not None:
        profile["mobility_km"] = mobility
    profile.update(_location(referential, values["commune"]))
    return profile


def values_of(profile: dict[str, Any], referential) -> dict[str, Any]:
    """The form's entries for a stored ``profile`` (to edit it)."""
    wishes = [wish_label(referential, w) for w in profile.get("wished_trades") or []][:WISH_FIELDS]
    mobility = profile.get("mobility_km")
    return {
        "external_id": profile.get("external_id") or "",
        "commune": commune_label(referential, profile.get("commune_insee")) or profile.get("postcode") or "",
        "mobility_km": "" if mobility is None else f"{mobility:g}",
        "age": "" if profile.get("age") is None else str(profile["age"]),
        "gender": profile.get("gender") or "",
        "diploma_level": profile.get("diploma_level") or "",
        "experiences": "\n".join(profile.get("experiences") or []),
        "interests": profile.get("interests") or "",
        "available_from": profile.get("available_from") or "",
        "wished_trades": wishes + [""] * (WISH_FIELDS - len(wishes)),
        "contracts": list(profile.get("contracts") or []),
        **{name: bool(profile.get(name)) for name in CHECKBOXES},
    }


def wish_label(referential, wish: str) -> str:
    if referential.has_card(wish):
        return f"{referential.cards.at[wish, 'label']} ({wish})"
    return wish


def field_of_error(field: str | None) -> str:
    """The form field where a profile error is shown (``form``: above the form)."""
    if not field:
        return "form"
    name = field.split(".")[0].split("[")[0]
    return FIELD_OF.get(name, name if name in (*TEXT_FIELDS, *CHECKBOXES, "wished_trades", "contracts")
                        else "form")
