"""Time added by balancing a shortlist: 100 candidates into 10, vs the relevance-only top-k.

Both steps run on the same lists in the same loop, interleaved, so machine load hits both
alike; the figure that matters is the difference (and the ratio). Two clocks: thread CPU time
(``time.thread_time_ns``: what the step costs this thread) and wall time (``perf_counter_ns``).
"""

from __future__ import annotations

import gc
import time

import numpy as np

from matching.fairness.policies import Balance, rerank_candidate_list
from matching.recommend.ranking import top_k_order


def _percentiles(values_ns: np.ndarray) -> dict[str, float]:
    micro = values_ns / 1e3
    return {"p50_us": float(np.percentile(micro, 50)), "p99_us": float(np.percentile(micro, 99))}


def time_rerank(lists, top_k: int = 10, repeats: int = 5, balance: Balance | None = None) -> dict:
    """Time ``rerank_candidate_list`` (the engine's balancing step) vs ``top_k_order``.

    Args:
        lists: ``(rows int64 (n,), scores float32 (n,), genders (n,), qpv (n,))`` per vacancy.
        top_k: shortlist length.
        repeats: passes over the lists per clock.
        balance: the balance policy (default ``Balance()``: pool, DetRelaxed, the service default).
    """
    balance = balance or Balance()
    figures = {
        "lists": len(lists),
        "candidates_per_list": int(np.median([len(x[0]) for x in lists])),
        "repeats": repeats,
    }
    for clock_name, clock in (("thread_cpu", time.thread_time_ns), ("wall", time.perf_counter_ns)):
        base, balanced = [], []
        for rows, scores, genders, qpv in lists[:20]:  # warm-up
            top_k_order(scores, top_k)
            rerank_candidate_list(rows, scores, genders, qpv, top_k, balance)
        gc.collect()
        for _ in range(repeats):
            for rows, scores, genders, qpv in lists:
                start = clock()
                top_k_order(scores, top_k)
                middle = clock()
                rerank_candidate_list(rows, scores, genders, qpv, top_k, balance)
                end = clock()
                base.append(middle - start)
                balanced.append(end - middle)
        base_ns, balanced_ns = (
            np.array(base, dtype=np.float64),
            np.array(balanced, dtype=np.float64),
        )
        added = balanced_ns - base_ns
        p50_base, p99_base = np.percentile(base_ns, [50, 99])
        p50_bal, p99_bal = np.percentile(balanced_ns, [50, 99])
        figures[clock_name] = {
            "relevance_only_top_k": _percentiles(base_ns),
            "balanced": _percentiles(balanced_ns),
            "added": _percentiles(added),
            "ratio_p50": float(p50_bal / p50_base) if p50_base > 0 else float("inf"),
            "ratio_p99": float(p99_bal / p99_base) if p99_base > 0 else float("inf"),
        }
    return figures
