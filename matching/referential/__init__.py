"""The public referentials: ROME 4.0 cards and their links, % women, NAF, communes; places.

Entry points: :func:`load_referential` (frames of :class:`Referential`, cached in the data home),
:func:`resolve_location` and :func:`haversine_km` (:mod:`matching.referential.geo`). The parsing
of the raw public files lives in :mod:`matching.referential.build`.
"""

from matching.referential.geo import PointIndex, haversine_km, resolve_location
from matching.referential.loader import Referential, load_referential

__all__ = ["PointIndex", "Referential", "haversine_km", "load_referential", "resolve_location"]
