"""Benchmark filtered search in matching.search.index: batch helper vs a one-at-a-time loop.

Random L2-normalised vectors (no structure: the worst case for pruning), one allowed set per
query drawn uniformly at random with 2-10 % of the keys (a radius/contract/level filter computed
by the caller). Prints markdown tables and writes every figure, with the machine, date, command
and load average, to ``--out`` (default ``benchmarks/out/index_bench.json``, git-ignored).

    python -m benchmarks.index_bench --n 100000 --dim 512 --queries 1000   # from the repo root

Note: everything here is exhaustive ("Flat", exact). Above about a million vectors an exact
scan costs tens of milliseconds per query: choose "IVF4096,Flat" (nprobe 16-64) or "HNSW32"
(efSearch 64-128) and check recall@10 against an IndexFlat oracle on a sample.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from matching.search.index import VectorIndex, normalize

ROOT = Path(__file__).resolve().parents[1]
SHARES = (0.01, 0.02, 0.05, 0.10, 0.15, 0.20, 0.30)


def timed(function) -> tuple[float, object]:
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def single_latencies(index, queries, allowed_list, top_k) -> np.ndarray:
    seconds = [
        timed(lambda q=q, a=a: index.search(q[None], top_k, allowed=a))[0]
        for q, a in zip(queries, allowed_list, strict=True)
    ]
    return np.array(seconds)


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_run() -> dict:
    """Machine, versions, commit, date, command and load average of this run."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "benchmarks.index_bench", *sys.argv[1:]]),
        "commit": commit,
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "faiss": faiss.__version__,
        "faiss_threads": faiss.omp_get_max_threads(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def measure_filtered(args, rng, index, keys, queries, allowed) -> dict:
    """Batch filtered search against the loops of single searches, same queries and filters."""
    top_k, loop = args.top_k, min(args.loop_queries, args.queries)
    index.search_batch_filtered(queries[:8], top_k, allowed[:8])  # warm up
    batch_s, batch = timed(lambda: index.search_batch_filtered(queries, top_k, allowed))
    loop_s = single_latencies(index, queries[:loop], allowed[:loop], top_k)
    looped = [
        index.search(q[None], top_k, allowed=a)
        for q, a in zip(queries[:loop], allowed[:loop], strict=True)
    ]
    identical = all(
        np.array_equal(r[0][0], batch[0][i]) and np.array_equal(r[1][0], batch[1][i])
        for i, r in enumerate(looped)
    )
    shared = [allowed[g] for g in rng.integers(0, 50, args.queries)]  # 50 communes x radius
    shared_s, _ = timed(lambda: index.search_batch_filtered(queries, top_k, shared))
    index.subset_fraction = 0.0  # the naive loop: a faiss IDSelectorBatch scan per query
    naive_s = single_latencies(index, queries[: loop // 2], allowed[: loop // 2], top_k)
    index.subset_fraction = 0.10
    unfiltered_s = single_latencies(index, queries[:loop], [None] * loop, top_k)
    batch_qps = args.queries / batch_s
    return {
        "batch_queries_per_s": batch_qps,
        "loop_queries_per_s": loop / loop_s.sum(),
        "loop_p50_ms": 1000 * float(np.median(loop_s)),
        "naive_selector_queries_per_s": len(naive_s) / naive_s.sum(),
        "naive_selector_p50_ms": 1000 * float(np.median(naive_s)),
        "shared_filters_queries_per_s": args.queries / shared_s,
        "unfiltered_queries_per_s": loop / unfiltered_s.sum(),
        "unfiltered_p50_ms": 1000 * float(np.median(unfiltered_s)),
        "loop_queries": loop,
        "batch_equals_loop": bool(identical),
    }


def measure_crossover(args, rng, index, keys, queries) -> list[dict]:
    """p50 of one query through the exact subset path and the faiss IDSelector path, by share."""
    rows = []
    for share in SHARES:
        subsets = [rng.choice(keys, max(1, int(share * args.n)), replace=False) for _ in range(15)]
        row = {"allowed_share": share}
        for name, fraction in (("subset_p50_ms", 1.0), ("selector_p50_ms", 0.0)):
            index.subset_fraction = fraction  # force the subset path, then the selector path
            latencies = single_latencies(index, queries[:15], subsets, args.top_k)
            row[name] = 1000 * float(np.median(latencies))
        rows.append(row)
    index.subset_fraction = 0.10
    return rows


def print_tables(results: dict) -> None:
    run, f = results["run"], results["filtered"]
    size = results["sizes"]
    print(
        f"{size['n']} x {size['dim']} Flat, {size['queries']} queries, top_k {size['top_k']}, "
        f"allowed 2-10 % per query; {run['cpu']}, {run['cores']} cpus, faiss {run['faiss']} "
        f"({run['faiss_threads']} threads); {run['date']}, commit {run['commit']}, "
        f"load average {run['loadavg_start'][0]:.2f} -> {run['loadavg_end'][0]:.2f}\n"
    )
    batch = f["batch_queries_per_s"]
    print("| mode | queries/s | p50 ms/query | batch speed-up |")
    print("|---|---:|---:|---:|")
    print(f"| batch `search_batch_filtered` | {batch:,.0f} | {1000 / batch:.2f} (mean) | 1.0x |")
    for label, qps, p50 in (
        ("loop of `search` (auto path)", f["loop_queries_per_s"], f["loop_p50_ms"]),
        (
            "loop of faiss IDSelector search",
            f["naive_selector_queries_per_s"],
            f["naive_selector_p50_ms"],
        ),
    ):
        print(f"| {label} | {qps:,.0f} | {p50:.2f} | {batch / qps:.1f}x |")
    shared = f["shared_filters_queries_per_s"]
    print(
        f"| batch, 50 distinct filters shared by the queries | {shared:,.0f} | "
        f"{1000 / shared:.2f} (mean) | |"
    )
    print(
        f"| unfiltered single query | {f['unfiltered_queries_per_s']:,.0f} | "
        f"{f['unfiltered_p50_ms']:.2f} | |"
    )
    print(
        f"\nbatch == loop (keys and scores, {f['loop_queries']} queries): "
        f"{f['batch_equals_loop']}\n"
    )
    print("| allowed share | exact subset p50 ms | faiss IDSelector p50 ms |")
    print("|---:|---:|---:|")
    for row in results["crossover"]:
        print(
            f"| {row['allowed_share']:.0%} | {row['subset_p50_ms']:.2f} | "
            f"{row['selector_p50_ms']:.2f} |"
        )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--loop-queries", type=int, default=200, help="queries timed one at a time")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out",
        type=Path,
        default=ROOT / "benchmarks" / "out" / "index_bench.json",
        help="JSON written with every figure",
    )
    args = parser.parse_args(argv)

    run = describe_run()
    rng = np.random.default_rng(args.seed)
    vectors = normalize(rng.standard_normal((args.n, args.dim), dtype=np.float32))
    queries = normalize(rng.standard_normal((args.queries, args.dim), dtype=np.float32))
    keys = rng.choice(2**40, args.n, replace=False).astype(np.int64)
    index = VectorIndex(args.dim).add(keys, vectors)
    del vectors
    fractions = rng.uniform(0.02, 0.10, args.queries)
    allowed = [rng.choice(keys, max(1, int(f * args.n)), replace=False) for f in fractions]
    results = {
        "run": run,
        "sizes": {
            k: getattr(args, k) for k in ("n", "dim", "queries", "loop_queries", "top_k", "seed")
        },
        "filtered": measure_filtered(args, rng, index, keys, queries, allowed),
        "crossover": measure_crossover(args, rng, index, keys, queries),
    }
    run["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print_tables(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    return results


if __name__ == "__main__":
    main()
