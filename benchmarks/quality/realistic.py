"""Acceptance check of issue #12 on realistic Metz-area profiles: accessible, plausible trades.

Usage (from the repository root, the data home of ``PASSERELLE_HOME`` or ``--home``)::

    python -m benchmarks.quality.realistic [--home DIR] [--label after] [--top-k 10]

For each profile of ``realistic_profiles.jsonl`` (22 hand-written profiles: ages 16 to 25,
genders F, M, X and not stated, diplomas none to level 5 and two at 6+, thin ones such as
"je sais pas") it builds the ``passerelle suggest --json`` document (``suggestions_for``, the
function behind the command) under ``balanced`` and ``counter_stereotype`` at ``--top-k 10``
and counts:

- ``cadre_unwished``: graduate-level (``cadre``) trades suggested to a youth below level 6 who
  did not wish them (wished: a ROME code of the wishes, or a card whose label or an
  appellation contains a wished text). Must be 0.
- ``outside_top50``: suggested trades outside the relevance-only top 50 of the same profile
  (``--mix off --max-per-domain 0 --diversity 0 --top-k 50``); profiles whose
  ``notes.trades`` holds ``thin_profile`` are exempt. Must be 0.
- ``minor_night_or_driving``: night-work or driving trades (card flag ``night_work`` outside the
  sectors of the minors' derogation, Code du travail R3163-1: bakery, hotels, restaurants,
  entertainment; domain N41) suggested to a youth under 18 who did not wish them (reported).
- ``mixite_wrong_band``: trades labelled "pour la mixité" whose share of women is not low (F:
  share >= 40 %) or not high (M: share <= 60 %) for the youth's gender (reported).

Prints the counts and writes them under ``--label`` in ``realistic_results.json`` beside this
script (the other labels kept), with the violations listed. Exits 1 when a must-be-0 count is not.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROFILES = HERE / "realistic_profiles.jsonl"
RESULTS = HERE / "realistic_results.json"
POLICIES = ("balanced", "counter_stereotype")
MUST_BE_ZERO = ("cadre_unwished", "outside_top50")
DEROGATIONS = ("D11", "G15", "G16", "G17", "G18", "L1")


def load_profiles(path: Path = PROFILES) -> list[dict]:
    """The profiles of a JSON-lines file (one profile dict a line)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _plain(text: str) -> str:
    text = unicodedata.normalize("NFKD", str(text).lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def wished_codes(referential, wishes) -> set[str]:
    """Cards a youth wished: ROME codes given, or cards whose label or an appellation contains
    a wished text (accents and case ignored). Independent of the engine's own matcher."""
    codes = {w.upper() for w in wishes if referential.has_card(str(w).upper())}
    texts = [_plain(w) for w in wishes if not referential.has_card(str(w).upper())]
    if texts:
        apps = referential.appellations
        labels = [(str(c), _plain(label)) for c, label in zip(apps["code_rome"], apps["label"], strict=True)]
        labels += [(str(c), _plain(label)) for c, label in referential.cards["label"].items()]
        codes |= {code for code, label in labels for text in texts if text and text in label}
    return codes


def _level(diploma) -> int:
    return int(diploma) if diploma and str(diploma).isdigit() else 0


def check_profile(engine, referential, data: dict, top_k: int = 10) -> dict[str, list]:
    """The violations of one profile, by count name: ``[(policy, code, label), ...]``."""
    from matching.fairness.policies import TradeMix
    from matching.profiles import parse_youth
    from service.output import suggestions_for

    youth, _ = parse_youth(dict(data), referential)
    wished = wished_codes(referential, youth.wished_trades)
    cards = referential.cards
    relevance = suggestions_for(engine, youth, 50, TradeMix(policy="off", max_per_domain=0, diversity=0.0))
    top50 = {t["code_rome"] for t in relevance["trades"]}
    found: dict[str, list] = {"cadre_unwished": [], "outside_top50": [], "minor_night_or_driving": [],
                              "mixite_wrong_band": [], "thin": []}
    for policy in POLICIES:
        document = suggestions_for(engine, youth, top_k, TradeMix(policy=policy))
        thin = "thin_profile" in document["notes"]["trades"]
        if thin:
            found["thin"].append((policy, "", ""))
        for trade in document["trades"]:
            code, label = trade["code_rome"], trade["label"]
            hit = (policy, code, label)
            if bool(cards.at[code, "cadre"]) and _level(youth.diploma_level) < 6 and code not in wished:
                found["cadre_unwished"].append(hit)
            if not thin and code not in top50:
                found["outside_top50"].append(hit)
            minor = youth.age is not None and youth.age < 18 and code not in wished
            domain = str(cards.at[code, "code_domaine"])
            night = bool(cards["night_work"].get(code, False)) if "night_work" in cards else False
            risky = (night and not domain.startswith(DEROGATIONS)) or domain == "N41"
            if minor and risky:
                found["minor_night_or_driving"].append(hit)
            share = trade["share_women"]
            if trade.get("moved_by") == "mixite" and share is not None and (
                    (youth.gender == "F" and share >= 0.40) or (youth.gender == "M" and share <= 0.60)):
                found["mixite_wrong_band"].append(hit)
    return found


def run(engine, referential, profiles: list[dict], top_k: int = 10) -> dict:
    """Counts over every profile and the violations of each (``{id: {count name: [...]}}``)."""
    counts: dict[str, int] = {}
    details: dict[str, dict] = {}
    suggested = 0
    for data in profiles:
        found = check_profile(engine, referential, data, top_k)
        suggested += top_k * len(POLICIES)
        for name, hits in found.items():
            counts[name] = counts.get(name, 0) + len(hits)
        details[str(data.get("id"))] = {name: hits for name, hits in found.items() if hits}
    counts["profiles"], counts["trades_suggested_at_most"] = len(profiles), suggested
    return {"counts": counts, "violations": details}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="data home (default: PASSERELLE_HOME)")
    parser.add_argument("--label", default="after", help="key of this run in the results file")
    parser.add_argument("--top-k", type=int, default=10)
    args = parser.parse_args(argv)
    from service.config import Settings
    from service.workspace import Workspace

    settings = Settings(home=args.home) if args.home else Settings()
    workspace = Workspace(settings)
    engine = workspace.engine()
    result = run(engine, workspace.referential(), load_profiles(), args.top_k)
    stored = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    stored[args.label] = result
    RESULTS.write_text(json.dumps(stored, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for name, value in result["counts"].items():
        print(f"{name:>26}: {value}")
    return 1 if any(result["counts"].get(name, 0) for name in MUST_BE_ZERO) else 0


if __name__ == "__main__":
    sys.exit(main())
