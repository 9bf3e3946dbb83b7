"""Real job offers -> ROME 4.0: ``trades infer`` against a TF-IDF baseline and the domain's mode.

Usage (from the repository root, with a fitted data home)::

    python -m benchmarks.quality.offers [--offers-dir ../shared/data/offres_ft_dev] [--seed 12]

Reads the France Travail offers (``*.jsonl.gz``: ``intitule``, ``description``, ``romeCode``) of
``--offers-dir`` (never copied into the repository) and scores, on the same offers:

- ``infer``: :func:`matching.search.titles.infer_rome` with title and description (what
  ``passerelle trades infer`` and ``POST /v1/vacancies`` answer), shipped settings;
- ``infer_title``: the same, title only;
- ``tfidf``: the baseline, nearest appellation by char n-gram TF-IDF (``char_wb`` 2-5, sublinear
  tf, fitted on the appellation labels and short labels, normalised as the engine does) of the
  raw title; the card ranking is each card's best appellation; ``tfidf_clean``: the same on the
  cleaned title (what cleaning alone gives);
- ``hybrid``: the trade search for youths (:meth:`TradeSearcher.search`) on the raw title;
- ``mode``: the domain's most common code, one answer (so R@5 = R@1); ``mode5``: its five most
  common codes; both counted on the offers evaluated, so optimistic references.

Recall@1 and @5 per domain (file), pooled, and averaged over ROME codes (each code's recall,
then the mean over codes), plus one row per code. The settings were chosen on these offers, so
their figures are optimistic; ``honest`` estimates the gap by a 2-fold split (stratified by code,
``--seed``): the global settings are chosen by grid on one half (pooled R@1 + R@5) and reported
on the other. ``gold_current_referential`` (diagnostic): the same recalls when an offer whose own
appellation has since moved to a card split out of its code is read with that card
(:func:`current_gold`). Writes ``offers_results.json`` next to this script and prints a Markdown report.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import os
import platform
import subprocess
import time
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from matching.search.lexical import normalize_fr
from matching.search.title_clean import clean_title
from matching.search.titles import (
    DEFAULT_SETTINGS,
    InferSettings,
    card_parents,
    combine_scores,
    description_domains,
    title_parts,
)
from matching.search.trade_scores import GroupMax

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_OFFERS = ROOT.parent / "shared" / "data" / "offres_ft_dev"
OUT = Path(__file__).with_name("offers_results.json")
GRID = {
    "sem": (0.5, 1.0, 2.0),
    "svm": (0.0, 0.1, 0.2),
    "domain": (0.0, 0.05, 0.1, 0.2),
    "sibling": (0.0, 0.5, 0.6, 0.7),
}


def read_offers(directory: Path) -> list[dict]:
    """Every offer of the ``*.jsonl.gz`` files, with ``domain`` (the file's last name part)."""
    offers = []
    for path in sorted(directory.glob("*.jsonl.gz")):
        domain = path.name.removesuffix(".jsonl.gz").split("_")[-1]
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            offers += [{**json.loads(line), "domain": domain} for line in lines if line.strip()]
    if not offers:
        raise SystemExit(f"no *.jsonl.gz offers in {directory}")
    return offers


def tfidf_baseline(referential, codes: np.ndarray, titles: list[str]) -> np.ndarray:
    """Card scores ``(n, n_cards)``: best appellation by char n-gram TF-IDF cosine to the title."""
    apps = referential.appellations
    texts = apps["label"].tolist() + apps["label_short"].fillna(apps["label"]).tolist()
    cards = np.asarray(np.searchsorted(codes, np.r_[apps["code_rome"], apps["code_rome"]]), dtype=np.int64)
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                                 preprocessor=normalize_fr)
    matrix = vectorizer.fit_transform(texts)
    sims_t = np.ascontiguousarray((matrix @ vectorizer.transform(titles).T).toarray(), dtype=np.float32)
    out = np.empty((len(titles), len(codes)), dtype=np.float32)
    GroupMax(np.arange(len(cards)), cards, len(codes)).reduce(sims_t, out)
    return out


