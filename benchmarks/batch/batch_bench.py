"""Benchmark batch scoring (issue #6): 100,000 youths x 50,000 vacancies, top-20, 2 cores.

Every measured run is a child process started by this script (as ``passerelle batch score``
would be): end-to-end wall time from process start to the Parquet file written, and peak
memory of the child's whole process tree (sum of VmRSS and of PSS over the tree, sampled
every 0.2 s, plus ``RUSAGE_CHILDREN`` max RSS of the largest single process).

1. local engine at each ``--sizes`` (default 10k, 50k, 100k youths);
2. the single-youth path in a loop (``suggest_trades([y])`` + ``suggest_vacancies([y])``) on
   a ``--loop-sample`` of youths, extrapolated to the batch size (measured on the sample only);
3. the Ray engine (local Ray, 2 CPUs, 2 actors) at ``--ray-size``, against local at that size;
4. a run killed (SIGKILL) after its first chunk part, resumed, compared with an uninterrupted
   run of the same arguments (``--kill-size`` youths);
5. a linear fit of time and memory against the number of youths, extrapolated to 1.1 million.

Vacancy embeddings are encoded once and kept as a :class:`~matching.search.index.VectorIndex`
snapshot (already indexed, as in production); youths are encoded in each run. Data are
synthetic (seed 7). Run from the repository root::

    python -m benchmarks.batch.batch_bench --home /tmp/passerelle-batch-home \\
        --out benchmarks/out/batch_bench.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SEED = 7
TOP_K = 20
ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- data
def data_dir(home: Path, n_vacancies: int, n_youths: int) -> Path:
    return home / "bench" / f"batch-v{n_vacancies}-y{n_youths}-s{SEED}"


def workspace(home: Path):
    from service.config import Settings
    from service.workspace import Workspace

    return Workspace(Settings(home=home, model="use"))


def prepare(home: Path, n_vacancies: int, n_youths: int) -> Path:
    """Generate the data set and index the vacancies once (cached under ``home``)."""
    from matching.recommend.recommender import Recommender
    from matching.search.embeddings import make_embedder
    from matching.synthetic import dataset as synthetic

    folder = data_dir(home, n_vacancies, n_youths)
    if (folder / "vacancy-index" / "manifest.json").exists():
        return folder
    ws = workspace(home)
    referential = ws.referential()
    if not (folder / "manifest.json").exists():
        log(f"generating {n_vacancies} vacancies and {n_youths} youths -> {folder}")
        synthetic.save(synthetic.generate(referential, n_youths=n_youths, n_vacancies=n_vacancies, seed=SEED), folder)
    embedder = make_embedder("use")
    recommender = Recommender(referential, embedder, ws.trade_searcher(referential, embedder))
    vacancies = synthetic.load(folder).vacancies
    log(f"encoding {len(vacancies)} vacancies (title + description), once")
    recommender.load_vacancies(vacancies)
    recommender.vacancy_index.save(folder / "vacancy-index", metadata={"model": embedder.name, "synthetic": True})
    return folder


def load_engine(home: Path, folder: Path, n_youths: int):
    """The engine with the indexed vacancies, and the first ``n_youths`` youths (validated)."""
    from matching.profiles import parse_youth
    from matching.recommend.recommender import Recommender
    from matching.search.embeddings import make_embedder
    from matching.search.index import VectorIndex
    from matching.synthetic import dataset as synthetic

    ws = workspace(home)
    referential = ws.referential()
    embedder = make_embedder("use")
    recommender = Recommender(referential, embedder, ws.trade_searcher(referential, embedder))
    data = synthetic.load(folder)
    index = VectorIndex.load(folder / "vacancy-index")
    vectors = index.vectors(np.array([v.key for v in data.vacancies], dtype=np.int64))
    recommender.load_vacancies(data.vacancies, vectors=vectors)
    recommender.vacancy_index.generation = index.generation
    youths = [parse_youth(p, referential, synthetic=True)[0] for p in data.youths[:n_youths]]
    return recommender, youths


# ----------------------------------------------------------------------------- children
def child_run(args) -> None:
    """Child: load, score ``--n`` youths with ``run_batch``, print one JSON line."""
    started = time.perf_counter()
    from matching.batch.run import BatchRequest, BatchSource, run_batch

    recommender, youths = load_engine(args.home, Path(args.data), args.n)
    loaded = time.perf_counter()
    if args.engine == "ray":
        import ray

        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        scratch = tempfile.mkdtemp(prefix="ray-")
        ray.init(num_cpus=args.workers, include_dashboard=False, _temp_dir=scratch, log_to_driver=False)
    request = BatchRequest("youths", top_k=TOP_K, pseudonym_key=b"benchmark key")
    summary = run_batch(BatchSource(youths, recommender), request, Path(args.result),
                        args={"what": "youths", "top_k": TOP_K, "n": args.n}, engine=args.engine,
                        workers=args.workers, chunk_size=args.chunk_size)
    if args.engine == "ray":
        import shutil

        ray.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps({"load_s": loaded - started, "end_to_end_in_child_s": time.perf_counter() - started,
                      "summary": summary.to_dict()}), flush=True)


def child_loop(args) -> None:
    """Child: the single-youth path in a loop over a sample; print one JSON line."""
    recommender, youths = load_engine(args.home, Path(args.data), args.n)
    recommender.suggest_trades(youths[:2], TOP_K)
    recommender.suggest_vacancies(youths[:2], TOP_K)
    started = time.perf_counter()
    for youth in youths:
        recommender.suggest_trades([youth], TOP_K)
        recommender.suggest_vacancies([youth], TOP_K)
    seconds = time.perf_counter() - started
    print(json.dumps({"youths": len(youths), "seconds": seconds, "youths_per_s": len(youths) / seconds}), flush=True)


# ----------------------------------------------------------------------------- measuring
def log(message: str) -> None:
    print(f"[batch_bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return pids


def _memory_kb(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
    except (OSError, ValueError):
        pass
    return rss, pss


def measure(command: list[str], *, kill_when=None) -> dict:
    """Run a child (own process group), sample its tree's memory; optionally SIGKILL it when
    ``kill_when()`` turns true. Returns wall time, peaks and the child's last JSON line."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    peak_rss = peak_pss = 0
    killed = False
    while process.poll() is None:
        totals = [_memory_kb(pid) for pid in _tree(process.pid)]
        peak_rss = max(peak_rss, sum(t[0] for t in totals))
        peak_pss = max(peak_pss, sum(t[1] for t in totals))
        if kill_when is not None and not killed and kill_when():
            os.killpg(process.pid, signal.SIGKILL)
            killed = True
        time.sleep(0.2)
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - started
    if process.returncode != 0 and not killed:
        raise RuntimeError(f"child failed ({process.returncode}):\n{stderr[-4000:]}")
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    return {"wall_s": seconds, "peak_tree_rss_mb": peak_rss / 1024, "peak_tree_pss_mb": peak_pss / 1024,
            "children_max_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
            "killed": killed, "child": json.loads(lines[-1]) if lines else None,
            "loadavg_end": os.getloadavg()}


