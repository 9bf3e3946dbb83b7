"""Who is within reach of whom: vacancies for youths, youths for vacancies.

Pure functions over the column tables of :mod:`~matching.recommend.catalog`. For a youth, the
eligible vacancies lie within the youth's radius, widened by 10 km steps until enough are
eligible, with distances computed once per place; for a vacancy, the eligible youths have it
within their ``mobility_km``, wish its contract (or none), reach its diploma level and are
available when it starts. The recommender then searches the vector indexes among these keys only.
"""

from __future__ import annotations

import numpy as np

from matching.recommend import ranking
from matching.recommend.catalog import VacancyTable, YouthTable, contract_bits
from matching.referential.geo import haversine_km
from matching.types import Youth, diploma_rank


def vacancies_within_reach(
    table: VacancyTable, youths: list[Youth], radius_km: float | None, top_k: int
) -> tuple[list[tuple], list[np.ndarray]]:
    """Each youth's eligible vacancies within the (widened) radius.

    Returns:
        Per youth ``(radius, used radius, near, distances)``: ``near`` the vacancy rows
        (:class:`~matching.recommend.catalog.TableRows`) within reach of the youth's place, with
        their distances in km ``(m,)``; and per youth the keys of the vacancies allowed.
    """
    radii = [radius_km if radius_km is not None else youth.mobility_km for youth in youths]
    # distances are computed once per place, up to the widest radius of its youths: a count
    # within a radius up to there is exact, so the widening is too unless it goes beyond
    reach: dict[tuple[float, float], float] = {}
    for youth, radius in zip(youths, radii, strict=True):
        place = (youth.location.lat, youth.location.lon)
        reach[place] = max(reach.get(place, 0.0), radius)
    by_place: dict[tuple[float, float], tuple] = {}
    plans, allowed = [], []
    for youth, radius in zip(youths, radii, strict=True):
        place = (youth.location.lat, youth.location.lon)
        while True:
            if place not in by_place:
                by_place[place] = table.near(*place, reach[place])
            near, distance = by_place[place]
            eligible, distance = ranking.vacancy_eligibility(
                near,
                *place,
                youth_contract_bits(youth),
                youth_diploma_rank(youth),
                youth_available_ordinal(youth),
                distance=distance,
            )
            used = ranking.widened_radius(distance, eligible, radius, top_k)
            if not used > reach[place]:  # (NaN radius: nothing within, as before)
                break
            # widened past the vacancies fetched (where counts may fall short, so it widens
            # at least as far as it should): fetch up to there and widen again
            reach[place] = max(ranking.WIDEN_MAX_KM, used)
            del by_place[place]
        plans.append((radius, used, near, distance))
        allowed.append(near.keys[eligible & (distance <= used)])
    return plans, allowed


def youths_within_reach(
    table: VacancyTable, youths: YouthTable, rows: list[int]
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """For each vacancy row: the distances to every youth ``(n_youths,)`` km and the keys of the
    youths within reach (mobility, contract wished, diploma level, availability)."""
    distances, allowed = [], []
    for row in rows:
        distance = haversine_km(table.lat[row], table.lon[row], youths.lat, youths.lon)
        ok = (distance <= youths.mobility_km) & (youths.level_rank >= table.level_rank[row])
        ok &= (youths.contracts == 0) | ((youths.contracts & table.contract_bit[row]) != 0)
        if table.start[row]:
            ok &= (youths.available == 0) | (youths.available <= table.start[row])
        distances.append(distance)
        allowed.append(youths.keys[ok])
    return distances, allowed


def youth_contract_bits(youth: Youth) -> int:
    """The youth's wished contracts as a bit set (0: no wish)."""
    return contract_bits(youth.contracts)


def youth_diploma_rank(youth: Youth) -> int:
    """The rank of the youth's diploma level (:func:`~matching.types.diploma_rank`)."""
    return diploma_rank(youth.diploma_level)


def youth_available_ordinal(youth: Youth) -> int:
    """The day the youth is available from, as a date ordinal (0: now)."""
    return youth.available_from.toordinal() if youth.available_from else 0