def mode_ranking(gold: np.ndarray, domains: np.ndarray, n_cards: int, answers: int = 1) -> np.ndarray:
    """Scores ``(n, n_cards)``: the domain's ``answers`` most common codes among the offers (by
    count), every other code ``-inf`` (absent from the answer)."""
    scores = np.full((len(gold), n_cards), -np.inf, dtype=np.float32)
    for domain in np.unique(domains):
        rows = np.flatnonzero(domains == domain)
        counts = np.bincount(gold[rows], minlength=n_cards)
        best = np.argsort(-counts, kind="stable")[:answers]
        scores[np.ix_(rows, best)] = counts[best].astype(np.float32)
    return scores


def recalls(scores: np.ndarray, gold: np.ndarray, domains: np.ndarray, rows=None) -> dict:
    """R@1, R@5 per domain, pooled, and averaged per code over ``rows`` (default: all)."""
    rows = np.ones(len(gold), bool) if rows is None else rows
    top = np.argsort(-scores, axis=1, kind="stable")[:, :5]
    hits = (top == gold[:, None]) & np.isfinite(np.take_along_axis(scores, top, axis=1))
    hit1, hit5 = hits[:, 0], hits.any(axis=1)

    def pair(mask):
        return {"n": int(mask.sum()), "r1": float(hit1[mask].mean()), "r5": float(hit5[mask].mean())}

    out = {str(d): pair(rows & (domains == d)) for d in np.unique(domains[rows])}
    out["pooled"] = pair(rows)
    per_code = [pair(rows & (gold == code)) for code in np.unique(gold[rows])]
    out["per_code_mean"] = {"n": len(per_code), "r1": float(np.mean([p["r1"] for p in per_code])),
                            "r5": float(np.mean([p["r5"] for p in per_code]))}
    return out


def choose_settings(parts, domains_desc, parents, gold, domains, rows) -> InferSettings:
    """The grid's settings maximising pooled R@1 + R@5 on ``rows``; ties: the first (grid order)."""
    best, best_value = DEFAULT_SETTINGS, -1.0
    for values in itertools.product(*GRID.values()):
        sem, svm, domain, sibling = values
        settings = replace(DEFAULT_SETTINGS, sem=sem, svm=svm, domain=domain, sibling=sibling)
        sub = {k: v[rows] for k, v in parts.items()}
        scores = combine_scores(sub, domains_desc[rows], parents, settings)
        pooled = recalls(scores, gold[rows], domains[rows])["pooled"]
        if pooled["r1"] + pooled["r5"] > best_value:
            best, best_value = settings, pooled["r1"] + pooled["r5"]
    return best


