"""Benchmark the job-dating planner on seeded synthetic events (40 firms x 6 slots, 300 youths).

For each seed: generate the event from the real referential (Metz communes, ROME cards,
stereotyped wishes; SYNTHETIC data), parse the CSV texts, build the arrays, solve; print the
times, the total fit of the integer program against the greedy baseline (floors first, then best
fit) and every constraint's satisfied/applicable counts for both. A second line per seed solves
without floors against a fit-only greedy: the fit the floors cost. Target: solved in < 30 s.
Writes every figure, with the machine, date, commit, command and load average, to ``--out``
(default ``benchmarks/out/plan_event.json``, git-ignored).

    python -m benchmarks.batch.plan_event_bench --seeds 2026,1,2,3,4   # from the repo root
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scipy

from matching.events.inputs import build_instance, parse_firms, parse_youths
from matching.events.plan import plan_meetings
from matching.referential.loader import load_referential
from matching.synthetic.event import synthetic_event_csv

TARGET_S = 30.0
ROOT = Path(__file__).resolve().parents[2]


def _counts(checks) -> dict[str, list[int]]:
    return {c.name: [int(c.satisfied), int(c.applicable)] for c in checks}


def _text(counts: dict[str, list[int]]) -> str:
    return " ".join(f"{name}={done}/{of}" for name, (done, of) in counts.items())


def run(seed: int, referential, args) -> dict:
    """Generate, build and plan one synthetic event; the figures of both plans."""
    start = time.perf_counter()
    firms_text, youths_text = synthetic_event_csv(
        referential, n_firms=args.firms, n_youths=args.youths, slots=args.slots, seed=seed)
    generated = time.perf_counter()
    firms, youths = parse_firms(firms_text, referential), parse_youths(youths_text, referential)
    instance = build_instance(firms, youths, referential)
    built = time.perf_counter()
    plan = plan_meetings(instance, max_meetings=args.max_meetings, time_limit_s=args.time_limit_s)
    solved = time.perf_counter()
    free = plan_meetings(instance, max_meetings=args.max_meetings, time_limit_s=args.time_limit_s,
                         floors=False)
    return {
        "seed": seed,
        "reachable_pairs": int(instance.reachable.sum()),
        "seats": int(instance.capacity.sum()),
        "status": plan.status,
        "plan_s": solved - built,
        "met": bool(solved - built < TARGET_S and plan.status == "optimal"),
        "meetings": len(plan.meetings),
        "milp_fit": float(plan.total_fit),
        "greedy_fit": float(plan.greedy_total_fit),
        "ratio": float(plan.total_fit / plan.greedy_total_fit),
        "milp_fit_no_floors": float(free.total_fit),
        "greedy_fit_no_floors": float(free.greedy_total_fit),
        "parse_build_s": built - generated,
        "generate_s": generated - start,
        "milp_constraints": _counts(plan.constraints),
        "greedy_constraints": _counts(plan.greedy_constraints),
        "notes": {n.code: len(n.subjects) for n in plan.notes},
    }


def print_row(r: dict) -> None:
    print(f"| {r['seed']} | {r['reachable_pairs']} | {r['seats']} | {r['status']} "
          f"| {r['plan_s']:.2f} | {'yes' if r['met'] else 'NO'} | {r['meetings']} "
          f"| {r['milp_fit']:.2f} | {r['greedy_fit']:.2f} | {r['ratio']:.3f} "
          f"| {r['milp_fit_no_floors']:.2f} | {r['greedy_fit_no_floors']:.2f} "
          f"| {r['parse_build_s']:.2f} | {r['generate_s']:.2f} |")
    print(f"|   | MILP: {_text(r['milp_constraints'])} |")
    print(f"|   | greedy: {_text(r['greedy_constraints'])} |")
    notes = ", ".join(f"{code}({n})" for code, n in r["notes"].items()) or "none"
    print(f"|   | notes: {notes} |")


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_run(args) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True, check=False).stdout.strip()
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python", "-m", "benchmarks.batch.plan_event_bench", *sys.argv[1:]]),
        "commit": commit,
        "node": platform.node(),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "scipy": scipy.__version__,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="2026,1,2,3,4", help="Comma-separated seeds.")
    parser.add_argument("--firms", type=int, default=40)
    parser.add_argument("--youths", type=int, default=300)
    parser.add_argument("--slots", type=int, default=6)
    parser.add_argument("--max-meetings", type=int, default=2)
    parser.add_argument("--time-limit-s", type=float, default=30.0)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "passerelle-bench-cache",
                        help="Referential cache folder.")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "plan_event.json",
                        help="JSON written with every figure.")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    result = {"run": describe_run(args), "target_s": TARGET_S, "synthetic": True,
              "sizes": {"firms": args.firms, "youths": args.youths, "slots": args.slots,
                        "max_meetings": args.max_meetings, "time_limit_s": args.time_limit_s}}
    referential = load_referential(cache_dir=args.cache)
    run_info = result["run"]
    print(f"# plan-event benchmark, {datetime.date.today()}, {run_info['node']} "
          f"({run_info['cpu']}, {run_info['cores']} CPUs), commit {run_info['commit']}, "
          f"Python {run_info['python']}, scipy {run_info['scipy']} (HiGHS), "
          f"load average {run_info['loadavg_start'][0]:.2f}; referential loaded in "
          f"{time.perf_counter() - started:.1f} s")
    print(f"# {args.firms} firms x {args.slots} slots (seats 1 or 2), {args.youths} youths, "
          f"max {args.max_meetings} meetings, time limit {args.time_limit_s:g} s; SYNTHETIC data")
    print()
    print("| seed | reachable pairs | seats | status | plan s (greedy, 2 solves, timing) | < 30 s "
          "| meetings | MILP fit | greedy fit | ratio | MILP fit, no floors | greedy fit, no floors "
          "| parse+build s | generate s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    result["seeds"] = []
    for seed in (int(s) for s in args.seeds.split(",")):
        result["seeds"].append(run(seed, referential, args))
        print_row(result["seeds"][-1])
    run_info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result["seconds"] = round(time.perf_counter() - started, 1)
    print(f"\nload average after: {run_info['loadavg_end'][0]:.2f}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written: {args.out}")
    return result


if __name__ == "__main__":
    main()
