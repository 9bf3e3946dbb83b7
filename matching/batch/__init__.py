"""Batch scoring: every youth or every vacancy of a territory into one Parquet file.

Entry point: :func:`run_batch` with a :class:`BatchSource` and a :class:`BatchRequest`
(:mod:`~matching.batch.run`). Chunks are planned and assembled by :mod:`~matching.batch.plan`,
scored by :mod:`~matching.batch.score` on an engine of :mod:`~matching.batch.engines` (in
process, local workers, Ray); a youth run's distinct texts are scored once by
:mod:`~matching.batch.texts`; input files are read by :mod:`~matching.batch.inputs`.
"""

from matching.batch.run import BatchRequest, BatchSource, BatchSummary, run_batch

__all__ = ["BatchRequest", "BatchSource", "BatchSummary", "run_batch"]