def _child_command(args, kind: str, n: int, result: Path | None = None, engine: str = "local",
                   chunk_size: int | None = None) -> list[str]:
    command = [sys.executable, "-m", "benchmarks.batch.batch_bench", "--child", kind, "--home", str(args.home),
               "--data", str(args.data), "--n", str(n), "--engine", engine, "--workers", str(args.workers)]
    if result is not None:
        command += ["--result", str(result)]
    if chunk_size is not None:
        command += ["--chunk-size", str(chunk_size)]
    return command


def _clean(path: Path) -> None:
    import shutil

    for suffix in ("", ".plan.json", ".lock"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    shutil.rmtree(str(path) + ".parts", ignore_errors=True)


def bench_run(args, n: int, engine: str = "local") -> dict:
    result = args.work / f"{engine}-{n}.parquet"
    _clean(result)
    log(f"{engine} engine, {n} youths ...")
    run = measure(_child_command(args, "run", n, result, engine))
    log(f"  {run['wall_s']:.1f} s end to end, peak tree RSS {run['peak_tree_rss_mb']:.0f} MB")
    return {"youths": n, "engine": engine, **run}


def bench_kill(args, n: int) -> dict:
    whole, killed = args.work / f"whole-{n}.parquet", args.work / f"killed-{n}.parquet"
    for path in (whole, killed):
        _clean(path)
    chunk = max(64, n // 8)
    log(f"kill and resume, {n} youths, chunks of {chunk} ...")
    uninterrupted = measure(_child_command(args, "run", n, whole, chunk_size=chunk))
    parts = Path(str(killed) + ".parts")
    first = measure(_child_command(args, "run", n, killed, chunk_size=chunk),
                    kill_when=lambda: parts.exists() and any(p.suffix == ".parquet" for p in parts.iterdir()))
    left_behind = len(list(parts.glob("part-*.parquet")))
    resumed = measure(_child_command(args, "run", n, killed, chunk_size=chunk))
    import pyarrow.parquet as pq

    a, b = pq.read_table(whole), pq.read_table(killed)
    return {"youths": n, "chunk_size": chunk, "killed": first["killed"], "parts_when_killed": left_behind,
            "resumed_chunks_computed": resumed["child"]["summary"]["chunks_computed"],
            "resumed_chunks_skipped": resumed["child"]["summary"]["chunks_skipped"],
            "identical_table": a.equals(b), "same_column_order": a.column_names == b.column_names,
            "same_metadata": a.schema.metadata == b.schema.metadata, "rows": a.num_rows,
            "uninterrupted_wall_s": uninterrupted["wall_s"], "killed_after_s": first["wall_s"],
            "resumed_wall_s": resumed["wall_s"]}


def fit(points: list[tuple[int, float]], at: int) -> dict:
    sizes, values = np.array([p[0] for p in points], float), np.array([p[1] for p in points], float)
    slope, intercept = np.polyfit(sizes, values, 1) if len(points) > 1 else (values[0] / sizes[0], 0.0)
    return {"intercept": float(intercept), "per_youth": float(slope), "at": at, "estimate": float(intercept + slope * at)}


def markdown(report: dict) -> str:
    """The figures of a report as markdown tables (for RESULTS files)."""
    loop = report["loop"]["child"]
    lines = ["| youths | end to end | scoring | youths/s (scoring) | loop, extrapolated | batch / loop | "
             "peak tree RSS (PSS) | largest process | chunks | distinct texts encoded (of all texts) | "
             "text phase |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in report["local"]:
        summary = run["child"]["summary"]
        lines.append(
            f"| {run['youths']:,} | {run['wall_s']:.0f} s | {summary['seconds']:.0f} s | "
            f"{summary['queries_per_second']:.1f} | {run['youths'] / loop['youths_per_s']:,.0f} s | "
            f"{summary['queries_per_second'] / loop['youths_per_s']:.0f}x | {run['peak_tree_rss_mb']:,.0f} MB "
            f"({run['peak_tree_pss_mb']:,.0f} MB) | {run['children_max_rss_mb']:,.0f} MB | "
            f"{summary['chunks']} x {summary['chunk_size']} | {summary['encoded']['texts_this_run']:,} of "
            f"{summary['totals']['texts']:,} | {summary['encoded'].get('text_phase', {}).get('seconds', 0):.0f} s |")
    lines.append(f"\nLoop baseline: {loop['youths']} youths in {loop['seconds']:.1f} s = "
                 f"{loop['youths_per_s']:.2f} youths/s.")
    if "ratio_to_local_wall" in report.get("ray", {}):
        ray = report["ray"]
        lines.append(f"Ray ({ray['youths']:,} youths): {ray['wall_s']:.0f} s end to end "
                     f"({ray['ratio_to_local_wall']:.2f}x local), scoring {ray['child']['summary']['seconds']:.0f} s "
                     f"({ray['ratio_to_local_scoring']:.2f}x), peak tree RSS {ray['peak_tree_rss_mb']:,.0f} MB "
                     f"(PSS {ray['peak_tree_pss_mb']:,.0f} MB).")
    if "kill_resume" in report:
        kill = report["kill_resume"]
        lines.append(f"Kill and resume ({kill['youths']:,} youths, chunks of {kill['chunk_size']}): killed with "
                     f"{kill['parts_when_killed']} part(s) written, resumed computing {kill['resumed_chunks_computed']} "
                     f"and skipping {kill['resumed_chunks_skipped']}; identical table {kill['identical_table']}, "
                     f"column order {kill['same_column_order']}, metadata {kill['same_metadata']}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/passerelle-batch-home"))
    parser.add_argument("--vacancies", type=int, default=50_000)
    parser.add_argument("--youths", type=int, default=100_000, help="youths generated (the largest size)")
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--ray-size", type=int, default=10_000, help="0: skip the Ray run")
    parser.add_argument("--kill-size", type=int, default=2_000, help="0: skip the kill-and-resume run")
    parser.add_argument("--loop-sample", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("/tmp/passerelle-batch-work"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "batch_bench.json")
    parser.add_argument("--child", choices=("run", "loop"))
    parser.add_argument("--data")
    parser.add_argument("--n", type=int)
    parser.add_argument("--engine", default="local")
    parser.add_argument("--result")
    parser.add_argument("--chunk-size", type=int)
    parser.add_argument("--markdown", type=Path, help="print the tables of a saved report and exit")
    args = parser.parse_args()
    if args.markdown:
        return print(markdown(json.loads(args.markdown.read_text())))
    if args.child == "run":
        return child_run(args)
    if args.child == "loop":
        return child_loop(args)

    from benchmarks.engine_perf import machine

    args.data = prepare(args.home, args.vacancies, args.youths)
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict = {"machine": machine("benchmarks.batch.batch_bench"), "vacancies": args.vacancies, "top_k": TOP_K, "workers": args.workers}

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    log(f"loop baseline on {args.loop_sample} youths ...")
    report["loop"] = measure(_child_command(args, "loop", args.loop_sample))
    save()
    if args.kill_size:
        report["kill_resume"] = bench_kill(args, args.kill_size)
        save()
    runs = report.setdefault("local", [])
    for n in [int(s) for s in args.sizes.split(",") if s]:
        runs.append(bench_run(args, n))
        save()
        if args.ray_size == n:
            report["ray"] = bench_run(args, n, "ray")
            save()
    loop_rate = report["loop"]["child"]["youths_per_s"]
    for run in runs:
        summary = run["child"]["summary"]
        run["youths_per_s_scoring"] = summary["queries_per_second"]
        run["loop_extrapolated_s"] = run["youths"] / loop_rate
        run["speedup_vs_loop"] = summary["queries_per_second"] / loop_rate
    report["fit_time_s"] = fit([(r["youths"], r["wall_s"]) for r in runs], 1_100_000)
    report["fit_peak_rss_mb"] = fit([(r["youths"], r["peak_tree_rss_mb"]) for r in runs], 1_100_000)
    if "ray" in report:
        local = next(r for r in runs if r["youths"] == report["ray"]["youths"])
        report["ray"]["ratio_to_local_wall"] = report["ray"]["wall_s"] / local["wall_s"]
        report["ray"]["ratio_to_local_scoring"] = (report["ray"]["child"]["summary"]["seconds"]
                                                   / local["child"]["summary"]["seconds"])
    save()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
