import math

import numpy as np
import pandas as pd
import pytest

from matching.errors import UnknownRomeCode
from matching.referential.loader import Referential, load_referential
from matching.types import GENDER_BANDS, SECTOR_FAMILIES

FRAMES = (
    "cards",
    "appellations",
    "skills",
    "mobility",
    "interest_centres",
    "interest_links",
    "naf_links",
    "hires",
    "naf_labels",
    "sector_families",
    "communes",
    "postcodes",
)


def test_counts(referential):
    assert len(referential.cards) == 1584
    assert len(referential.appellations) == 13120
    assert len(referential.naf_labels) == 732
    assert referential.cards.index.is_monotonic_increasing
    assert referential.cards.index.is_unique


def test_codes_are_the_card_order(referential):
    codes = referential.codes
    assert codes.shape == (1584,)
    assert list(codes[:2]) == ["A1101", "A1102"]
    assert (codes == referential.cards.index.to_numpy(dtype=str)).all()


def test_card_known_answer(referential):
    card = referential.card("D1102")
    assert card["label"] == "Boulanger / Boulangère"
    assert card["code_domaine"] == "D11"
    assert card["code_grand_domaine"] == "D"
    assert card["definition"].startswith("Le Boulanger")
    assert "CAP Boulanger" in card["access"]
    assert "''" not in card["definition"]  # source SQL-escaped apostrophes are undone


def test_unknown_card(referential):
    assert not referential.has_card("X9999")
    with pytest.raises(UnknownRomeCode) as error:
        referential.card("X9999")
    assert error.value.field == "code_rome"
    assert "X9999" in error.value.message_fr


def test_every_card_has_a_domain_and_texts(referential):
    cards = referential.cards
    assert (cards["code_domaine"] != "").all()
    assert (cards["code_domaine"].str[0] == cards["code_grand_domaine"]).all()
    assert (cards["definition"] != "").all()
    assert (cards["access"] != "").all()


def test_share_women_and_bands(referential):
    cards = referential.cards
    assert cards.at["D1202", "share_women"] == pytest.approx(0.865, abs=0.002)
    assert referential.band(cards.at["D1202", "share_women"]) == "female"
    assert referential.band(cards.at["I1604", "share_women"]) == "male"
    assert math.isnan(cards.at["L1510", "share_women"])
    assert referential.band(cards.at["L1510", "share_women"]) == "unknown"
    assert cards["share_women"].between(0, 1).sum() == 1583


@pytest.mark.parametrize(
    ("share", "band"),
    [
        (None, "unknown"),
        (float("nan"), "unknown"),
        (0.0, "male"),
        (0.399, "male"),
        (0.40, "mixed"),
        (0.60, "mixed"),
        (0.601, "female"),
        (1.0, "female"),
    ],
)
def test_band_thresholds(share, band):
    assert Referential.band(share) == band
    assert band in GENDER_BANDS


def test_band_keyword_thresholds_and_batch():
    assert Referential.band(0.45, male_below=0.5) == "male"
    assert Referential.band(0.55, female_above=0.5) == "female"
    shares = [0.1, 0.5, 0.9, float("nan")]
    assert list(Referential.bands(shares)) == [Referential.band(s) for s in shares]


def test_salary_and_tension(referential):
    cards = referential.cards
    assert cards.at["D1202", "median_salary"] > 1000
    assert cards.at["D1202", "median_salary_year"] == "2017-2019"
    assert cards.at["D1202", "tension_year"] == 2019
    assert not math.isnan(cards.at["D1202", "tension"])
    assert math.isnan(cards.at["L1510", "median_salary"])
    assert cards["tension"].isna().eq(cards["tension_year"].isna()).all()


def test_sector_families_valid(referential):
    families = referential.sector_families
    assert len(families) == 732
    assert set(families["sector_family"]) <= set(SECTOR_FAMILIES)
    by_naf = families.set_index("naf")["sector_family"]
    assert by_naf["1071C"] == by_naf["9602A"] == by_naf["4520A"] == by_naf["4399C"] == "artisanat"
    assert by_naf["4771Z"] == by_naf["4711F"] == "commerce"
    assert by_naf["6920Z"] == by_naf["8621Z"] == "liberal"
    assert by_naf["2910Z"] == "other"


def test_hires_for_bakers(referential):
    hires = referential.hires
    bakers = hires.loc[hires["code_rome"] == "D1102"].set_index("naf")["hirings"]
    assert bakers["1071C"] > 0
    assert bakers.idxmax() == "1071C"
    assert set(hires["code_rome"]) <= set(referential.codes)
    assert set(hires["naf"]) <= set(referential.naf_labels["naf"])


def test_hires_split_among_children(referential):
    # D1102 and D1108 share the ROME v3 parent D1102: each gets half of its hirings.
    hires = referential.hires.set_index(["code_rome", "naf"])["hirings"]
    assert hires["D1102", "1071C"] == hires["D1108", "1071C"]


def test_links_point_to_cards(referential):
    codes = set(referential.codes)
    for frame in ("appellations", "skills", "mobility", "interest_links", "naf_links"):
        assert set(getattr(referential, frame)["code_rome"]) <= codes, frame
    assert set(referential.mobility["code_rome_target"]) <= codes
    assert set(referential.skills["kind"]) == {"savoir_faire", "savoir_etre", "savoir"}
    assert referential.naf_links["naf_division"].str.len().eq(2).all()


def test_cache_round_trip(referential, referential_cache_dir):
    assert len(list(referential_cache_dir.glob("referential-*/complete"))) == 1
    warm = load_referential(cache_dir=referential_cache_dir)
    assert warm.data_hash == referential.data_hash
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(warm, name), getattr(referential, name))


def test_no_cache_equals_cache(referential):
    fresh = load_referential()
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(fresh, name), getattr(referential, name))
    assert np.array_equal(fresh.codes, referential.codes)


def test_hashable_by_identity(referential):
    assert hash(referential) == hash(referential)
    assert referential == referential
