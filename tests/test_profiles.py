"""Youth profile contract: the JSON Schema and the rules it cannot express."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.errors import (
    EmptyProfile,
    InvalidProfile,
    LocationMismatch,
    OutOfRange,
    UnknownCommune,
    UnknownRomeCode,
)
from matching.profiles import check_mobility, parse_youth, schema_error, youth_schema, youth_to_dict

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture()
def profile() -> dict:
    return json.loads((EXAMPLES / "youth.json").read_text(encoding="utf-8"))


def test_example_is_valid_against_the_schema(profile):
    jsonschema.Draft202012Validator.check_schema(youth_schema())
    jsonschema.validate(profile, youth_schema())


def test_example_parses_to_metz(referential, profile):
    youth, warnings = parse_youth(profile, referential)
    assert youth.location.commune_insee == "57463"
    assert youth.mobility_km == 15
    assert youth.wished_trades == ("boulangère", "D1106")
    assert youth.id.startswith("Y-") and warnings == []


def test_id_is_stable_and_kept_when_given(referential, profile):
    first, _ = parse_youth(profile, referential)
    again, _ = parse_youth(dict(profile), referential)
    assert first.id == again.id
    assert parse_youth({**profile, "id": "abc"}, referential)[0].id == "abc"


def test_round_trip_through_dict(referential, profile):
    youth, _ = parse_youth({**profile, "id": "Y-1"}, referential)
    again, _ = parse_youth(youth_to_dict(youth), referential)
    assert again == youth


def test_defaults(referential):
    youth, _ = parse_youth({"postcode": "57000", "interests": "cuisine"}, referential)
    assert youth.mobility_km == 20 and youth.consent_share is False and youth.gender is None
    assert youth.gender_group == "not_stated"


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"commune_insee": "99999", "postcode": None}, UnknownCommune, "commune_insee"),
        ({"commune_insee": None, "postcode": "00001"}, UnknownCommune, "postcode"),
        ({"commune_insee": "75056", "postcode": "57000"}, LocationMismatch, "postcode"),
        ({"experiences": [], "interests": "", "wished_trades": []}, EmptyProfile, "experiences"),
        ({"mobility_km": 250}, InvalidProfile, "mobility_km"),
        ({"mobility_km": 0}, InvalidProfile, "mobility_km"),
        ({"age": 40}, InvalidProfile, "age"),
        ({"gender": "female"}, InvalidProfile, "gender"),
        ({"contracts": ["freelance"]}, InvalidProfile, "contracts"),
        ({"favourite_colour": "blue"}, InvalidProfile, "favourite_colour"),
        ({"wished_trades": ["z9999"]}, UnknownRomeCode, "wished_trades"),
        ({"wished_trades": ["A9999"]}, UnknownRomeCode, "wished_trades"),
        ({"available_from": "2026-02-30"}, InvalidProfile, "available_from"),
        ({"mobility_km": float("nan")}, InvalidProfile, "mobility_km"),  # minimum/maximum let NaN pass
        ({"mobility_km": float("inf")}, InvalidProfile, "mobility_km"),
        ({"id": "a/b/c"}, InvalidProfile, "id"),  # no route could reach it
        ({"id": "../../etc/passwd"}, InvalidProfile, "id"),
        ({"id": ".."}, InvalidProfile, "id"),
        ({"id": "x" * 65}, InvalidProfile, "id"),
    ],
)
def test_bad_input_names_the_field(referential, profile, change, error, field):
    with pytest.raises(error) as caught:
        parse_youth({**profile, **change}, referential)
    assert caught.value.field == field
    assert caught.value.message_fr and caught.value.message


def test_location_is_required(referential, profile):
    data = {k: v for k, v in profile.items() if k not in ("commune_insee", "postcode")}
    with pytest.raises(InvalidProfile, match="commune_insee"):
        parse_youth(data, referential)


def test_not_an_object(referential):
    with pytest.raises(InvalidProfile):
        parse_youth([1, 2], referential)


def test_age_outside_usual_range_warns(referential, profile):
    _, warnings = parse_youth({**profile, "age": 28}, referential)
    assert warnings and "28" in warnings[0]


@pytest.mark.parametrize("radius", [0.5, 201, -3])
def test_radius_out_of_range(radius):
    with pytest.raises(OutOfRange):
        check_mobility(radius, field="radius_km")


def test_radius_in_range():
    assert check_mobility(1) == 1.0 and check_mobility(200) == 200.0


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-5, 200), st.floats(allow_nan=False, width=32),
                    st.text(max_size=12), st.lists(st.text(max_size=8), max_size=3), st.just("2026-09-01"),
                    st.just("57463"), st.just("F"), st.just(["CDI"]), st.just("4"))


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(sorted(youth_schema()["properties"]) + ["unknown"]), _VALUES, max_size=8))
def test_the_fast_schema_check_never_accepts_what_jsonschema_refuses(data):
    """The compiled fast path only skips the full validator on profiles the full one accepts."""
    from matching.profiles import _validator

    assert (schema_error(data) is None) == _validator().is_valid(data)
