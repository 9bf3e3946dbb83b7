import numpy as np
import pytest

from matching.errors import InvalidProfile, LocationMismatch, UnknownCommune
from matching.geo import communes_within, haversine_km, resolve_location


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
