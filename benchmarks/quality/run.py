"""Trade-search quality benchmark: held-out appellations and everyday French phrasings.

Usage (from the repository root)::

    python benchmarks/quality/run.py [--seeds 20,21,22] [--no-timing] [--keep-default-weights]

For each seed of the held-out split (default 20, 21 and 22):

1. Appellations: a seeded 20 % of the ROME appellations is held out (kept out of every trade
   document and out of the supervised training); each held-out label is a query whose answer
   is its card. A further 10 % (validation) is held out to choose the fusion weights, which are
   never chosen on the test split. The held-out protocol also drops every other text of the
   referential whose normalised form equals a held-out label (a duplicate appellation, the other
   gender form, a short or card label): see ``TradeSearcher.fit``.
2. Everyday wording: ``everyday_fr.csv`` (query, acceptable codes, split). Rows marked ``tune``
   (a third) may be used to choose weights; ``test`` rows are reported and never tuned on. They
   are the same for every seed; their figures change with the weights chosen for the seed.

Each seed fits the searcher twice (without test + validation appellations, to choose the
weights; without the test appellations, to report). The headline system is the rank-fusion
hybrid with the weights chosen for that seed; the same fit fused with the engine's shipped
``DEFAULT_WEIGHTS`` and the single-component baselines are reported beside it.

Prints per-seed and summary (mean, sample std, min-max) tables and writes ``results.json`` (one
entry per seed under ``per_seed``, the statistics under ``summary``, their means under
``systems``) and ``per_query.csv`` (one row per test query and seed: kind, text, gold codes,
grand domaine of the first gold code, rank of the first gold code for the headline hybrid
(1-based, 0 when not in the top 10), its top-1 code and label, seed) next to this script.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from matching.referential.loader import load_referential  # noqa: E402
from matching.search.embeddings import HashingEmbedder, UseEmbedder  # noqa: E402
from matching.search.trade_scores import _grouping  # noqa: E402
from matching.search.trade_search import (  # noqa: E402
    COMPONENTS,
    DEFAULT_WEIGHTS,
    TradeSearcher,
    max_per_group,
    zscore_top,
)

HERE = Path(__file__).resolve().parent
SEARCHER_OPTIONS: dict = {}  # --svm-epochs (quick runs)


class CachedEmbedder:
    """Memoise an embedder's vectors by text (the benchmark fits the searcher twice)."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self._cache = inner, inner.name, inner.dim, {}

    def _encode(self, texts, on_progress=None):
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for text, vector in zip(missing, self.inner.encode_documents(missing), strict=True):
                self._cache[text] = vector
        return (
            np.stack([self._cache[t] for t in texts])
            if texts
            else np.zeros((0, self.dim), np.float32)
        )

    encode_queries = encode_documents = _encode


def ranks_of(scores: np.ndarray, gold_sets: list[set[int]]) -> np.ndarray:
    """Rank (0 = first) of the best-ranked acceptable card per query, ``(n_queries,)``."""
    width = max(len(g) for g in gold_sets)
    gold = np.array([sorted(g) + [sorted(g)[0]] * (width - len(g)) for g in gold_sets])
    best = np.take_along_axis(scores, gold, 1).max(axis=1)
    return (scores > best[:, None]).sum(axis=1)


def metrics(ranks: np.ndarray) -> dict[str, float]:
    out = {f"R@{k}": float((ranks < k).mean()) for k in (1, 5, 10)}
    out["MRR"] = float((1.0 / (ranks + 1)).mean())
    return out


