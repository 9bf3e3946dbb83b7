"""Places: commune code or postcode to coordinates, great-circle distances, radius pre-filter."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from matching.errors import InvalidProfile, LocationMismatch, UnknownCommune
from matching.referential.loader import Referential
from matching.types import Location

EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG)."""


def haversine_km(
    lat1: npt.ArrayLike, lon1: npt.ArrayLike, lat2: npt.ArrayLike, lon2: npt.ArrayLike
) -> npt.NDArray[np.float64]:
    """Return great-circle distances in km between points given in degrees (WGS84).

    Arguments broadcast like numpy arrays: ``(n, 1)`` against ``(m,)`` gives ``(n, m)``; scalars
    give a 0-d array (``float(...)`` it).
    """
    phi2 = np.radians(lat2)
    return _haversine(np.radians(lat1), np.radians(lon1), phi2, np.radians(lon2), np.cos(phi2))


def _haversine(phi1, lambda1, phi2, lambda2, cos_phi2) -> npt.NDArray[np.float64]:
    """Haversine distances in km from angles in radians, ``cos_phi2 = cos(phi2)`` given (points
    whose trigonometry is computed once: :class:`PointIndex`)."""
    dphi = phi2 - phi1
    dlambda = lambda2 - lambda1
    a = np.sin(dphi / 2) ** 2 + np.cos(phi1) * cos_phi2 * np.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


