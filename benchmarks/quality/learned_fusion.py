"""Learned trade-search fusion against rank fusion: held-out appellations, everyday set, speed.

Usage (from the repository root)::

    python benchmarks/quality/learned_fusion.py [--seeds 20,21,22] [--out DIR]

For each seed, the split of ``run.py`` (a seeded 20 % of the appellations as test queries, a
further 10 % as validation). The searcher is fitted without the test appellations with
``learn_fusion=True`` and the validation appellations as the fusion's training queries: it
fits a second searcher without test and validation appellations and trains the ``lambdarank``
model on the validation queries (:mod:`matching.search.learned_fusion`). The test appellations
are in neither fit nor in the training pairs. On the same fit, the learned fusion
(``searcher.fuse``) and the shipped rank fusion (``searcher.rank_fusion``, ``DEFAULT_WEIGHTS``)
are scored on the test appellations (R@1/5/10, MRR) and on the 46 everyday ``test`` rows
(R@5/10; the ``tune`` rows are reported apart and were not used to train).

``--fits DIR`` reuses fits saved by an earlier run (``DIR/seed{S}_test``: the searcher without
the test appellations; ``DIR/seed{S}_val``: without test and validation appellations, the
fusion's second fit), and saves there the fits it makes: the same options and exclusions, so
the same arrays (the SVM's solver is seeded), and a run that only changes the fusion does not
refit. The fusion is then trained by the same function (``learn_fusion`` given the second fit).

Speed: milliseconds per call of ``fuse`` against ``rank_fusion`` on batches of 5 everyday
texts (a young person's texts), median of repeated calls, plus the components' own time.
Writes ``learned_fusion_results.json`` next to this script (or in ``--out``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import CachedEmbedder, metrics, ranks_of, split_appellations, summarise  # noqa: E402

from matching.referential.loader import load_referential  # noqa: E402
from matching.search.embeddings import HashingEmbedder, UseEmbedder  # noqa: E402
from matching.search.learned_fusion import learn_fusion  # noqa: E402
from matching.search.trade_fit import held_out_appellations  # noqa: E402
from matching.search.trade_search import MIN_FUSION_QUERIES, TradeSearcher  # noqa: E402

HERE = Path(__file__).resolve().parent
SYSTEMS = {
    "learned fusion (lambdarank)": "fuse",
    "rank fusion (shipped DEFAULT_WEIGHTS)": "rank_fusion",
}


def figures(searcher, parts_test, gold_test, parts_ev, ev_gold, tune) -> dict:
    """Every system's figures on the test appellations and the everyday rows."""
    out = {}
    for name, method in SYSTEMS.items():
        fuse = getattr(searcher, method)
        ev_ranks = ranks_of(fuse(parts_ev), ev_gold)
        out[name] = {
            "appellations": metrics(ranks_of(fuse(parts_test), gold_test)),
            "everyday_test": {
                k: v for k, v in metrics(ev_ranks[~tune]).items() if k in ("R@5", "R@10")
            },
            "everyday_tune": {
                k: v for k, v in metrics(ev_ranks[tune]).items() if k in ("R@5", "R@10")
            },
        }
    return out


def speed(searcher, texts: list[str], repeats: int = 30) -> dict:
    """Median ms per call on batches of 5 texts: components, rank fusion, learned fusion."""
    batches = [texts[i : i + 5] for i in range(0, len(texts) - 4, 5)]
    laps: dict[str, list[float]] = {"components": [], "rank_fusion": [], "fuse": []}
    for _ in range(repeats):
        for batch in batches:
            t0 = time.perf_counter()
            parts = searcher.components(batch)
            laps["components"].append(time.perf_counter() - t0)
            for method in ("rank_fusion", "fuse"):
                t0 = time.perf_counter()
                getattr(searcher, method)(parts)
                laps[method].append(time.perf_counter() - t0)
    out = {f"{k}_ms_per_5_texts": round(1000 * float(np.median(v)), 2) for k, v in laps.items()}
    out["added_ms_per_5_texts"] = round(out["fuse_ms_per_5_texts"] - out["rank_fusion_ms_per_5_texts"], 2)
    out["p90_added_ms_per_5_texts"] = round(
        1000 * float(np.percentile(np.array(laps["fuse"]) - np.array(laps["rank_fusion"]), 90)), 2
    )
    return out