def split_appellations(apps: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (test, validation) row positions: 20 % and 10 % of the appellations."""
    perm = np.random.default_rng(seed).permutation(len(apps))
    n_test, n_val = int(0.2 * len(apps)), int(0.1 * len(apps))
    return perm[:n_test], perm[n_test : n_test + n_val]


def choose_weights(
    parts_val, gold_val, parts_tune, gold_tune, normalise=zscore_top, step=0.1
) -> tuple[dict, float]:
    """Grid-search fusion weights (sum 1) maximising val MRR + everyday-tune MRR, equally."""
    z_val = {k: normalise(v) for k, v in parts_val.items()}
    z_tune = {k: normalise(v) for k, v in parts_tune.items()}
    grid = np.round(np.arange(0, 1 + 1e-9, step), 2)
    best, best_objective = None, -1.0
    for combo in itertools.product(grid, repeat=len(COMPONENTS) - 1):
        last = round(1 - sum(combo), 2)
        if last < -1e-9:
            continue
        weights = {k: float(w) for k, w in zip(COMPONENTS, (*combo, max(last, 0.0)), strict=True)}
        fused_val = sum(w * z_val[k] for k, w in weights.items() if w)
        fused_tune = sum(w * z_tune[k] for k, w in weights.items() if w)
        objective = (
            0.5 * metrics(ranks_of(fused_val, gold_val))["MRR"]
            + 0.5 * metrics(ranks_of(fused_tune, gold_tune))["MRR"]
        )
        if objective > best_objective:
            best, best_objective = weights, objective
    return best, best_objective


def per_query_rows(
    ref, codes, searcher, parts_test, queries, test, apps, parts_ev, everyday, tune
):
    """Rows of ``per_query.csv``: the headline hybrid's answer to every test query."""
    rows = []
    cards = ref.cards
    for kind, parts, texts, gold_codes in (
        ("appellation", parts_test, queries, apps["code_rome"].to_numpy()[test].tolist()),
        (
            "everyday",
            {k: v[~tune] for k, v in parts_ev.items()},
            everyday["query"][~tune].tolist(),
            everyday["codes"][~tune].tolist(),
        ),
    ):
        fused = searcher.fuse(parts)
        top = np.argsort(-fused, axis=1, kind="stable")[:, :10]
        for text, gold, best in zip(texts, gold_codes, top, strict=True):
            gold_set = set(gold.split(";"))
            first_gold = gold.split(";")[0]
            hits = [i + 1 for i, p in enumerate(best) if codes[p] in gold_set]
            rows.append(
                {
                    "kind": kind,
                    "query": text,
                    "gold": gold,
                    "gold_label": cards.loc[first_gold, "label"],
                    "grand_domaine": cards.loc[first_gold, "code_grand_domaine"],
                    "grand_domaine_label": cards.loc[first_gold, "grand_domaine_label"],
                    "rank": hits[0] if hits else 0,
                    "top1": codes[best[0]],
                    "top1_label": cards.loc[codes[best[0]], "label"],
                }
            )
    return rows


def fuse_with(searcher, parts, weights) -> np.ndarray:
    """Fuse component scores with ``weights`` the way ``searcher.fuse`` does (its normalisation)."""
    return sum(w * searcher.normalise(parts[k]) for k, w in weights.items() if w)


def summarise(per_seed: list[dict]) -> dict:
    """Mean, sample std (ddof=1), min and max over seeds of every figure of every system."""
    summary: dict = {}
    for name in per_seed[0]["systems"]:
        summary[name] = {}
        for group, figures in per_seed[0]["systems"][name].items():
            summary[name][group] = {}
            for metric in figures:
                values = np.array([s["systems"][name][group][metric] for s in per_seed])
                summary[name][group][metric] = {
                    "mean": float(values.mean()),
                    "std": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
                    "min": float(values.min()),
                    "max": float(values.max()),
                }
    return summary


HEADLINE = "hybrid (rank fusion, weights chosen on validation)"
SHIPPED = "hybrid (rank fusion, shipped DEFAULT_WEIGHTS)"


def run_seed(seed, ref, apps, codes, position, everyday, ev_gold, tune, use, keep_default):
    """Validation fit + weight search, test fit, every system's figures for one seed."""
    test, val = split_appellations(apps, seed)
    weights = z_weights = dict(DEFAULT_WEIGHTS)
    objective = z_objective = None
    t0 = time.perf_counter()
    if not keep_default:
        held = apps["code_ogr"].to_numpy()[np.r_[test, val]]
        searcher = TradeSearcher(**SEARCHER_OPTIONS).fit(ref, use, exclude_appellations=held)
        parts_val = searcher.components(apps["label"].to_numpy()[val].tolist())
        parts_tune = searcher.components(everyday["query"][tune].tolist())
        gold_val = [{position[c]} for c in apps["code_rome"].to_numpy()[val]]
        gold_tune = [g for g, t in zip(ev_gold, tune, strict=True) if t]
        weights, objective = choose_weights(
            parts_val, gold_val, parts_tune, gold_tune, normalise=searcher.normalise
        )
        z_weights, z_objective = choose_weights(parts_val, gold_val, parts_tune, gold_tune)
        print(f"seed {seed}: chosen weights {weights} (objective {objective:.4f}); "
              f"z-score fusion {z_weights} (objective {z_objective:.4f})", file=sys.stderr)
    validation_s = time.perf_counter() - t0

    # test: fit without the test appellations, with the chosen weights
    t0 = time.perf_counter()
    searcher = TradeSearcher(weights=weights, **SEARCHER_OPTIONS).fit(
        ref, use, exclude_appellations=apps["code_ogr"].to_numpy()[test]
    )
    queries = apps["label"].to_numpy()[test].tolist()
    gold_test = [{position[c]} for c in apps["code_rome"].to_numpy()[test]]
    parts_test = searcher.components(queries)
    parts_ev = searcher.components(everyday["query"].tolist())
    hashing = HashingEmbedder()
    groups = _grouping(searcher.app_cards_)
    app_hash = hashing.encode_documents(searcher.app_labels_.tolist())

    def hashing_scores(texts):
        return max_per_group(hashing.encode_queries(texts) @ app_hash.T, *groups, len(codes))

    systems = {
        HEADLINE: lambda parts, texts: searcher.fuse(parts),
        SHIPPED: lambda parts, texts: fuse_with(searcher, parts, DEFAULT_WEIGHTS),
        "hybrid, z-score fusion (weights chosen on validation)": lambda parts, texts: sum(
            w * zscore_top(parts[k]) for k, w in z_weights.items() if w
        ),
        "USE nearest appellation": lambda parts, texts: parts["sem_app"],
        "TF-IDF char n-grams nearest appellation": lambda parts, texts: parts["lex_app"],
        "linear SVM char n-grams": lambda parts, texts: parts["svm"],
        "hashing embedder nearest appellation": lambda parts, texts: hashing_scores(texts),
    }
    ev_queries = everyday["query"].tolist()
    rows = {}
    for name, system in systems.items():
        app_m = metrics(ranks_of(system(parts_test, queries), gold_test))
        ev_ranks = ranks_of(system(parts_ev, ev_queries), ev_gold)
        rows[name] = {
            "appellations": app_m,
            "everyday_test": {
                k: v for k, v in metrics(ev_ranks[~tune]).items() if k in ("R@5", "R@10")
            },
            "everyday_tune": {
                k: v for k, v in metrics(ev_ranks[tune]).items() if k in ("R@5", "R@10")
            },
        }
    fused_ev = searcher.fuse(parts_ev)
    first = [str(codes[i]) for i in fused_ev.argmax(axis=1)]
    misses = [
        {"query": q, "first": f, "label": ref.cards.loc[f, "label"], "accepted": cs}
        for q, f, cs, r in zip(
            ev_queries, first, everyday["codes"], ranks_of(fused_ev, ev_gold), strict=True
        )
        if r >= 5
    ]
    per_query = per_query_rows(
        ref, codes, searcher, parts_test, queries, test, apps, parts_ev, everyday, tune
    )
    for row in per_query:
        row["seed"] = seed
    entry = {
        "seed": seed,
        "n_test_appellations": int(len(test)),
        "n_val_appellations": int(len(val)),
        "weights": weights,
        "weights_objective": objective,
        "z_score_fusion_weights": z_weights,
        "z_score_fusion_objective": z_objective,
        "weights_equal_shipped_default": weights == dict(DEFAULT_WEIGHTS),
        "systems": rows,
        "everyday_misses_top5": misses,
        "validation_fit_and_search_s": round(validation_s, 1),
        "test_fit_and_scoring_s": round(time.perf_counter() - t0, 1),
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
    }
    return entry, per_query, searcher


def timing_figures(ref, codes) -> dict:
    """Full fit of the shipped model, save, load, first and warm queries."""
    timing = {"loadavg_before_fit": [round(x, 2) for x in os.getloadavg()]}
    fresh = UseEmbedder(threads=2)
    t0 = time.perf_counter()
    full = TradeSearcher().fit(ref, fresh)
    timing["fit_full_s"] = round(time.perf_counter() - t0, 1)
    timing["loadavg_after_fit"] = [round(x, 2) for x in os.getloadavg()]
    with tempfile.TemporaryDirectory() as tmp:
        full.save(tmp)
        timing["saved_mb"] = round(sum(p.stat().st_size for p in Path(tmp).iterdir()) / 1e6, 1)
        t0 = time.perf_counter()
        loaded = TradeSearcher.load(tmp, embedder=UseEmbedder(threads=2))
        positions, _ = loaded.search(["je veux travailler avec du pain"], top_k=5)
        timing["load_and_first_query_s"] = round(time.perf_counter() - t0, 2)
        loaded.search(["réparer des scooters"], top_k=10)
        laps = []
        for query in ["réparer des scooters", "boulangère", "je veux m'occuper d'animaux"] * 7:
            t0 = time.perf_counter()
            loaded.search([query], top_k=10)
            laps.append(1000 * (time.perf_counter() - t0))
        timing["warm_query_ms"] = round(float(np.median(laps)), 1)
        timing["pain_first"] = str(codes[positions[0, 0]])
    return timing


def _fmt(stat: dict) -> str:
    return f"{stat['mean']:.3f} ± {stat['std']:.3f} ({stat['min']:.3f}-{stat['max']:.3f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--seeds", default="20,21,22", help="comma-separated seeds of the held-out split"
    )
    parser.add_argument("--seed", type=int, help="a single seed (same as --seeds N)")
    parser.add_argument("--no-timing", action="store_true", help="skip the fit/load timing")
    parser.add_argument("--model", choices=("use", "hashing"), default="use",
                        help="embedder of the searchers fitted per seed (hashing: quick runs)")
    parser.add_argument("--out", type=Path, default=HERE,
                        help="folder of results.json and per_query.csv (default: next to this script)")
    parser.add_argument("--svm-epochs", type=int,
                        help="passes of the SVM solver (default: the searcher's own; 1: quick runs)")
    parser.add_argument(
        "--keep-default-weights",
        action="store_true",
        help="evaluate DEFAULT_WEIGHTS instead of re-choosing them on validation",
    )
    args = parser.parse_args()
    if args.svm_epochs:
        SEARCHER_OPTIONS["svm_epochs"] = args.svm_epochs
    seeds = [args.seed] if args.seed is not None else [int(s) for s in args.seeds.split(",") if s]

    started = time.perf_counter()
    ref = load_referential()
    apps = ref.appellations.reset_index(drop=True)
    codes = ref.codes
    position = {c: i for i, c in enumerate(codes)}
    everyday = pd.read_csv(HERE / "everyday_fr.csv")
    for code in {c for cs in everyday["codes"] for c in cs.split(";")}:
        ref.card(code)  # raises UnknownRomeCode on a typo
    ev_gold = [{position[c] for c in cs.split(";")} for cs in everyday["codes"]]
    tune = (everyday["split"] == "tune").to_numpy()
    use = CachedEmbedder(UseEmbedder(threads=2) if args.model == "use" else HashingEmbedder())

    per_seed, per_query = [], []
    for seed in seeds:
        entry, rows, _ = run_seed(
            seed, ref, apps, codes, position, everyday, ev_gold, tune, use,
            args.keep_default_weights,
        )
        per_seed.append(entry)
        per_query += rows
        print(f"seed {seed} done ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(per_query).to_csv(args.out / "per_query.csv", index=False)
    summary = summarise(per_seed)
    timing = {} if args.no_timing else timing_figures(ref, codes)

    print(
        f"\nHeld-out appellations: {per_seed[0]['n_test_appellations']} queries per seed "
        f"(seeds {', '.join(map(str, seeds))}); everyday: {int((~tune).sum())} test + "
        f"{int(tune.sum())} tune phrasings\n"
    )
    print("Per seed:\n")
    print("| seed | system | R@1 | R@5 | R@10 | MRR | everyday R@5 (test) | everyday R@10 (test) |")
    print("|---|---|---|---|---|---|---|---|")
    for entry in per_seed:
        for name in (HEADLINE, SHIPPED):
            a, e = entry["systems"][name]["appellations"], entry["systems"][name]["everyday_test"]
            print(
                f"| {entry['seed']} | {name} | {a['R@1']:.3f} | {a['R@5']:.3f} | {a['R@10']:.3f} "
                f"| {a['MRR']:.3f} | {e['R@5']:.3f} | {e['R@10']:.3f} |"
            )
    print(f"\nMean ± sample std (min-max) over {len(seeds)} seeds:\n")
    print("| system | R@1 | R@5 | R@10 | MRR | everyday R@5 (test) | everyday R@10 (test) |")
    print("|---|---|---|---|---|---|---|")
    for name, row in summary.items():
        a, e = row["appellations"], row["everyday_test"]
        print(
            f"| {name} | {_fmt(a['R@1'])} | {_fmt(a['R@5'])} | {_fmt(a['R@10'])} "
            f"| {_fmt(a['MRR'])} | {_fmt(e['R@5'])} | {_fmt(e['R@10'])} |"
        )
    for entry in per_seed:
        print(f"\nseed {entry['seed']}: weights {entry['weights']}, everyday misses (not in "
              f"top 5): {len(entry['everyday_misses_top5'])}")
        for miss in entry["everyday_misses_top5"]:
            print(f"  - {miss['query']!r}: first {miss['first']} {miss['label']} "
                  f"(accepted {miss['accepted']})")
    print(f"\ntiming: {timing}")

    searcher = TradeSearcher()
    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/quality/run.py"
        + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "threads": 2,
            "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        },
        "seeds": seeds,
        "n_everyday_test": int((~tune).sum()),
        "n_everyday_tune": int(tune.sum()),
        "fusion": searcher.fusion,
        "rrf_k": searcher.rrf_k,
        "shipped_default_weights": dict(DEFAULT_WEIGHTS),
        "weights": {str(e["seed"]): e["weights"] for e in per_seed},
        "headline_system": HEADLINE,
        "per_seed": per_seed,
        "summary": summary,
        # mean over seeds in the shape of one seed's "systems" (read by the notebook)
        "systems": {
            name: {group: {m: s["mean"] for m, s in figures.items()} for group, figures in row.items()}
            for name, row in summary.items()
        },
        "timing": timing,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    (args.out / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
