"""The live engine: a recommender kept equal to the store, and its index snapshots.

Entry point: :class:`LiveEngine` (:mod:`~service.live.engine`); snapshots of its vectors at a
store generation are written and read by :mod:`~service.live.snapshots`.
"""

from service.live.engine import LiveEngine

__all__ = ["LiveEngine"]
