"""Run every benchmark from one command, each writing its raw JSON; ``--quick`` for a smoke run.

Usage (from the repository root; ``make bench`` / ``make bench-quick``)::

    python -m benchmarks.run_all                  # full size: about an hour and a half on 2 cores
    python -m benchmarks.run_all --quick          # small inputs, hashing model: a few minutes
    python -m benchmarks.run_all --only fairness,index

A full run writes each benchmark's JSON where the figures of ``benchmarks/RESULTS.md`` come
from: the small ones committed next to their script (``benchmarks/fairness/results.json``,
``benchmarks/quality/results.json``), the others under ``benchmarks/out/`` (git-ignored), each
script in its own default data home under ``/tmp``. ``--quick`` runs every script on a small
input with the ``hashing`` model in a temporary data home, writes the JSON to a temporary
folder (never over the committed files), then checks that each wrote its JSON with the
expected top-level keys. Both modes print a summary (exit code, seconds, load average before
and after) and write it as ``run_all.json`` beside the outputs; the exit status is 1 when a
benchmark failed or a JSON is missing or incomplete.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "out"
QUICK_MODEL = "hashing"


@dataclass(frozen=True)
class Benchmark:
    """One script: its full and quick arguments, the JSON it writes and the keys it must hold.

    Arguments may name ``{out}`` (the JSON path), ``{work}`` (a folder of the run) and
    ``{home}`` (the data home, quick mode only).
    """

    name: str
    module: str
    full_out: str  # JSON of a full run, relative to the repository root
    keys: tuple[str, ...]
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    stdout_json: bool = False  # the script prints its JSON instead of writing a file
    ok_codes: tuple[int, ...] = (0,)
    needs_home: bool = field(default=False)


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark(
        "layout", "benchmarks.layout", "benchmarks/out/layout.json",
        keys=("import_circles", "largest_module", "modules_over_limit",
              "functions_over_60_lines", "ok"),
        full=("--json",), quick=("--json",), stdout_json=True,
        ok_codes=(0, 1),  # 1 = a limit is passed: the figures are still written
    ),
    Benchmark(
        "quality", "benchmarks.quality.run", "benchmarks/quality/results.json",
        keys=("date", "command", "seeds", "summary"),
        quick=("--seed", "20", "--no-timing", "--model", QUICK_MODEL, "--svm-epochs", "1",
               "--out", "{work}"),
    ),
    Benchmark(
        "fairness", "benchmarks.fairness.run", "benchmarks/fairness/results.json",
        keys=("date", "machine", "command", "trades", "shortlists", "verdicts"),
        quick=("--model", QUICK_MODEL, "--home", "{home}", "--youths", "600",
               "--trade-youths", "200", "--vacancies", "400", "--shortlists", "100",
               "--repeats", "1", "--out", "{out}"),
        needs_home=True,
    ),
    Benchmark(
        "index", "benchmarks.index_bench", "benchmarks/out/index_bench.json",
        keys=("run", "sizes", "filtered", "crossover"),
        full=("--n", "100000", "--dim", "512", "--queries", "1000"),
        quick=("--n", "5000", "--dim", "64", "--queries", "100", "--loop-queries", "50",
               "--out", "{out}"),
    ),
    Benchmark(
        "engine", "benchmarks.engine_perf", "benchmarks/out/engine_perf.json",
        keys=("machine", "trades", "vacancies", "indexing", "figures", "phases"),
        full=("--vacancies", "100000", "--youths", "1000"),
        quick=("--vacancies", "2000", "--youths", "100", "--trade-youths", "20",
               "--single-youths", "20", "--max-wait", "0", "--model", QUICK_MODEL,
               "--home", "{home}", "--out", "{out}"),
        needs_home=True,
    ),
    Benchmark(
        "batch", "benchmarks.batch.batch_bench", "benchmarks/out/batch_bench.json",
        keys=("machine", "commit", "loops", "local", "finished"),
        quick=("--home", "{home}", "--vacancies", "500", "--youths", "300", "--sizes", "300",
               "--inputs", "synthetic", "--loop-sample", "10", "--ray-size", "0",
               "--kill-size", "0", "--work", "{work}/batch-work", "--out", "{out}"),
        needs_home=True,
    ),
    Benchmark(
        "plan_event", "benchmarks.batch.plan_event_bench", "benchmarks/out/plan_event.json",
        keys=("run", "target_s", "sizes", "seeds"),
        quick=("--seeds", "2026", "--firms", "10", "--youths", "60", "--slots", "4",
               "--cache", "{home}/cache/referential", "--out", "{out}"),
        needs_home=True,
    ),
    Benchmark(
        "load", "benchmarks.load.load_test", "benchmarks/out/load_test.json",
        keys=("machine", "config", "ready", "timings", "phases", "verdict"),
        quick=("--home", "{home}", "--model", QUICK_MODEL, "--youths", "200",
               "--vacancies", "500", "--users", "4", "--duration", "8", "--steps", "",
               "--down-steps", "", "--start-timeout", "300", "--out", "{out}"),
        needs_home=True,
    ),
    Benchmark(
        "web", "benchmarks.web.web_bench", "benchmarks/out/web_bench.json",
        keys=("machine", "data", "pages", "missing"),
        quick=("--home", "{home}", "--model", QUICK_MODEL, "--youths", "100", "--vacancies", "300",
               "--repeats", "3", "--renders", "0", "--out", "{out}"),
        needs_home=True,
    ),
)
NAMES = tuple(b.name for b in BENCHMARKS)


def loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def seed_home(shared: Path, home: Path) -> None:
    """Give a benchmark's fresh home the shared home's fitted models and referential cache.

    Each script that needs a data home gets its own (the load test refuses a home that already
    holds a store); hard links (copies across file systems) spare each one the trade model fit.
    """
    home.mkdir(parents=True, exist_ok=True)
    for part in ("models", "cache"):
        if (shared / part).is_dir() and not (home / part).exists():
            try:
                shutil.copytree(shared / part, home / part, copy_function=os.link)
            except OSError:
                shutil.copytree(shared / part, home / part)


def prepare_shared_home(shared: Path, log) -> None:
    """Fit the quick model's trade searcher once into ``shared`` (the other homes link to it).

    One pass of the SGD solver instead of six: a smoke run checks that every script runs and
    writes its figures, not their values, and the fit is most of a quick run's time otherwise.
    """
    from matching.search.embeddings import make_embedder
    from matching.search.trade_search import TradeSearcher
    from service.config import Settings
    from service.workspace import Workspace

    started = time.perf_counter()
    workspace = Workspace(Settings(home=shared, model=QUICK_MODEL))
    referential = workspace.referential()
    if not workspace.trades_dir.exists():  # a --work folder kept from an earlier run has it
        TradeSearcher(svm_epochs=1).fit(referential, make_embedder(QUICK_MODEL)).save(
            workspace.trades_dir
        )
    workspace.trade_searcher(referential, make_embedder(QUICK_MODEL))  # loads it, or refits
    log(f"shared home ready ({QUICK_MODEL} trade model) in {time.perf_counter() - started:.0f} s")


def command(bench: Benchmark, quick: bool, out: Path, work: Path, home: Path | None) -> list[str]:
    values = {"out": str(out), "work": str(work), "home": str(home) if home else ""}
    args = bench.quick if quick else bench.full
    return [sys.executable, "-m", bench.module, *(a.format(**values) for a in args)]


def check_json(path: Path, keys: tuple[str, ...]) -> str | None:
    """None when ``path`` holds a JSON object with every key, else what is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return f"no readable JSON at {path}: {error}"
    if not isinstance(data, dict):
        return f"{path} is not a JSON object"
    missing = [key for key in keys if key not in data]
    return f"{path} lacks {', '.join(missing)}" if missing else None