class PointIndex:
    """Fixed points (vacancies) sorted by latitude, for distances from many places to the points
    within a radius only.

    A point farther in latitude than the radius is farther than the radius (the great-circle
    distance is at least R |delta phi|), and so is a point farther in longitude than what the
    radius spans at the band's highest latitude; a margin keeps float rounding on the safe side.

    Args:
        lat, lon: the points in degrees, ``(n,)``.
    """

    def __init__(self, lat: npt.ArrayLike, lon: npt.ArrayLike):
        lat, lon = np.asarray(lat, dtype=np.float64), np.asarray(lon, dtype=np.float64)
        self._order = np.argsort(lat, kind="stable")  # NaN last: never inside a band
        self._lat, self._lon = lat[self._order], lon[self._order]
        self._all = (lat, lon)
        phi = np.radians(lat)
        self._angles = (phi, np.radians(lon), np.cos(phi))  # per point, as haversine_km has them
        finite = lon[np.isfinite(lon)]
        self._lon_in_range = bool(np.all(np.abs(finite) <= 180.0))  # then |dlon| <= 360

    def __len__(self) -> int:
        return int(self._order.size)

    def near(
        self, lat: float, lon: float, max_km: float
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """The points that may lie within ``max_km`` of (lat, lon): every point within it and
        perhaps some beyond, as ``(positions ascending (m,), distances in km (m,))``; the
        distances are ``haversine_km(lat, lon, point)``, same bits."""
        lat, lon, max_km = float(lat), float(lon), float(max_km)
        angle = max_km / EARTH_RADIUS_KM * (1 + 1e-6) + 1e-12  # radians, rounded up
        band = np.degrees(angle)
        if not (np.isfinite(lat) and np.isfinite(lon) and abs(lat) + band < 89.0):
            return np.arange(len(self), dtype=np.int64), haversine_km(lat, lon, *self._all)
        lo = int(np.searchsorted(self._lat, lat - band, side="left"))
        hi = int(np.searchsorted(self._lat, lat + band, side="right"))
        inside = self._order[lo:hi]
        # |sin(dlambda / 2)| sqrt(cos phi1 cos phi2) <= sin(angle / 2) for any point within reach
        spread = np.sin(angle / 2) / np.sqrt(
            np.cos(np.radians(lat)) * np.cos(np.radians(abs(lat) + band))
        )
        if spread < 0.5 and self._lon_in_range and abs(lon) <= 180.0:
            limit = np.degrees(2 * np.arcsin(spread)) * (1 + 1e-6) + 1e-9
            gap = np.abs(self._lon[lo:hi] - lon)  # in [0, 360]: the gap is min(gap, 360 - gap)
            keep = gap <= limit  # NaN: False
            keep |= gap >= 360.0 - limit
            inside = inside[keep]
        rows = np.sort(inside)
        phi, lam, cos_phi = (values[rows] for values in self._angles)
        return rows, _haversine(np.radians(lat), np.radians(lon), phi, lam, cos_phi)


def communes_within(
    ref: Referential, lat: float, lon: float, radius_km: float
) -> npt.NDArray[np.str_]:
    """Return the INSEE codes of communes whose centre lies within ``radius_km``, nearest first.

    Arrondissements (Paris, Lyon, Marseille) are listed as well as their city.
    """
    communes = ref.communes
    distances = haversine_km(lat, lon, communes["lat"].to_numpy(), communes["lon"].to_numpy())
    inside = np.flatnonzero(distances <= radius_km)
    order = inside[np.argsort(distances[inside], kind="stable")]
    return communes.index.to_numpy(dtype=str)[order]


def resolve_location(
    ref: Referential, commune_insee: str | None = None, postcode: str | None = None
) -> Location:
    """Resolve an INSEE commune code and/or a postcode to a :class:`Location`.

    With a postcode alone that serves several communes, the first commune by code is taken.
    With both, the postcode must serve the commune. A 4-digit number (a leading zero lost in a
    spreadsheet) is padded to 5.

    Raises:
        InvalidProfile: neither is given.
        UnknownCommune: the commune code (``field="commune_insee"``) or the postcode
            (``field="postcode"``) is not known.
        LocationMismatch: the postcode does not serve the commune (``field="postcode"``).
    """
    commune_insee, postcode = _clean(commune_insee), _clean(postcode)
    places = ref.commune_places
    if commune_insee is not None and commune_insee not in places:
        raise UnknownCommune(
            f"unknown commune code {commune_insee!r}: give the 5-character INSEE code "
            "(e.g. 57463 for Metz) or a postcode",
            field="commune_insee",
            message_fr=f"code commune inconnu {commune_insee!r} : indiquez le code INSEE à "
            "5 caractères (par exemple 57463 pour Metz) ou le code postal",
        )
    if postcode is not None:
        code = _served_commune(ref, postcode, commune_insee)
    elif commune_insee is None:
        raise InvalidProfile(
            "no location: give a commune INSEE code (e.g. 57463 for Metz) or a postcode",
            field="commune_insee",
            message_fr="lieu manquant : indiquez le code INSEE de la commune (par exemple "
            "57463 pour Metz) ou le code postal",
        )
    else:
        code = commune_insee
    name, lat, lon = places[code]
    return Location(commune_insee=code, postcode=postcode, name=name, lat=lat, lon=lon)


def _served_commune(ref: Referential, postcode: str, commune_insee: str | None) -> str:
    """The INSEE code of the commune that ``postcode`` locates: ``commune_insee`` when the
    postcode serves it, its first commune by code when no commune is given.

    Raises:
        UnknownCommune: the postcode is not known (``field="postcode"``).
        LocationMismatch: the postcode does not serve the commune (``field="postcode"``).
    """
    served = ref.postcode_communes.get(postcode, [])
    if not served:
        raise UnknownCommune(
            f"unknown postcode {postcode!r}: give a 5-digit French postcode (e.g. 57000 "
            "for Metz) or the commune INSEE code",
            field="postcode",
            message_fr=f"code postal inconnu {postcode!r} : indiquez un code postal "
            "français à 5 chiffres (par exemple 57000 pour Metz) ou le code INSEE de la "
            "commune",
        )
    if commune_insee is None:
        return served[0]
    if commune_insee in served:
        return commune_insee
    name = ref.commune_places[commune_insee][0]
    raise LocationMismatch(
        f"postcode {postcode!r} does not serve commune {commune_insee!r} ({name}): "
        "correct one of them, or give only the commune code",
        field="postcode",
        message_fr=f"le code postal {postcode!r} ne correspond pas à la commune "
        f"{commune_insee!r} ({name}) : corrigez l'un des deux, ou indiquez seulement "
        "le code commune",
    )


def _clean(code: str | int | None) -> str | None:
    if code is None:
        return None
    text = str(code).strip().upper()
    if not text:
        return None
    return text.zfill(5) if text.isdigit() and len(text) == 4 else text
