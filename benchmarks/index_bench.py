"""Benchmark filtered search in matching.search.index: batch helper vs a one-at-a-time loop.

Random L2-normalised vectors (no structure: the worst case for pruning), one allowed set per
query drawn uniformly at random with 2-10 % of the keys (a radius/contract/level filter computed
by the caller). Prints markdown tables; copy them into RESULTS.md with the machine and date.

    python -m benchmarks.index_bench --n 100000 --dim 512 --queries 1000   # from the repo root

Note: everything here is exhaustive ("Flat", exact). Above about a million vectors an exact
scan costs tens of milliseconds per query: choose "IVF4096,Flat" (nprobe 16-64) or "HNSW32"
(efSearch 64-128) and check recall@10 against an IndexFlat oracle on a sample.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import faiss
import numpy as np

from matching.search.index import VectorIndex, normalize


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--loop-queries", type=int, default=200, help="queries timed one at a time")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    vectors = normalize(rng.standard_normal((args.n, args.dim), dtype=np.float32))
    queries = normalize(rng.standard_normal((args.queries, args.dim), dtype=np.float32))
    keys = rng.choice(2**40, args.n, replace=False).astype(np.int64)
    index = VectorIndex(args.dim).add(keys, vectors)
    del vectors
    fractions = rng.uniform(0.02, 0.10, args.queries)
    allowed = [rng.choice(keys, int(f * args.n), replace=False) for f in fractions]
    top_k, loop = args.top_k, min(args.loop_queries, args.queries)

    print(
        f"{args.n} x {args.dim} Flat, {args.queries} queries, top_k {top_k}, allowed 2-10 % per query; "
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cpus, "
        f"faiss {faiss.__version__} ({faiss.omp_get_max_threads()} threads)\n"
    )
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

    batch_qps, loop_qps, naive_qps = (
        args.queries / batch_s,
        loop / loop_s.sum(),
        len(naive_s) / naive_s.sum(),
    )
    print("| mode | queries/s | p50 ms/query | batch speed-up |")
    print("|---|---:|---:|---:|")
    print(
        f"| batch `search_batch_filtered` | {batch_qps:,.0f} | {1000 / batch_qps:.2f} (mean) | 1.0x |"
    )
    print(
        f"| loop of `search` (auto path) | {loop_qps:,.0f} | {1000 * np.median(loop_s):.2f} | {batch_qps / loop_qps:.1f}x |"
    )
    print(
        f"| loop of faiss IDSelector search | {naive_qps:,.0f} | {1000 * np.median(naive_s):.2f} | {batch_qps / naive_qps:.1f}x |"
    )
    print(
        f"| batch, 50 distinct filters shared by the queries | {args.queries / shared_s:,.0f} | "
        f"{1000 * shared_s / args.queries:.2f} (mean) | |"
    )
    print(
        f"| unfiltered single query | {loop / unfiltered_s.sum():,.0f} | {1000 * np.median(unfiltered_s):.2f} | |"
    )
    print(f"\nbatch == loop (keys and scores, {loop} queries): {identical}\n")

    print("| allowed share | exact subset p50 ms | faiss IDSelector p50 ms |")
    print("|---:|---:|---:|")
    for share in (0.01, 0.02, 0.05, 0.10, 0.15, 0.20, 0.30):
        subsets = [rng.choice(keys, int(share * args.n), replace=False) for _ in range(15)]
        row = []
        for fraction in (1.0, 0.0):  # force the subset path, then the selector path
            index.subset_fraction = fraction
            row.append(1000 * np.median(single_latencies(index, queries[:15], subsets, top_k)))
        print(f"| {share:.0%} | {row[0]:.2f} | {row[1]:.2f} |")
    index.subset_fraction = 0.10


if __name__ == "__main__":
    main()