def run_one(bench: Benchmark, quick: bool, folder: Path, shared: Path | None, log) -> dict:
    """Run one benchmark in a child process; its exit code, time, load and JSON check."""
    out = folder / f"{bench.name}.json" if quick else ROOT / bench.full_out
    work = folder / f"{bench.name}-work"
    work.mkdir(parents=True, exist_ok=True)
    home = None
    env = dict(os.environ)
    if quick and bench.needs_home and shared is not None:
        home = folder / f"home-{bench.name}"
        seed_home(shared, home)
        env.update(PASSERELLE_HOME=str(home), PASSERELLE_MODEL=QUICK_MODEL)
    if quick and bench.name == "quality":
        out = work / "results.json"
    argv = command(bench, quick, out, work, home)
    log(f"{bench.name}: {' '.join(argv[1:])}")
    record = {"name": bench.name, "command": " ".join(["python", *argv[1:]]),
              "json": str(out), "loadavg_start": loadavg()}
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    record["seconds"] = round(time.perf_counter() - started, 1)
    record["loadavg_end"] = loadavg()
    record["returncode"] = done.returncode
    (work / "stdout.txt").write_text(done.stdout, encoding="utf-8")
    (work / "stderr.txt").write_text(done.stderr, encoding="utf-8")
    if bench.stdout_json and done.stdout.strip():
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(done.stdout, encoding="utf-8")
    problem = None
    if done.returncode not in bench.ok_codes:
        problem = f"exit code {done.returncode}: {done.stderr.strip()[-2000:]}"
    else:
        problem = check_json(out, bench.keys)
    record["ok"] = problem is None
    if problem:
        record["problem"] = problem
    log(f"{bench.name}: {'ok' if problem is None else 'FAILED'} in {record['seconds']:.0f} s"
        + (f" ({problem})" if problem else ""))
    return record


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="small inputs, hashing model, temporary home and outputs")
    parser.add_argument("--only", default=",".join(NAMES),
                        help=f"comma-separated subset of {','.join(NAMES)}")
    parser.add_argument("--work", type=Path,
                        help="quick mode: folder for the JSON, logs and data homes "
                             "(default: a temporary folder, removed at the end)")
    args = parser.parse_args(argv)
    chosen = [b for b in BENCHMARKS if b.name in args.only.split(",")]
    unknown = set(args.only.split(",")) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")

    def log(message: str) -> None:
        print(f"[run_all {datetime.now(UTC):%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    temporary = args.quick and args.work is None
    folder = Path(tempfile.mkdtemp(prefix="passerelle-bench-")) if temporary else (args.work or OUT)
    folder.mkdir(parents=True, exist_ok=True)
    summary = {"quick": args.quick, "date": datetime.now(UTC).isoformat(timespec="seconds"),
               "loadavg_start": loadavg(), "benchmarks": []}
    try:
        shared = None
        if args.quick and any(b.needs_home for b in chosen):
            shared = folder / "home-shared"
            prepare_shared_home(shared, log)
        for bench in chosen:
            summary["benchmarks"].append(run_one(bench, args.quick, folder, shared, log))
        summary["loadavg_end"] = loadavg()
        (folder / "run_all.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        print("| benchmark | result | seconds | load average start -> end | JSON |")
        print("|---|---|---:|---|---|")
        for r in summary["benchmarks"]:
            print(f"| {r['name']} | {'ok' if r['ok'] else 'FAILED'} | {r['seconds']:.0f} | "
                  f"{r['loadavg_start'][0]:.2f} -> {r['loadavg_end'][0]:.2f} | {r['json']} |")
    finally:
        if temporary:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if all(r["ok"] for r in summary["benchmarks"]) else 1


if __name__ == "__main__":
    sys.exit(main())
