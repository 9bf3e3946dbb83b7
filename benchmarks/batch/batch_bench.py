"""Benchmark batch scoring (issue #6): 100,000 youths x 50,000 vacancies, top-20, 2 cores.

Every measured run is a child process started by this script (as ``passerelle batch score``
would be): end-to-end wall time from process start to the Parquet file written, and peak
memory of the child's whole process tree (sum of VmRSS and of PSS over the tree, sampled
every 0.2 s, plus ``RUSAGE_CHILDREN`` max RSS of the largest single process).

1. local engine at each ``--sizes`` (default 10k, 50k, 100k youths), for each ``--inputs``:
   ``synthetic`` (the generated profiles, whose texts repeat a lot) and ``distinct`` (the same
   profiles with a phrase unique to the youth appended to each experience and to the interests,
   so that no free text repeats; see :func:`make_distinct`);
2. two single-youth loops on a ``--loop-sample`` of youths of each input, extrapolated to the
   batch size (measured on the sample only): the service's path (``service.output.suggestions_for``,
   used by ``passerelle suggest`` and the API: one encoding and one trade scoring per youth,
   then the trade and vacancy lists and the JSON document) and the old baseline
   (``suggest_trades([y])`` + ``suggest_vacancies([y])``, which encodes the youth's texts three
   times);
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
MODEL = os.environ.get("PASSERELLE_MODEL", "use")  # run_all --quick: hashing
TOP_K = 20
ROOT = Path(__file__).resolve().parents[2]


# ----------------------------------------------------------------------------- data
def data_dir(home: Path, n_vacancies: int, n_youths: int) -> Path:
    return home / "bench" / f"batch-v{n_vacancies}-y{n_youths}-s{SEED}"


def workspace(home: Path):
    from service.config import Settings
    from service.workspace import Workspace

    return Workspace(Settings(home=home, model=MODEL))


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
    embedder = make_embedder(MODEL)
    recommender = Recommender(referential, embedder, ws.trade_searcher(referential, embedder))
    vacancies = synthetic.load(folder).vacancies
    log(f"encoding {len(vacancies)} vacancies (title + description), once")
    recommender.load_vacancies(vacancies)
    recommender.vacancy_index.save(folder / "vacancy-index", metadata={"model": embedder.name, "synthetic": True})
    return folder


_FIRST = ("Camille", "Léa", "Inès", "Manon", "Chloé", "Jade", "Sarah", "Emma", "Lina", "Zoé",
          "Lucas", "Hugo", "Nathan", "Enzo", "Louis", "Yanis", "Adam", "Mathis", "Rayan", "Tom",
          "Noah", "Théo", "Sofiane", "Karim", "Julie", "Pauline", "Marine", "Samir", "Kevin", "Anaïs")
_LAST = ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
         "Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
         "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
         "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guerin", "Muller")
_WHAT = ("ranger le stock", "accueillir les clients", "préparer les commandes", "tenir la caisse",
         "nettoyer l'atelier", "monter des meubles", "servir en salle", "trier le courrier",
         "arroser les plantes", "réparer des vélos", "garder des enfants", "peindre une clôture",
         "livrer des colis", "faire l'inventaire", "cuisiner pour une fête", "installer une expo")
_WHEN = ("en juin", "en juillet", "en août", "pendant les vacances de Noël", "à la Toussaint",
         "pendant trois semaines", "le samedi matin", "en 2024", "en 2025", "après le lycée")


def distinct_phrase(number: int) -> str:
    """A plausible French phrase unique to ``number`` (mixed radix over four lists; unique for
    the first 30 x 36 x 16 x 10 = 172,800 numbers)."""
    radices = (len(_FIRST), len(_LAST), len(_WHAT), len(_WHEN))
    digits = []
    for radix in radices:
        digits.append(number % radix)
        number //= radix
    if number:
        raise ValueError("distinct_phrase: number too large")
    first, last, what, when = digits
    return (f"J'ai aidé {_FIRST[first]} {_LAST[last]} à {_WHAT[what]} {_WHEN[when]}")


def make_distinct(profiles: list[dict]) -> list[dict]:
    """The same profiles with ``distinct_phrase(i)`` appended to every non-empty experience and
    to non-empty interests of the i-th youth: the number of texts is unchanged, no free text is
    shared between two youths (wished trades, ROME codes or trade labels, still repeat)."""
    out = []
    for number, profile in enumerate(profiles):
        phrase = distinct_phrase(number)
        profile = dict(profile)
        profile["experiences"] = [f"{e.rstrip().rstrip('.')}. {phrase}" if e.strip() else e
                                  for e in profile.get("experiences") or []]
        interests = profile.get("interests") or ""
        if interests.strip():
            profile["interests"] = f"{interests.rstrip().rstrip('.')}. {phrase}"
        out.append(profile)
    return out


def text_share(recommender, youths) -> dict:
    """Distinct query texts / all query texts of ``youths`` (what the text phase encodes)."""
    texts, _, _ = recommender._query_texts(youths)
    distinct = len(set(texts))
    return {"texts_all": len(texts), "texts_distinct": distinct,
            "distinct_share": distinct / len(texts) if texts else 0.0}


def load_engine(home: Path, folder: Path, n_youths: int, distinct: bool = False):
    """The engine with the indexed vacancies, and the first ``n_youths`` youths (validated);
    ``distinct``: their profiles through :func:`make_distinct`."""
    from matching.profiles import parse_youth
    from matching.recommend.recommender import Recommender
    from matching.search.embeddings import make_embedder
    from matching.search.index import VectorIndex
    from matching.synthetic import dataset as synthetic

    ws = workspace(home)
    referential = ws.referential()
    embedder = make_embedder(MODEL)
    recommender = Recommender(referential, embedder, ws.trade_searcher(referential, embedder))
    data = synthetic.load(folder)
    index = VectorIndex.load(folder / "vacancy-index")
    vectors = index.vectors(np.array([v.key for v in data.vacancies], dtype=np.int64))
    recommender.load_vacancies(data.vacancies, vectors=vectors)
    recommender.vacancy_index.generation = index.generation
    profiles = list(data.youths[:n_youths])
    if distinct:
        profiles = make_distinct(profiles)
    youths = [parse_youth(p, referential, synthetic=True)[0] for p in profiles]
    return recommender, youths


# ----------------------------------------------------------------------------- children
def child_run(args) -> None:
    """Child: load, score ``--n`` youths with ``run_batch``, print one JSON line."""
    started = time.perf_counter()
    from matching.batch.run import BatchRequest, BatchSource, run_batch

    recommender, youths = load_engine(args.home, Path(args.data), args.n, args.input == "distinct")
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
                      "summary": summary.to_dict(), **text_share(recommender, youths)}), flush=True)


def child_loop(args) -> None:
    """Child: a single-youth path in a loop over a sample; print one JSON line.

    ``--child service``: what the service does for one youth (``passerelle suggest``, the API's
    suggestions for a profile): ``service.output.suggestions_for`` with the default ``TradeMix``
    and the youth's own radius (one encoding and one trade scoring, both lists, the JSON
    document). ``--child loop``: the old baseline, ``suggest_trades([y])`` then
    ``suggest_vacancies([y])`` (the youth's texts encoded three times)."""
    from matching.fairness.policies import TradeMix

    recommender, youths = load_engine(args.home, Path(args.data), args.n, args.input == "distinct")
    if args.child == "service":
        from service.output import suggestions_for

        def one(youth):
            suggestions_for(recommender, youth, TOP_K, TradeMix())
    else:
        def one(youth):
            recommender.suggest_trades([youth], TOP_K)
            recommender.suggest_vacancies([youth], TOP_K)
    for youth in youths[:2]:  # warm-up
        one(youth)
    started = time.perf_counter()
    for youth in youths:
        one(youth)
    seconds = time.perf_counter() - started
    print(json.dumps({"path": args.child, "youths": len(youths), "seconds": seconds,
                      "youths_per_s": len(youths) / seconds, **text_share(recommender, youths)}), flush=True)


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
                   chunk_size: int | None = None, youth_input: str = "synthetic") -> list[str]:
    command = [sys.executable, "-m", "benchmarks.batch.batch_bench", "--child", kind, "--home", str(args.home),
               "--data", str(args.data), "--n", str(n), "--engine", engine, "--workers", str(args.workers),
               "--input", youth_input, "--seed", str(args.seed)]
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


