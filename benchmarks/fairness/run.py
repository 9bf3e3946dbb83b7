"""Fairness benchmark: mixité of trade lists, balanced shortlists, re-ranking cost, MMR lambda.

Usage (from the repository root; a few minutes with the default "use" model once the trade
model is fitted in the data home)::

    python -m benchmarks.fairness.run [--home /tmp/passerelle-bench-home] [--model use]

1. Trades: 1,000 synthetic youths, k = 10. Share of lists meeting the band floors (floor(0.2 k)
   cards of each of the bands male/mixed/female) relevance-only vs ``balanced``; mean NDCG@10
   cost (gains: relevance-only scores of the 50-card pool); MinSkew@10 and NDKL against a
   uniform target over the three bands; for ``counter_stereotype``, share of F/M youths' lists
   with at least 2 non-traditional trades.
2. Shortlists: 500 vacancies, k = 10, target ``pool``, each algorithm named by its key
   (``det_greedy`` = ``Balance(algorithm="det_greedy")``, ``det_cons``, ``det_relaxed``; the
   service default is DetRelaxed): InfeasibleIndex, NDKL, NDCG@10 cost.
3. Re-ranking cost: 100 candidates into 10 with DetRelaxed (the default), p50/p99 of the time
   added to the relevance-only top-k selection.
4. MMR lambda: intra-list diversity vs NDCG cost for lambda in {0, 0.1, 0.2, 0.3, 0.5}.

All data are synthetic and seeded: the same seed and model give the same figures (timings
aside). Prints a markdown table and writes ``results.json`` next to this script.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.fairness import shortlists, timing, trades  # noqa: E402
from benchmarks.fairness.common import UNIFORM_BANDS, build_engine, machine, now_iso  # noqa: E402
from matching.fairness.policies import Balance, TradeMix  # noqa: E402
from service.config import Settings  # noqa: E402

HERE = Path(__file__).resolve().parent
LAMBDAS = (0.0, 0.1, 0.2, 0.3, 0.5)
BALANCES = {
    "relevance_only": Balance(policy="off"),
    "det_greedy": Balance(algorithm="det_greedy"),
    "det_cons": Balance(algorithm="det_cons"),
    "det_relaxed": Balance(algorithm="det_relaxed"),
}
"""Shortlist policies compared, each key naming the algorithm it runs (target ``pool``)."""
DEFAULT_ALGORITHM = "det_relaxed"
"""The shortlist algorithm the service uses by default (``Balance().algorithm``): the targets
about shortlists and the re-ranking time are checked on it."""
TARGETS = {
    "trades_balanced_feasible_meeting_floors": 1.0,
    "trades_balanced_ndcg_cost_max": 0.05,
    "shortlists_det_relaxed_feasible_infeasible_index_0": 1.0,
    "shortlists_det_relaxed_ndkl_ratio_max": 0.5,
    "shortlists_det_relaxed_ndcg_cost_max": 0.03,
    "rerank_det_relaxed_added_p99_ms_max": 2.0,
}


def run_trades(bench, n_youths: int, top_k: int, log) -> dict:
    youths = bench.youths[:n_youths]
    engine = bench.engine
    started = time.perf_counter()
    pools = trades.relevance_pools(engine, youths)
    figures: dict = {
        "youths": len(youths),
        "genders": {
            g: int(sum(y.gender_group == g for y in youths))
            for g in sorted({y.gender_group for y in youths})
        },
    }
    policies = {
        "relevance_only": None,
        "balanced": TradeMix(),
        "counter_stereotype": TradeMix(policy="counter_stereotype"),
    }
    for name, mix in policies.items():
        figures[name], _ = trades.evaluate(engine, youths, pools, mix, top_k)
        log(f"trades/{name}: {time.perf_counter() - started:.0f} s")
    figures["mmr"] = {}
    for lam in LAMBDAS:
        summary = (
            figures["balanced"]
            if lam == TradeMix().diversity
            else trades.evaluate(engine, youths, pools, TradeMix(diversity=lam), top_k)[0]
        )
        figures["mmr"][str(lam)] = {
            key: summary[key]
            for key in (
                "mean_ild",
                "mean_domains",
                "mean_ndcg_cost",
                "p90_ndcg_cost",
                "share_feasible_meeting_floors",
            )
        }
        log(f"trades/mmr {lam}: {time.perf_counter() - started:.0f} s")
    return figures


def run_shortlists(bench, n_vacancies: int, top_k: int, seed: int, repeats: int, log) -> dict:
    engine = bench.engine
    started = time.perf_counter()
    reach = shortlists.within_reach(engine, [v.id for v in bench.vacancies])
    chosen, selection = shortlists.choose_vacancies(reach, n_vacancies, top_k, seed)
    log(f"shortlists/reach: {time.perf_counter() - started:.0f} s")
    figures = {
        "selection": selection,
        "balances": {name: balance.describe() for name, balance in BALANCES.items()},
        "service_default_algorithm": Balance().algorithm,
        **shortlists.evaluate(engine, reach, chosen, top_k, BALANCES),
    }
    log(f"shortlists/evaluate: {time.perf_counter() - started:.0f} s")
    sizes = np.array([r.size for r in reach.rows])
    big = np.flatnonzero(sizes >= 100)[:500].tolist()
    if not big:  # small runs: the longest lists there are (the table gives their median size)
        big = np.argsort(-sizes, kind="stable")[: min(50, int((sizes >= top_k).sum()))].tolist()
    figures["timing"] = timing.time_rerank(
        shortlists.candidate_lists(engine, reach, big, 100),
        top_k,
        repeats=repeats,
        balance=BALANCES[DEFAULT_ALGORITHM],
    )
    log(f"shortlists/timing: {time.perf_counter() - started:.0f} s")
    return figures


def verdicts(results: dict) -> dict[str, dict]:
    """Check each target on the policy its name says: ``balanced`` trades, DetRelaxed shortlists."""
    t, s = results["trades"], results["shortlists"]
    relaxed = s[DEFAULT_ALGORITHM]
    added_ms = s["timing"]["thread_cpu"]["added"]["p99_us"] / 1e3
    ndkl_ratio = relaxed["mean_ndkl"] / s["relevance_only"]["mean_ndkl"]
    checks = {
        "trades_balanced_feasible_meeting_floors": (
            t["balanced"]["share_feasible_meeting_floors"],
            ">=",
        ),
        "trades_balanced_ndcg_cost_max": (t["balanced"]["mean_ndcg_cost"], "<="),
        "shortlists_det_relaxed_feasible_infeasible_index_0": (
            relaxed["share_feasible_with_infeasible_index_0"],
            ">=",
        ),
        "shortlists_det_relaxed_ndkl_ratio_max": (ndkl_ratio, "<="),
        "shortlists_det_relaxed_ndcg_cost_max": (relaxed["mean_ndcg_cost"], "<="),
        "rerank_det_relaxed_added_p99_ms_max": (added_ms, "<="),
    }
    return {
        name: {
            "value": value,
            "target": TARGETS[name],
            "met": bool(value >= TARGETS[name] if op == ">=" else value <= TARGETS[name]),
        }
        for name, (value, op) in checks.items()
    }


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def table(results: dict) -> str:
    """Render the figures as markdown."""
    t, s, v = results["trades"], results["shortlists"], results["verdicts"]
    tim = s["timing"]
    met = {name: "met" if check["met"] else "**not met**" for name, check in v.items()}
    rel, bal, cs = t["relevance_only"], t["balanced"], t["counter_stereotype"]
    lines = [
        f"Model `{results['model']}`, seed {results['seed']}, synthetic data; {results['date']}; "
        f"{results['machine']['cpu']} ({results['machine']['affinity']} cores usable).",
        "",
        f"**Trades** ({t['youths']} youths, k = {results['top_k']}; target for skew/NDKL: uniform "
        "over male/mixed/female)",
        "",
        "| Figure | Relevance-only | balanced | counter_stereotype | Target |",
        "|---|---|---|---|---|",
        f"| Lists meeting band floors (2 each), all | {_pct(rel['share_meeting_floors'])} | "
        f"{_pct(bal['share_meeting_floors'])} | {_pct(cs['share_meeting_floors'])} | |",
        f"| ... feasible lists ({bal['feasible_lists']}/{bal['lists']}) | "
        f"{_pct(rel['share_feasible_meeting_floors'])} | {_pct(bal['share_feasible_meeting_floors'])} | "
        f"{_pct(cs['share_feasible_meeting_floors'])} | 100 % ({met['trades_balanced_feasible_meeting_floors']}) |",
        f"| Mean NDCG@10 cost (p90) | 0 | {_pct(bal['mean_ndcg_cost'])} ({_pct(bal['p90_ndcg_cost'])}) | "
        f"{_pct(cs['mean_ndcg_cost'])} ({_pct(cs['p90_ndcg_cost'])}) | <= 5 % ({met['trades_balanced_ndcg_cost_max']}) |",
        f"| MinSkew@10 mean (median) | {rel['mean_min_skew']:.2f} ({rel['median_min_skew']:.2f}) | "
        f"{bal['mean_min_skew']:.2f} ({bal['median_min_skew']:.2f}) | "
        f"{cs['mean_min_skew']:.2f} ({cs['median_min_skew']:.2f}) | higher is better, 0 = uniform |",
        f"| Mean NDKL | {rel['mean_ndkl']:.3f} | {bal['mean_ndkl']:.3f} | {cs['mean_ndkl']:.3f} | |",
        f"| F/M youths' lists with >= 2 non-traditional trades ({cs['gendered_lists']} lists) | "
        f"{_pct(rel['share_with_min_non_traditional'])} | {_pct(bal['share_with_min_non_traditional'])} | "
        f"{_pct(cs['share_with_min_non_traditional'])} | |",
        f"| ... among those whose pool holds 2 ({cs['nt_feasible_lists']}) | "
        f"{_pct(rel['share_nt_feasible_meeting'])} | {_pct(bal['share_nt_feasible_meeting'])} | "
        f"{_pct(cs['share_nt_feasible_meeting'])} | |",
        f"| Mean share of women in the list | {_pct(rel['mean_share_women'])} | "
        f"{_pct(bal['mean_share_women'])} | {_pct(cs['mean_share_women'])} | |",
        f"| Intra-list diversity / distinct domains | {rel['mean_ild']:.3f} / {rel['mean_domains']:.1f} | "
        f"{bal['mean_ild']:.3f} / {bal['mean_domains']:.1f} | {cs['mean_ild']:.3f} / {cs['mean_domains']:.1f} | |",
        "",
        f"**Shortlists** ({s['selection']['drawn']} vacancies drawn among the "
        f"{s['selection']['with_at_least_k_within_reach']}/{s['selection']['vacancies_generated']} with >= 10 "
        f"youths within reach, k = {results['top_k']}, target `pool` = gender groups of the top-100 "
        f"qualified incl. not_stated; feasible: {s['feasible_shortlists']}; mean target "
        f"{s['mean_pool_target']})",
        "",
        "| Figure | Relevance-only | DetGreedy | DetCons | DetRelaxed (default) | Target (DetRelaxed) |",
        "|---|---|---|---|---|---|",
    ]
    algos = ("relevance_only", "det_greedy", "det_cons", "det_relaxed")
    feasible = s["feasible_shortlists"]
    lines += [
        "| Feasible shortlists with InfeasibleIndex = 0 | "
        + " | ".join(f"{s[a]['feasible_with_infeasible_index_0']}/{feasible}" for a in algos)
        + f" | all ({met['shortlists_det_relaxed_feasible_infeasible_index_0']}) |",
        "| Mean InfeasibleIndex | "
        + " | ".join(f"{s[a]['mean_infeasible_index']:.2f}" for a in algos)
        + " | 0 |",
        "| Mean NDKL | "
        + " | ".join(f"{s[a]['mean_ndkl']:.4f}" for a in algos)
        + f" | <= half ({met['shortlists_det_relaxed_ndkl_ratio_max']}: ratio {v['shortlists_det_relaxed_ndkl_ratio_max']['value']:.2f}) |",
        "| Mean NDCG@10 cost (p90) | "
        + " | ".join(
            f"{_pct(s[a]['mean_ndcg_cost'])} ({_pct(s[a]['p90_ndcg_cost'])})" for a in algos
        )
        + f" | <= 3 % ({met['shortlists_det_relaxed_ndcg_cost_max']}) |",
        "",
        f"**Re-ranking 100 candidates into 10** ({tim['lists']} real lists x {tim['repeats']} repeats; "
        "relevance-only = `ranking.top_k_order`, balanced = `rerank_candidate_list` with "
        "`Balance(algorithm=\"det_relaxed\")`, the default)",
        "",
        "| Clock | Relevance-only p50 / p99 | Balanced p50 / p99 | Added p50 / p99 | Ratio p50 / p99 | Target |",
        "|---|---|---|---|---|---|",
    ]
    for clock in ("thread_cpu", "wall"):
        c = tim[clock]
        lines.append(
            f"| {clock} | {c['relevance_only_top_k']['p50_us']:.0f} / {c['relevance_only_top_k']['p99_us']:.0f} µs | "
            f"{c['balanced']['p50_us']:.0f} / {c['balanced']['p99_us']:.0f} µs | "
            f"{c['added']['p50_us']:.0f} / {c['added']['p99_us']:.0f} µs | "
            f"{c['ratio_p50']:.0f}x / {c['ratio_p99']:.0f}x | "
            + (
                f"added p99 <= 2 ms ({met['rerank_det_relaxed_added_p99_ms_max']})"
                if clock == "thread_cpu"
                else ""
            )
            + " |"
        )
    lines += [
        "",
        "**MMR lambda** (`TradeMix(diversity=lambda)`, balanced policy, cap 3 per domain)",
        "",
        "| lambda | Intra-list diversity | Distinct domains | NDCG@10 cost (p90) | Feasible lists meeting floors |",
        "|---|---|---|---|---|",
    ]
    for lam, m in t["mmr"].items():
        lines.append(
            f"| {lam} | {m['mean_ild']:.3f} | {m['mean_domains']:.2f} | {_pct(m['mean_ndcg_cost'])} "
            f"({_pct(m['p90_ndcg_cost'])}) | {_pct(m['share_feasible_meeting_floors'])} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home",
        type=Path,
        default=Path("/tmp/passerelle-bench-home"),
        help="data home (the fitted trade model and vectors are cached there)",
    )
    parser.add_argument("--model", default="use", help="embedding model: use (default) or hashing")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--youths", type=int, default=2000, help="youths generated (candidates)")
    parser.add_argument("--trade-youths", type=int, default=1000, help="youths given trade lists")
    parser.add_argument("--vacancies", type=int, default=2000, help="vacancies generated")
    parser.add_argument("--shortlists", type=int, default=500, help="vacancies shortlisted")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5, help="timing passes")
    parser.add_argument("--out", type=Path, default=HERE / "results.json")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(f"[fairness] {message}", file=sys.stderr, flush=True)

    started = time.perf_counter()
    bench = build_engine(
        Settings(home=args.home, model=args.model),
        n_youths=args.youths,
        n_vacancies=args.vacancies,
        seed=args.seed,
        log=log,
    )
    results = {
        "date": now_iso(),
        "machine": machine(),
        "command": " ".join(
            ["python", "-m", "benchmarks.fairness.run", *(argv if argv is not None else sys.argv[1:])]
        ),
        "model": args.model,
        "seed": args.seed,
        "top_k": args.top_k,
        "synthetic": True,
        "sizes": {
            "youths": args.youths,
            "trade_youths": args.trade_youths,
            "vacancies": args.vacancies,
            "shortlists": args.shortlists,
        },
        "trade_target": UNIFORM_BANDS,
        "trades": run_trades(bench, args.trade_youths, args.top_k, log),
        "shortlists": run_shortlists(
            bench, args.shortlists, args.top_k, args.seed, args.repeats, log
        ),
    }
    results["verdicts"] = verdicts(results)
    results["seconds"] = round(time.perf_counter() - started, 1)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(table(results))
    return results


if __name__ == "__main__":
    main()