def fitted(ref, use, options, fits, seed, test, val, apps) -> TradeSearcher:
    """The seed's searcher with its learned fusion: fitted (``learn_fusion=True``), or read
    from ``fits`` (and written there when absent) with the fusion trained on the saved second
    fit."""
    codes = apps["code_ogr"].to_numpy()
    if fits is None:
        return TradeSearcher(learn_fusion=True, **options).fit(
            ref, use, exclude_appellations=codes[test], fusion_queries=codes[val]
        )
    searchers = {}
    for name, held in (("test", test), ("val", np.r_[test, val])):
        folder = fits / f"seed{seed}_{name}"
        if not (folder / "manifest.json").exists():
            TradeSearcher(**options).fit(ref, use, exclude_appellations=codes[held]).save(folder)
        searchers[name] = TradeSearcher.load(folder, use)
    searcher = searchers["test"]
    kept, _, _ = held_out_appellations(ref.appellations, codes[test])
    searcher.learned_fusion_ = learn_fusion(
        searcher, ref, use, kept, codes[test], codes[val], MIN_FUSION_QUERIES,
        second=searchers["val"],
    )
    return searcher


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="20,21,22")
    parser.add_argument("--out", type=Path, default=HERE)
    parser.add_argument("--model", choices=("use", "hashing"), default="use",
                        help="embedder (hashing, with --svm-epochs 1: a quick check of the script)")
    parser.add_argument("--svm-epochs", type=int, help="passes of the SVM solver (quick runs)")
    parser.add_argument("--fits", type=Path, help="folder of saved fits to reuse (and fill)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s]
    started = time.perf_counter()
    ref = load_referential()
    apps = ref.appellations.reset_index(drop=True)
    position = {c: i for i, c in enumerate(ref.codes)}
    everyday = pd.read_csv(HERE / "everyday_fr.csv")
    ev_gold = [{position[c] for c in cs.split(";")} for cs in everyday["codes"]]
    tune = (everyday["split"] == "tune").to_numpy()
    use = CachedEmbedder(UseEmbedder(threads=2) if args.model == "use" else HashingEmbedder())
    options = {"svm_epochs": args.svm_epochs} if args.svm_epochs else {}
    per_seed = []
    for seed in seeds:
        test, val = split_appellations(apps, seed)
        t0 = time.perf_counter()
        searcher = fitted(ref, use, options, args.fits, seed, test, val, apps)
        fit_s = time.perf_counter() - t0
        queries = apps["label"].to_numpy()[test].tolist()
        gold = [{position[c]} for c in apps["code_rome"].to_numpy()[test]]
        parts_test = searcher.components(queries)
        parts_ev = searcher.components(everyday["query"].tolist())
        entry = {
            "seed": seed,
            "n_test_appellations": len(test),
            "fusion_training": searcher.learned_fusion_.manifest,
            "systems": figures(searcher, parts_test, gold, parts_ev, ev_gold, tune),
            "fit_with_fusion_s": round(fit_s, 1),
            "fits": None if args.fits is None else "saved fits reused or written (--fits)",
            "speed": speed(searcher, everyday["query"][~tune].tolist()),
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        }
        entry["fusion_training"] = {
            k: v for k, v in entry["fusion_training"].items() if k != "features"
        }
        per_seed.append(entry)
        print(json.dumps({k: entry[k] for k in ("seed", "systems", "speed")}), flush=True)
    summary = summarise(per_seed)
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/quality/learned_fusion.py " + " ".join(sys.argv[1:]),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "seeds": seeds,
        "per_seed": per_seed,
        "summary": summary,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "learned_fusion_results.json"
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    for name, row in summary.items():
        a, e = row["appellations"], row["everyday_test"]
        print(f"{name}: R@1 {a['R@1']['mean']:.3f} R@5 {a['R@5']['mean']:.3f} "
              f"R@10 {a['R@10']['mean']:.3f} MRR {a['MRR']['mean']:.3f} | everyday R@5 "
              f"{e['R@5']['mean']:.3f} R@10 {e['R@10']['mean']:.3f}")


if __name__ == "__main__":
    main()
