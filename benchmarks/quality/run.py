"""Trade-search quality benchmark: held-out appellations and everyday French phrasings.

Usage (from the repository root)::

    python benchmarks/quality/run.py [--seed 20] [--no-timing]

1. Appellations: a seeded 20 % of the ROME appellations is held out (kept out of every trade
   document and out of the supervised training); each held-out label is a query whose answer
   is its card. A further 10 % (validation) is held out to choose the fusion weights, which are
   never chosen on the test split. The held-out protocol also drops every other text of the
   referential whose normalised form equals a held-out label (a duplicate appellation, the other
   gender form, a short or card label): see ``TradeSearcher.fit``.
2. Everyday wording: ``everyday_fr.csv`` (query, acceptable codes, split). Rows marked ``tune``
   (a third) may be used to choose weights; ``test`` rows are reported and never tuned on.

Prints a markdown table and writes ``results.json`` and ``per_query.csv`` (one row per test
query: kind, text, gold codes, grand domaine of the first gold code, rank of the first gold code
for the default hybrid (1-based, 0 when not in the top 10), its top-1 code and label) next to
this script.
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


def write_per_query(
    ref, codes, searcher, parts_test, queries, test, apps, parts_ev, everyday, tune
):
    """Write ``per_query.csv``: the default hybrid's answer to every test query."""
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
    pd.DataFrame(rows).to_csv(HERE / "per_query.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--no-timing", action="store_true", help="skip the fit/load timing")
    parser.add_argument("--dump", type=Path, help="also save the component scores (.npz) here")
    parser.add_argument(
        "--keep-default-weights",
        action="store_true",
        help="evaluate DEFAULT_WEIGHTS instead of re-choosing them on validation",
    )
    args = parser.parse_args()

    started = time.perf_counter()
    ref = load_referential()
    apps = ref.appellations.reset_index(drop=True)
    codes = ref.codes
    position = {c: i for i, c in enumerate(codes)}
    test, val = split_appellations(apps, args.seed)
    everyday = pd.read_csv(HERE / "everyday_fr.csv")
    for code in {c for cs in everyday["codes"] for c in cs.split(";")}:
        ref.card(code)  # raises UnknownRomeCode on a typo
    ev_gold = [{position[c] for c in cs.split(";")} for cs in everyday["codes"]]
    tune = (everyday["split"] == "tune").to_numpy()
    use = CachedEmbedder(UseEmbedder(threads=2))

    # 1. validation: fit without test and validation appellations, choose weights
    weights = z_weights = dict(DEFAULT_WEIGHTS)
    if not args.keep_default_weights:
        held = apps["code_ogr"].to_numpy()[np.r_[test, val]]
        searcher = TradeSearcher().fit(ref, use, exclude_appellations=held)
        parts_val = searcher.components(apps["label"].to_numpy()[val].tolist())
        parts_tune = searcher.components(everyday["query"][tune].tolist())
        gold_val = [{position[c]} for c in apps["code_rome"].to_numpy()[val]]
        gold_tune = [g for g, t in zip(ev_gold, tune, strict=True) if t]
        weights, objective = choose_weights(
            parts_val, gold_val, parts_tune, gold_tune, normalise=searcher.normalise
        )
        print(f"chosen weights {weights} (objective {objective:.4f})", file=sys.stderr)
        z_weights, z_objective = choose_weights(parts_val, gold_val, parts_tune, gold_tune)
        print(f"z-score fusion: {z_weights} (objective {z_objective:.4f})", file=sys.stderr)

    # 2. test: fit without the test appellations, with the chosen weights
    searcher = TradeSearcher(weights=weights).fit(
        ref, use, exclude_appellations=apps["code_ogr"].to_numpy()[test]
    )
    queries = apps["label"].to_numpy()[test].tolist()
    gold_test = [{position[c]} for c in apps["code_rome"].to_numpy()[test]]
    parts_test = searcher.components(queries)
    parts_ev = searcher.components(everyday["query"].tolist())

    if args.dump:
        np.savez(
            args.dump,
            **{f"test_{k}": v for k, v in parts_test.items()},
            **{f"ev_{k}": v for k, v in parts_ev.items()},
        )
    hashing = HashingEmbedder()
    groups = _grouping(searcher.app_cards_)
    app_hash = hashing.encode_documents(searcher.app_labels_.tolist())

    def hashing_scores(texts):
        return max_per_group(hashing.encode_queries(texts) @ app_hash.T, *groups, len(codes))

    systems = {
        "hybrid (default)": lambda parts, texts: searcher.fuse(parts),
        "hybrid, z-score fusion": lambda parts, texts: sum(
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

    write_per_query(ref, codes, searcher, parts_test, queries, test, apps, parts_ev, everyday, tune)

    timing = {}
    if not args.no_timing:
        timing["loadavg_before_fit"] = [round(x, 2) for x in os.getloadavg()]
        fresh = UseEmbedder(threads=2)
        t0 = time.perf_counter()
        full = TradeSearcher(weights=weights).fit(ref, fresh)
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

    print(
        f"\nHeld-out appellations: {len(test)} queries (seed {args.seed}); everyday: "
        f"{int((~tune).sum())} test + {int(tune.sum())} tune phrasings\n"
    )
    print("| system | R@1 | R@5 | R@10 | MRR | everyday R@5 (test) | everyday R@10 (test) |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        a, e = row["appellations"], row["everyday_test"]
        print(
            f"| {name} | {a['R@1']:.3f} | {a['R@5']:.3f} | {a['R@10']:.3f} | {a['MRR']:.3f} "
            f"| {e['R@5']:.3f} | {e['R@10']:.3f} |"
        )
    print(f"\nweights: {weights}\ntiming: {timing}\neveryday misses (not in top 5): {len(misses)}")
    for miss in misses:
        print(
            f"  - {miss['query']!r}: first {miss['first']} {miss['label']} (accepted {miss['accepted']})"
        )

    results = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": "python benchmarks/quality/run.py"
        + (" " + " ".join(sys.argv[1:]) if sys.argv[1:] else ""),
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            "threads": 2,
        },
        "seed": args.seed,
        "n_test_appellations": int(len(test)),
        "n_val_appellations": int(len(val)),
        "n_everyday_test": int((~tune).sum()),
        "n_everyday_tune": int(tune.sum()),
        "weights": weights,
        "fusion": searcher.fusion,
        "rrf_k": searcher.rrf_k,
        "z_score_fusion_weights": z_weights,
        "systems": rows,
        "timing": timing,
        "everyday_misses_top5": misses,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    (HERE / "results.json").write_text(
        json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8"
    )


if __name__ == "__main__":
    main()
