"""Benchmark of the learned ranker (issue #15): training on 1M logged rows, re-ranking 100 items.

Training: :func:`matching.learn.training.train` (grouping, hashing, the fit, the held-out
metrics) on a synthetic log of ``--lists`` lists of 20 vacancies with the real feature names
(:mod:`benchmarks.learn.synthetic_log`), against a baseline fitted in the same run: LightGBM's
pointwise ``regression`` objective on the same matrix with the same parameters (what ranking
by lists adds). Re-ranking: ``LearnedRanker.score`` + the sort of one list of 100 candidates,
over ``--rerank-lists`` lists, against the fusion's own ``ranking.combine`` + sort of the same
100 items. OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE``, set before LightGBM is
loaded): on a shared machine, spinning threads made a 2-thread fit up to 7x slower.

Usage: python benchmarks/learn/bench_ranker.py [--lists 50000] [--rerank-lists 3000] [--out FILE]
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from benchmarks.learn.synthetic_log import synthetic_log  # noqa: E402
from matching.learn.features import VACANCY_FEATURES  # noqa: E402
from matching.learn.ranker import RankerParams, design_matrix, group_sizes, vacancy_rows  # noqa: E402
from matching.learn.training import train  # noqa: E402
from matching.recommend import ranking  # noqa: E402


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": model, "python": platform.python_version(),
            "load_average": os.getloadavg()}


def bench_training(lists: int, params: RankerParams) -> tuple[dict, object]:
    import lightgbm

    frame = synthetic_log(lists, list_size=20, seed=15, signal="outcome")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    trained = train(frame, VACANCY_FEATURES, params=params)
    train_s = time.perf_counter() - started
    rows = vacancy_rows(frame)
    matrix = design_matrix(rows, VACANCY_FEATURES, logged_rank=True)
    started = time.perf_counter()
    baseline = lightgbm.Dataset(matrix, label=rows["label"].to_numpy(), params={"verbose": -1})
    lightgbm.train({**params.lightgbm(), "objective": "regression", "metric": "l2"}, baseline,
                   num_boost_round=params.num_boost_round)
    baseline_s = time.perf_counter() - started
    fitted_rows = trained.manifest["rows"]
    return {
        "rows_logged": int(len(frame)), "rows_fitted": fitted_rows, "lists_fitted": trained.manifest["lists"],
        "train_s": round(train_s, 2), "fitted_rows_per_s": round(fitted_rows / train_s),
        "baseline_pointwise_regression_all_rows_s": round(baseline_s, 2),
        "baseline_rows_per_s": round(len(rows) / baseline_s), "load_average_1m_before": load_before,
        "load_average_1m_after": os.getloadavg()[0], "group_sizes": sorted(set(group_sizes(
            rows["list_id"].to_numpy()).tolist())), "holdout_metrics": trained.manifest["metrics"],
        "parameters": params.describe(),
    }, trained.ranker


def bench_rerank(ranker, n_lists: int, size: int = 100) -> dict:
    """Wall and CPU (thread) time of scoring + sorting one list, learned and fusion alike.

    On a shared machine a 0.3 ms call is often preempted: the wall-clock p99 then measures the
    machine's load; the thread CPU time measures the work the re-ranking adds."""
    rng = np.random.default_rng(3)
    times: dict[str, list[int]] = {"learned_wall": [], "learned_cpu": [], "fusion_wall": [], "fusion_cpu": []}
    for _ in range(n_lists):
        features = rng.random((size, len(VACANCY_FEATURES)), dtype=np.float32)
        parts = {"semantic": features[:, 0], "trade": features[:, 1], "distance": features[:, 3],
                 "contract": features[:, 4]}
        keys = np.arange(size)
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        score = ranking.combine(parts, ranking.VACANCY_WEIGHTS)
        np.lexsort((keys, -score))
        times["fusion_cpu"].append(time.thread_time_ns() - cpu)
        times["fusion_wall"].append(time.perf_counter_ns() - wall)
        wall, cpu = time.perf_counter_ns(), time.thread_time_ns()
        np.lexsort((keys, -ranker.score(features)))
        times["learned_cpu"].append(time.thread_time_ns() - cpu)
        times["learned_wall"].append(time.perf_counter_ns() - wall)

    def summary(values: list[int]) -> dict:
        ms = np.asarray(values[50:], dtype=np.float64) / 1e6  # first 50 lists warm up
        return {"p50_ms": round(float(np.percentile(ms, 50)), 4), "p99_ms": round(float(np.percentile(ms, 99)), 4),
                "mean_ms": round(float(ms.mean()), 4)}

    return {"lists": n_lists, "items_per_list": size, "load_average_1m": os.getloadavg()[0],
            "learned_score_and_sort": {"wall": summary(times["learned_wall"]), "cpu": summary(times["learned_cpu"])},
            "baseline_fusion_combine_and_sort": {"wall": summary(times["fusion_wall"]),
                                                 "cpu": summary(times["fusion_cpu"])}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=50_000)
    parser.add_argument("--rerank-lists", type=int, default=3000)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("ranker_results.json"))
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    result = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "commit": commit,
              "command": "python " + " ".join(sys.argv), "machine": machine(),
              "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY")}
    result["training"], ranker = bench_training(args.lists, RankerParams())
    result["rerank"] = bench_rerank(ranker, args.rerank_lists)
    result["machine"]["load_average_end"] = os.getloadavg()
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