def halves(gold: np.ndarray, seed: int) -> np.ndarray:
    """A boolean mask of half the offers, stratified by code (seeded)."""
    rng = np.random.default_rng(seed)
    first = np.zeros(len(gold), bool)
    for code in np.unique(gold):
        rows = rng.permutation(np.flatnonzero(gold == code))
        first[rows[: (len(rows) + rng.integers(0, 2)) // 2]] = True
    return first


def honest_estimate(parts, domains_desc, parents, gold, domains, seed: int) -> dict:
    """2-fold: settings chosen on one half, recalls of the other half, both ways."""
    first = halves(gold, seed)
    folds = []
    for tune in (first, ~first):
        settings = choose_settings(parts, domains_desc, parents, gold, domains, tune)
        scores = combine_scores(parts, domains_desc, parents, settings)
        shipped = combine_scores(parts, domains_desc, parents, DEFAULT_SETTINGS)
        folds.append({"chosen": asdict(settings),
                      "report_chosen": recalls(scores, gold, domains, ~tune),
                      "report_shipped": recalls(shipped, gold, domains, ~tune)})
    return {"seed": seed, "folds": folds}


def split_card_agreement(scores: np.ndarray, gold: np.ndarray, parents: np.ndarray, codes) -> dict:
    """Diagnostic only (never used to choose anything): R@1 if a first card split out of the gold
    card (its ROME v3 parent is the gold code) counted as the gold card, the labelling of offers
    coded before the split. Measures how much of the R@1 gap is the referential's version."""
    first = np.argsort(-scores, axis=1, kind="stable")[:, 0]
    exact = first == gold
    split = ~exact & (parents[first] == np.asarray(codes)[gold])
    return {"r1_exact": float(exact.mean()), "r1_counting_split_cards": float((exact | split).mean()),
            "n_split_card_answers": int(split.sum())}


def current_gold(offers: list[dict], referential, codes: np.ndarray, parents: np.ndarray,
                 gold: np.ndarray) -> tuple[np.ndarray, dict]:
    """Evaluation only: each offer's gold card in the shipped referential. An offer whose own
    appellation (``appellationlibelle``, as France Travail coded it) now belongs to a card split
    out of its ``romeCode`` (the card's ROME v3 parent is that code) that no offer is coded with
    (a card the coders' version did not have) gets that card; every other offer keeps its code.
    The offers were coded in 2024 under an older ROME 4.0 version; this reads the same coding
    under the version the engine ships, and changes nothing the engine does. Returns the
    remapped gold and the count of moves per ``"old -> new"``."""
    apps = referential.appellations
    cards_of: dict[str, set[str]] = {}
    for label, code in zip(apps["label"].str.strip().str.lower(), apps["code_rome"], strict=True):
        cards_of.setdefault(label, set()).add(str(code))
    position = {str(code): i for i, code in enumerate(codes)}
    coded = {str(offer.get("romeCode")) for offer in offers}
    out, moves = gold.copy(), {}
    for row, offer in enumerate(offers):
        found = cards_of.get(str(offer.get("appellationlibelle") or "").strip().lower(), set())
        old = str(codes[gold[row]])
        if len(found) == 1 and (new := next(iter(found))) != old and new in position \
                and parents[position[new]] == old and new not in coded:
            out[row] = position[new]
            moves[f"{old} -> {new}"] = moves.get(f"{old} -> {new}", 0) + 1
    return out, dict(sorted(moves.items(), key=lambda item: -item[1]))


def per_code_table(systems: dict, gold, domains, codes, labels) -> list[dict]:
    rows = []
    for code in np.unique(gold):
        mask = gold == code
        row = {"code_rome": str(codes[code]), "label": str(labels[code]),
               "domain": str(domains[mask][0]), "n": int(mask.sum())}
        for name, scores in systems.items():
            top = np.argsort(-scores[mask], axis=1, kind="stable")[:, :5]
            hits = (top == code) & np.isfinite(np.take_along_axis(scores[mask], top, axis=1))
            row[name] = [round(float(hits[:, 0].mean()), 3), round(float(hits.any(axis=1).mean()), 3)]
        rows.append(row)
    return rows


def current_referential_recalls(systems: dict, offers, referential, codes, parents, gold, domains) -> dict:
    """Every system's recalls against :func:`current_gold` (diagnostic, evaluation only)."""
    remapped, moves = current_gold(offers, referential, codes, parents, gold)
    return {"n_moved": int((remapped != gold).sum()), "moves": moves,
            "systems": {name: recalls(scores, remapped, domains) for name, scores in systems.items()}}


def markdown(result: dict) -> str:
    lines = ["| system | " + " | ".join(f"{d} R@1 / R@5" for d in result["domains"])
             + " | pooled R@1 / R@5 | per-code mean R@1 / R@5 |", "|---" * (len(result["domains"]) + 3) + "|"]
    for name, rec in result["systems"].items():
        cells = [f"{rec[d]['r1']:.3f} / {rec[d]['r5']:.3f}" for d in [*result["domains"], "pooled", "per_code_mean"]]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "| code | label | domain | n | " + " | ".join(result["systems"]) + " |",
              "|---" * (len(result["systems"]) + 4) + "|"]
    for row in result["per_code"]:
        cells = [f"{row[n][0]:.2f} / {row[n][1]:.2f}" for n in result["systems"]]
        lines.append(f"| {row['code_rome']} | {row['label']} | {row['domain']} | {row['n']} | " + " | ".join(cells) + " |")
    diagnostic = result["diagnostic_split_cards"]
    lines += ["", f"- diagnostic: infer R@1 {diagnostic['r1_exact']:.3f}; counting a first card split out of "
              f"the gold card as the gold card: {diagnostic['r1_counting_split_cards']:.3f} "
              f"({diagnostic['n_split_card_answers']} offers)"]
    current = result["gold_current_referential"]
    lines.append(f"- gold read in the shipped referential ({current['n_moved']} offers whose own appellation "
                 f"is now in a card split out of their code: {current['moves']}), pooled R@1 / R@5 / "
                 "per-code mean R@1: " + "; ".join(
                     f"{name} {rec['pooled']['r1']:.3f} / {rec['pooled']['r5']:.3f} / {rec['per_code_mean']['r1']:.3f}"
                     for name, rec in current["systems"].items()))
    for number, fold in enumerate(result["honest"]["folds"], 1):
        chosen, shipped = fold["report_chosen"], fold["report_shipped"]
        lines.append(f"- fold {number}: chosen {fold['chosen']} -> other half pooled R@1 "
                     f"{chosen['pooled']['r1']:.3f}, R@5 {chosen['pooled']['r5']:.3f}, per-code "
                     f"{chosen['per_code_mean']['r1']:.3f} / {chosen['per_code_mean']['r5']:.3f} "
                     f"(shipped settings on that half: {shipped['pooled']['r1']:.3f} / "
                     f"{shipped['pooled']['r5']:.3f})")
    return "\n".join(lines)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers-dir", type=Path, default=DEFAULT_OFFERS)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    from service.config import get_settings
    from service.workspace import Workspace

    started = time.time()
    offers = read_offers(args.offers_dir)
    workspace = Workspace(get_settings())
    referential = workspace.referential()
    from matching.search.embeddings import make_embedder

    searcher = workspace.trade_searcher(referential, make_embedder(workspace.settings.model))
    codes = searcher.codes_
    known = np.array([o.get("romeCode") in set(codes) for o in offers])
    offers = [o for o, keep in zip(offers, known, strict=True) if keep]
    gold = np.searchsorted(codes, [o["romeCode"] for o in offers])
    domains = np.array([o["domain"] for o in offers])
    titles = [str(o.get("intitule") or "") for o in offers]
    descriptions = [o.get("description") for o in offers]
    parents = card_parents(referential, codes)
    all_weights = replace(DEFAULT_SETTINGS, lex=1.0, sem=1.0, svm=1.0)
    parts = title_parts(searcher, titles, all_weights)
    desc_domains = description_domains(searcher, descriptions, DEFAULT_SETTINGS)
    systems = {
        "infer": combine_scores(parts, desc_domains, parents, DEFAULT_SETTINGS),
        "infer_title": combine_scores(parts, None, parents, DEFAULT_SETTINGS),
        "tfidf": tfidf_baseline(referential, codes, titles),
        "tfidf_clean": tfidf_baseline(referential, codes, [clean_title(t) or t for t in titles]),
        "hybrid": searcher.score(titles),
        "mode": mode_ranking(gold, domains, len(codes)),
        "mode5": mode_ranking(gold, domains, len(codes), answers=5),
    }
    labels = referential.cards["label"].reindex(codes).to_numpy()
    result = {
        "command": "python -m benchmarks.quality.offers",
        "offers_dir": os.path.relpath(args.offers_dir, ROOT), "n_offers": len(offers), "dropped_unknown_codes": int((~known).sum()),
        "settings": asdict(DEFAULT_SETTINGS), "grid": GRID, "domains": [str(d) for d in np.unique(domains)],
        "systems": {name: recalls(scores, gold, domains) for name, scores in systems.items()},
        "per_code": per_code_table(systems, gold, domains, codes, labels),
        "honest": honest_estimate(parts, desc_domains, parents, gold, domains, args.seed),
        "diagnostic_split_cards": split_card_agreement(systems["infer"], gold, parents, codes),
        "gold_current_referential": current_referential_recalls(systems, offers, referential, codes, parents,
                                                                gold, domains),
        "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                 cwd=ROOT).stdout.strip(),
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": platform.platform(),
        "cpus": os.cpu_count(), "load_average": [round(v, 2) for v in os.getloadavg()],
        "seconds": round(time.time() - started, 1),
    }
    args.out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(markdown(result))
    return result


if __name__ == "__main__":
    main()
