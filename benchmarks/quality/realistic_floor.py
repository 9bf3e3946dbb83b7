"""How often a mix floor goes unmet with plausible picks only, by relevance floor (issue #12).

Usage (from the repository root)::

    python -m benchmarks.quality.realistic_floor [--home DIR] [--top-k 10]

For the synthetic youths of the data home's demo and the realistic profiles
(``realistic_profiles.jsonl``), under ``balanced`` and ``counter_stereotype``, re-ranks each
youth's accessible cards with the plausible pool built at each relevance floor (share of the
best card's score; ``none`` = no plausible pool, the policy may draw from the whole top 50) and
counts the lists with a ``floor_unmet:*`` note and the picks a policy moved in. Thin profiles
are left out (their lists do not come from relevance). Writes ``realistic_floor.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FLOORS = (None, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6)


def measure(engine, youths, scores: np.ndarray, top_k: int) -> list[dict]:
    """One row per (policy, floor): lists, lists with a floor unmet, policy picks."""
    from matching.fairness.policies import TradeMix, rerank_trade_list
    from matching.recommend import ranking

    rules = engine._rules
    rows = []
    prepared = []
    for row, youth in enumerate(youths):
        wished = rules.wished(youth)
        if rules.is_thin(youth, wished):
            continue
        row_scores = np.where(rules.accessible(youth, wished), scores[row], -np.inf).astype(np.float32)
        pool = ranking.top_k_order(row_scores, 50)
        prepared.append((youth, wished, row_scores, pool[np.isfinite(row_scores[pool])]))
    for policy in ("balanced", "counter_stereotype"):
        mix = TradeMix(policy=policy, diversity=0.0)
        for floor in FLOORS:
            unmet = moved = 0
            for youth, wished, row_scores, pool in prepared:
                plausible = None
                if floor is not None:
                    rules.relevance_floor = floor
                    plausible = rules.plausible(row_scores, wished)[pool]
                result = rerank_trade_list(pool.astype(np.int64), row_scores[pool], engine._bands[pool],
                                           engine._domains[pool], top_k, mix, youth.gender,
                                           engine._share_women[pool], None, plausible=plausible)
                unmet += any(n.startswith("floor_unmet") for n in result.notes)
                moved += int(np.isin(result.why, ("mixite", "balance")).sum())
            rows.append({"policy": policy, "floor": floor, "lists": len(prepared), "floor_unmet": unmet,
                         "floor_unmet_share": round(unmet / max(len(prepared), 1), 3), "policy_picks": moved})
    from matching.recommend.plausible import RELEVANCE_FLOOR

    rules.relevance_floor = RELEVANCE_FLOOR
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="data home (default: PASSERELLE_HOME)")
    parser.add_argument("--top-k", type=int, default=10)
    args = parser.parse_args(argv)
    from benchmarks.quality.realistic import load_profiles
    from matching.profiles import parse_youth
    from service.config import Settings
    from service.workspace import Workspace

    workspace = Workspace(Settings(home=args.home) if args.home else Settings())
    engine = workspace.engine()
    out = {}
    synthetic = list(engine.youths.youths)
    realistic = [parse_youth(p, workspace.referential())[0] for p in load_profiles()]
    for name, youths, scores in (
            ("synthetic", synthetic, np.asarray(engine.youth_trade_scores, dtype=np.float32)),
            ("realistic", realistic, engine.trade_scores(realistic))):
        out[name] = measure(engine, youths, scores, args.top_k)
        print(f"## {name} youths")
        for row in out[name]:
            print(f"{row['policy']:>19} floor={str(row['floor']):>5}: {row['floor_unmet']:>4}/{row['lists']} "
                  f"lists with a floor unmet ({row['floor_unmet_share']:.1%}), {row['policy_picks']} policy picks")
    (HERE / "realistic_floor.json").write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