def bench_run(args, n: int, engine: str = "local", youth_input: str = "synthetic") -> dict:
    result = args.work / f"{engine}-{youth_input}-{n}.parquet"
    _clean(result)
    log(f"{engine} engine, {n} youths ({youth_input}) ...")
    run = measure(_child_command(args, "run", n, result, engine, youth_input=youth_input))
    _clean(result)
    log(f"  {run['wall_s']:.1f} s end to end, peak tree RSS {run['peak_tree_rss_mb']:.0f} MB")
    return {"youths": n, "engine": engine, "input": youth_input, **run}


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
    loops = report["loops"]
    lines = ["| youths | input | distinct texts (of all; share) | end to end | scoring | youths/s (scoring) | "
             "service path, extrapolated | batch / service path | old loop, extrapolated | batch / old loop | "
             "peak tree RSS (PSS) | chunks | text phase | load avg (1 min) at end |",
             "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for run in report["local"]:
        summary, child = run["child"]["summary"], run["child"]
        service, old = loops[run["input"]]["service"]["child"], loops[run["input"]]["loop"]["child"]
        lines.append(
            f"| {run['youths']:,} | {run['input']} | {child['texts_distinct']:,} of {child['texts_all']:,} "
            f"({child['distinct_share']:.2f}) | {run['wall_s']:.0f} s | {summary['seconds']:.0f} s | "
            f"{summary['queries_per_second']:.1f} | {run['youths'] / service['youths_per_s']:,.0f} s | "
            f"{summary['queries_per_second'] / service['youths_per_s']:.1f}x | "
            f"{run['youths'] / old['youths_per_s']:,.0f} s | {summary['queries_per_second'] / old['youths_per_s']:.1f}x | "
            f"{run['peak_tree_rss_mb']:,.0f} MB ({run['peak_tree_pss_mb']:,.0f} MB) | "
            f"{summary['chunks']} x {summary['chunk_size']} | "
            f"{summary['encoded'].get('text_phase', {}).get('seconds', 0):.0f} s | {run['loadavg_end'][0]:.2f} |")
    lines += ["", "| input | path | youths | seconds | youths/s | distinct texts (of all) | load avg (1 min) at end |",
              "|---|---|---:|---:|---:|---:|---:|"]
    for youth_input, paths in loops.items():
        for name, label in (("service", "service path (`suggestions_for`)"),
                            ("loop", "old loop (`suggest_trades` + `suggest_vacancies`)")):
            run = paths[name]
            child = run["child"]
            lines.append(f"| {youth_input} | {label} | {child['youths']} | {child['seconds']:.1f} | "
                         f"{child['youths_per_s']:.2f} | {child['texts_distinct']:,} of {child['texts_all']:,} | "
                         f"{run['loadavg_end'][0]:.2f} |")
    if "ratio_to_local_wall" in report.get("ray", {}):
        ray = report["ray"]
        lines.append(f"\nRay ({ray['youths']:,} youths): {ray['wall_s']:.0f} s end to end "
                     f"({ray['ratio_to_local_wall']:.2f}x local), scoring {ray['child']['summary']['seconds']:.0f} s "
                     f"({ray['ratio_to_local_scoring']:.2f}x), peak tree RSS {ray['peak_tree_rss_mb']:,.0f} MB "
                     f"(PSS {ray['peak_tree_pss_mb']:,.0f} MB).")
    if "kill_resume" in report:
        kill = report["kill_resume"]
        lines.append(f"\nKill and resume ({kill['youths']:,} youths, chunks of {kill['chunk_size']}): killed with "
                     f"{kill['parts_when_killed']} part(s) written, resumed computing {kill['resumed_chunks_computed']} "
                     f"and skipping {kill['resumed_chunks_skipped']}; identical table {kill['identical_table']}, "
                     f"column order {kill['same_column_order']}, metadata {kill['same_metadata']}.")
    return "\n".join(lines)


def main() -> None:
    global SEED
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/passerelle-batch-home"))
    parser.add_argument("--vacancies", type=int, default=50_000)
    parser.add_argument("--youths", type=int, default=100_000, help="youths generated (the largest size)")
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--ray-size", type=int, default=10_000, help="0: skip the Ray run")
    parser.add_argument("--kill-size", type=int, default=2_000, help="0: skip the kill-and-resume run")
    parser.add_argument("--inputs", default="synthetic,distinct",
                        help="youth inputs: synthetic (generated profiles), distinct (make_distinct)")
    parser.add_argument("--loop-sample", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=SEED, help="seed of the synthetic data set")
    parser.add_argument("--work", type=Path, default=Path("/tmp/passerelle-batch-work"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "batch_bench.json")
    parser.add_argument("--child", choices=("run", "loop", "service"))
    parser.add_argument("--input", choices=("synthetic", "distinct"), default="synthetic")
    parser.add_argument("--data")
    parser.add_argument("--n", type=int)
    parser.add_argument("--engine", default="local")
    parser.add_argument("--result")
    parser.add_argument("--chunk-size", type=int)
    parser.add_argument("--markdown", type=Path, help="print the tables of a saved report and exit")
    args = parser.parse_args()
    SEED = args.seed
    if args.markdown:
        return print(markdown(json.loads(args.markdown.read_text())))
    if args.child == "run":
        return child_run(args)
    if args.child in ("loop", "service"):
        return child_loop(args)

    from benchmarks.engine_perf import machine

    args.data = prepare(args.home, args.vacancies, args.youths)
    args.work.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    report: dict = {"machine": machine("benchmarks.batch.batch_bench"), "commit": commit,
                    "loadavg_start": os.getloadavg(), "vacancies": args.vacancies, "top_k": TOP_K,
                    "workers": args.workers, "inputs": args.inputs, "loop_sample": args.loop_sample,
                    "seed": args.seed}

    def save() -> None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    inputs = [i for i in args.inputs.split(",") if i]
    loops = report.setdefault("loops", {})
    for youth_input in inputs:
        for path in ("service", "loop"):
            log(f"{path} single-youth loop on {args.loop_sample} youths ({youth_input}) ...")
            loops.setdefault(youth_input, {})[path] = measure(
                _child_command(args, path, args.loop_sample, youth_input=youth_input))
            log(f"  {loops[youth_input][path]['child']['youths_per_s']:.2f} youths/s")
            save()
    if args.kill_size:
        report["kill_resume"] = bench_kill(args, args.kill_size)
        save()
    runs = report.setdefault("local", [])
    for n in [int(s) for s in args.sizes.split(",") if s]:
        for youth_input in inputs:
            runs.append(bench_run(args, n, youth_input=youth_input))
            save()
        if args.ray_size == n:
            report["ray"] = bench_run(args, n, "ray")
            save()
    for run in runs:
        summary = run["child"]["summary"]
        service_rate = loops[run["input"]]["service"]["child"]["youths_per_s"]
        loop_rate = loops[run["input"]]["loop"]["child"]["youths_per_s"]
        run["youths_per_s_scoring"] = summary["queries_per_second"]
        run["service_path_extrapolated_s"] = run["youths"] / service_rate
        run["speedup_vs_service_path"] = summary["queries_per_second"] / service_rate
        run["old_loop_extrapolated_s"] = run["youths"] / loop_rate
        run["speedup_vs_old_loop"] = summary["queries_per_second"] / loop_rate
    for youth_input in inputs:
        mine = [r for r in runs if r["input"] == youth_input]
        if mine:
            report.setdefault("fit_time_s", {})[youth_input] = fit([(r["youths"], r["wall_s"]) for r in mine], 1_100_000)
            report.setdefault("fit_peak_rss_mb", {})[youth_input] = fit(
                [(r["youths"], r["peak_tree_rss_mb"]) for r in mine], 1_100_000)
    if "ray" in report:
        local = next(r for r in runs if r["youths"] == report["ray"]["youths"] and r["input"] == "synthetic")
        report["ray"]["ratio_to_local_wall"] = report["ray"]["wall_s"] / local["wall_s"]
        report["ray"]["ratio_to_local_scoring"] = (report["ray"]["child"]["summary"]["seconds"]
                                                   / local["child"]["summary"]["seconds"])
    report["finished"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    report["loadavg_end"] = os.getloadavg()
    save()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
