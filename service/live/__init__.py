"""The live engine: a recommender kept equal to the store, and its index snapshots.

Entry point: :class:`LiveEngine` (:mod:`~service.live.engine`), whose requests read one
:class:`EngineState` (:mod:`~service.live.apply`, which also builds the next one); snapshots of its vectors at a
store generation are written and read by :mod:`~service.live.snapshots`.
"""

from service.live.apply import EngineState
from service.live.engine import LiveEngine

__all__ = ["EngineState", "LiveEngine"]
