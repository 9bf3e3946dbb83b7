"""Pure parts of the pages: the profile form reading, CSV/XLSX cells, the session's fingerprint."""

from __future__ import annotations

import pytest
from starlette.datastructures import FormData

from service.web.core.paths import is_web_path
from service.web.pages import profile_form as pf


def _values(**changes):
    entries = {"external_id": "", "commune": "Metz (57463)", "mobility_km": "12,5", "age": "19",
               "gender": "", "diploma_level": "", "experiences": " Vente \n\n Caisse ", "interests": "",
               "available_from": ""}
    entries.update(changes)
    items = [(k, v) for k, v in entries.items()] + [("wished_trades", "Boulanger (D1102)"),
                                                     ("wished_trades", "fleuriste"), ("contracts", "CDD"),
                                                     ("qpv", "on")]
    return pf.form_values(FormData(items))


def test_form_becomes_the_profile_json(referential):
    profile = pf.profile_of(_values(), referential)
    assert profile["commune_insee"] == "57463" and profile["mobility_km"] == 12.5 and profile["age"] == 19
    assert profile["experiences"] == ["Vente", "Caisse"]
    assert profile["wished_trades"] == ["D1102", "fleuriste"]
    assert profile["contracts"] == ["CDD"] and profile["qpv"] is True and profile["consent_share"] is False
    assert profile["gender"] is None


@pytest.mark.parametrize(("typed", "expected"), [("57000", {"postcode": "57000"}), ("57463", {"commune_insee": "57463"}),
                                                 ("metz", {"commune_insee": "57463"}), ("", {})])
def test_commune_is_read_from_a_code_a_postcode_or_a_name(referential, typed, expected):
    profile = pf.profile_of(_values(commune=typed), referential)
    assert {k: profile[k] for k in ("commune_insee", "postcode") if k in profile} == expected


def test_unknown_commune_names_the_field(referential):
    with pytest.raises(pf.FormProblem) as error:
        pf.profile_of(_values(commune="Nullepart-sur-Rien"), referential)
    assert error.value.field == "commune" and "introuvable" in error.value.message_fr


def test_non_numbers_reach_the_validator_as_typed(referential):
    assert pf.profile_of(_values(age="dix-neuf"), referential)["age"] == "dix-neuf"


def test_stored_profile_round_trips_through_the_form(referential):
    profile = pf.profile_of(_values(), referential)
    again = pf.profile_of(pf.values_of(profile, referential), referential)
    assert again == profile


def test_errors_land_on_form_fields():
    assert pf.field_of_error("postcode") == "commune"
    assert pf.field_of_error("experiences") == "experiences"
    assert pf.field_of_error("wished_trades.0") == "wished_trades"
    assert pf.field_of_error("mission_locale") == "form" and pf.field_of_error(None) == "form"


def test_api_paths_are_not_pages():
    assert not is_web_path("/v1/youths") and not is_web_path("/docs") and not is_web_path("/health")
    assert is_web_path("/jeunes") and is_web_path("/") and is_web_path("/static/css/passerelle.css")
