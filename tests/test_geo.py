import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching.errors import InvalidProfile, LocationMismatch, UnknownCommune
from matching.referential.geo import PointIndex, communes_within, haversine_km, resolve_location


def test_metz_coordinates(referential):
    metz = referential.communes.loc["57463"]
    assert metz["name"] == "Metz"
    assert metz["departement"] == "57"
    assert metz["lat"] == pytest.approx(49.12, abs=0.03)
    assert metz["lon"] == pytest.approx(6.18, abs=0.03)


def test_every_commune_has_coordinates(referential):
    communes = referential.communes
    assert communes[["lat", "lon"]].notna().all().all()
    assert len(communes) > 34_900
    assert {"75056", "69123", "13055", "75111"} <= set(communes.index)


def test_haversine_paris_metz(referential):
    paris, metz = referential.communes.loc["75056"], referential.communes.loc["57463"]
    distance = float(haversine_km(paris["lat"], paris["lon"], metz["lat"], metz["lon"]))
    assert distance == pytest.approx(281, abs=5)


def test_haversine_broadcasts():
    lats, lons = np.array([48.86, 49.12, 43.30]), np.array([2.34, 6.18, 5.40])
    matrix = haversine_km(lats[:, None], lons[:, None], lats, lons)
    assert matrix.shape == (3, 3)
    assert np.allclose(np.diag(matrix), 0)
    assert np.allclose(matrix, matrix.T)
    assert matrix[0, 1] == pytest.approx(float(haversine_km(48.86, 2.34, 49.12, 6.18)))


def test_resolve_by_commune(referential):
    location = resolve_location(referential, commune_insee="57463")
    assert (location.commune_insee, location.name, location.postcode) == ("57463", "Metz", None)


def test_resolve_by_postcode(referential):
    location = resolve_location(referential, postcode="57000")
    assert (location.commune_insee, location.postcode) == ("57463", "57000")
    assert resolve_location(referential, postcode=" 57000 ") == location


def test_postcode_with_several_communes_takes_the_first(referential):
    served = referential.postcodes.loc[referential.postcodes["postcode"] == "01000"]
    assert len(served) > 1
    location = resolve_location(referential, postcode="01000")
    assert location.commune_insee == served["commune_insee"].min()
    assert location.postcode == "01000"


def test_postcode_lost_leading_zero(referential):
    assert resolve_location(referential, postcode="1000").postcode == "01000"


def test_both_consistent(referential):
    location = resolve_location(referential, commune_insee="57463", postcode="57000")
    assert (location.commune_insee, location.postcode) == ("57463", "57000")
    paris = resolve_location(referential, commune_insee="75056", postcode="75011")
    assert paris.name == "Paris"


def test_mismatch(referential):
    with pytest.raises(LocationMismatch) as error:
        resolve_location(referential, commune_insee="75056", postcode="57000")
    assert error.value.field == "postcode"
    assert "57000" in error.value.message_fr


def test_unknown_commune(referential):
    with pytest.raises(UnknownCommune) as error:
        resolve_location(referential, commune_insee="99999")
    assert error.value.field == "commune_insee"
    assert "57463" in error.value.message
    assert error.value.message_fr.startswith("code commune inconnu")
    assert isinstance(error.value, LookupError)


def test_unknown_postcode(referential):
    with pytest.raises(UnknownCommune) as error:
        resolve_location(referential, postcode="00000")
    assert error.value.field == "postcode"


@pytest.mark.parametrize("blank", [None, "", "  "])
def test_nothing_given(referential, blank):
    with pytest.raises(InvalidProfile) as error:
        resolve_location(referential, commune_insee=blank, postcode=blank)
    assert error.value.field == "commune_insee"


def test_communes_within(referential):
    metz = referential.communes.loc["57463"]
    nearby = communes_within(referential, metz["lat"], metz["lon"], radius_km=10)
    assert nearby[0] == "57463"
    assert 10 < len(nearby) < 200
    assert "75056" not in nearby
    assert len(communes_within(referential, metz["lat"], metz["lon"], radius_km=0.001)) == 1


# ---------------------------------------------------------------- distances within a radius


@st.composite
def places(draw):
    n = draw(st.integers(0, 60))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):  # a region (France), points clustered or not
        lat, lon = rng.uniform(42, 51, n), rng.uniform(-5, 8.5, n)
    else:  # the whole sphere: poles and the date line
        lat, lon = rng.uniform(-90, 90, n), rng.uniform(-180, 180, n)
    if n and draw(st.booleans()):
        lat[rng.integers(0, n)] = np.nan
    at = draw(st.sampled_from(["region", "anywhere", "dateline", "point"]))
    if at == "point" and n:
        here = (float(lat[0]), float(lon[0]))
    elif at == "dateline":
        here = (float(rng.uniform(-60, 60)), float(rng.choice([179.95, -179.95])))
    elif at == "region":
        here = (float(rng.uniform(42, 51)), float(rng.uniform(-5, 8.5)))
    else:
        here = (float(rng.uniform(-90, 90)), float(rng.uniform(-180, 180)))
    radius = draw(st.sampled_from([0.0, 0.5, 5.0, 30.0, 100.0, 800.0, 5000.0, 25000.0]))
    return lat, lon, here, radius


@settings(max_examples=300, deadline=None)
@given(places())
def test_property_points_near_match_haversine(case):
    """Every point within the radius is returned with haversine_km's distance, bit for bit."""
    lat, lon, (here_lat, here_lon), radius = case
    index = PointIndex(lat, lon)
    every = haversine_km(here_lat, here_lon, lat, lon)
    rows, distances = index.near(here_lat, here_lon, radius)
    assert np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(distances, every[rows])  # same bits (NaN where NaN)
    within = np.flatnonzero(every <= radius)
    assert set(within.tolist()) <= set(rows.tolist())
    full = np.full(len(lat), np.inf)  # every point's distance as the index knows it
    full[rows] = distances
    np.testing.assert_array_equal(full[within], every[within])
    assert not np.any(full[every > radius] <= radius)
