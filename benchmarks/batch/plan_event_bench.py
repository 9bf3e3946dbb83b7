"""Benchmark the job-dating planner on seeded synthetic events (40 firms x 6 slots, 300 youths).

For each seed: generate the event from the real referential (Metz communes, ROME cards,
stereotyped wishes; SYNTHETIC data), parse the CSV texts, build the arrays, solve; print the
times, the total fit of the integer program against the greedy baseline (floors first, then best
fit) and every constraint's satisfied/applicable counts for both. A second line per seed solves
without floors against a fit-only greedy: the fit the floors cost. Target: solved in < 30 s.

    python -m benchmarks.batch.plan_event_bench --seeds 2026,1,2,3,4   # from the repo root
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import tempfile
import time
from pathlib import Path

import scipy

from matching.events.inputs import build_instance, parse_firms, parse_youths
from matching.events.plan import plan_meetings
from matching.referential.loader import load_referential
from matching.synthetic.event import synthetic_event_csv

TARGET_S = 30.0


def _counts(checks) -> str:
    return " ".join(f"{c.name}={c.satisfied}/{c.applicable}" for c in checks)


def run(seed: int, referential, args) -> None:
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
    ratio = plan.total_fit / plan.greedy_total_fit
    met = "yes" if solved - built < TARGET_S and plan.status == "optimal" else "NO"
    print(f"| {seed} | {instance.reachable.sum()} | {int(instance.capacity.sum())} | {plan.status} "
          f"| {solved - built:.2f} | {met} | {len(plan.meetings)} | {plan.total_fit:.2f} "
          f"| {plan.greedy_total_fit:.2f} | {ratio:.3f} | {free.total_fit:.2f} "
          f"| {free.greedy_total_fit:.2f} | {built - generated:.2f} | {generated - start:.2f} |")
    print(f"|   | MILP: {_counts(plan.constraints)} |")
    print(f"|   | greedy: {_counts(plan.greedy_constraints)} |")
    print(f"|   | notes: {', '.join(f'{n.code}({len(n.subjects)})' for n in plan.notes) or 'none'} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="2026,1,2,3,4", help="Comma-separated seeds.")
    parser.add_argument("--firms", type=int, default=40)
    parser.add_argument("--youths", type=int, default=300)
    parser.add_argument("--slots", type=int, default=6)
    parser.add_argument("--max-meetings", type=int, default=2)
    parser.add_argument("--time-limit-s", type=float, default=30.0)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "passerelle-bench-cache",
                        help="Referential cache folder.")
    args = parser.parse_args()
    started = time.perf_counter()
    referential = load_referential(cache_dir=args.cache)
    print(f"# plan-event benchmark, {datetime.date.today()}, {platform.node()} "
          f"({platform.processor() or platform.machine()}, {os.cpu_count()} CPUs), "
          f"Python {platform.python_version()}, scipy {scipy.__version__} (HiGHS), "
          f"load average {os.getloadavg()[0]:.2f}; referential loaded in {time.perf_counter() - started:.1f} s")
    print(f"# {args.firms} firms x {args.slots} slots (seats 1 or 2), {args.youths} youths, "
          f"max {args.max_meetings} meetings, time limit {args.time_limit_s:g} s; SYNTHETIC data")
    print()
    print("| seed | reachable pairs | seats | status | plan s (greedy, 2 solves, timing) | < 30 s "
          "| meetings | MILP fit | greedy fit | ratio | MILP fit, no floors | greedy fit, no floors "
          "| parse+build s | generate s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for seed in (int(s) for s in args.seeds.split(",")):
        run(seed, referential, args)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
