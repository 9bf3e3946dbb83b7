"""Seeded SYNTHETIC data drawn from the real referentials: there is no public data on youths.

Entry points: :func:`generate` (Missions Locales, employers, vacancies, youth profiles:
:mod:`~matching.synthetic.dataset`) and the job-dating event of :mod:`~matching.synthetic.event`.
Places and employers (:mod:`~matching.synthetic.places`), vacancies
(:mod:`~matching.synthetic.vacancies`), youths (:mod:`~matching.synthetic.youths`), French wording
(:mod:`~matching.synthetic.wording`), per-card tables (:mod:`~matching.synthetic.cards`), the
data set as values (:mod:`~matching.synthetic.model`) and the Parquet files
(:mod:`~matching.synthetic.files`) are its parts.
"""

from matching.synthetic.dataset import generate
from matching.synthetic.event import synthetic_event, synthetic_event_csv
from matching.synthetic.model import SyntheticData

__all__ = ["SyntheticData", "generate", "synthetic_event", "synthetic_event_csv"]
