"""The job-dating planner: young people to firms' interview slots, with mixité floors (MILP).

Entry points: :func:`parse_firms`, :func:`parse_youths` and :func:`build_instance`
(:mod:`~matching.events.inputs`), :func:`plan_meetings` (:mod:`~matching.events.plan`); the checks
and the greedy baseline are in :mod:`~matching.events.report`.
"""

from matching.events.inputs import build_instance, parse_firms, parse_youths
from matching.events.plan import plan_meetings

__all__ = ["build_instance", "parse_firms", "parse_youths", "plan_meetings"]
