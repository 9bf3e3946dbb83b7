"""Word-sense development set: reasons cite a skill only in the youth's sense, negations lower.

Usage (from the repository root, a data home with a fitted model)::

    python benchmarks/quality/word_sense.py [--home PATH]

``word_sense.csv`` has one case a row: ``text`` (what a youth wrote, given as their interests),
``code_rome``, ``skill`` (a skill label of that card, empty for a trade case), ``expected`` and
``why``. ``cited`` / ``not_cited``: whether the reasons may name the skill for that text
(:meth:`ItemBuilder.cited_skills`, no limit on the number cited); ``stems`` says whether word
stems alone find it, so the semantic check's part shows. ``lowered``: the card ranks worse with the
negation handled than with the text scored whole, as before (``matching.search.negation``), and
outside the top 20. Prints one line a case and the share of cases as expected; exits 1 when one
is not. The tests (``tests/test_word_sense.py``) run the same set.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from matching.profiles import parse_youth  # noqa: E402
from matching.recommend import ranking  # noqa: E402

HERE = Path(__file__).resolve().parent
LOWERED_OUTSIDE = 20
"""A lowered card ends outside this many of the youth's best cards."""


def load_cases(path: Path = HERE / "word_sense.csv") -> pd.DataFrame:
    """The development set, ``skill`` as "" for trade cases."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def youth_of(engine, text: str):
    """A youth of Metz whose interests are ``text``."""
    youth, _ = parse_youth({"postcode": "57000", "interests": text}, engine.referential)
    return youth


def skill_case(engine, text: str, code: str, skill: str) -> tuple[str, bool]:
    """``("cited" | "not_cited", found by stems alone)`` for one skill case."""
    items = engine._items
    if skill not in items.card_skills().get(code, []):
        raise LookupError(f"{code} has no skill {skill!r}: fix word_sense.csv")
    known = items.youth_query(youth_of(engine, text))
    by_stems = skill in items.skill_index(code).best(known.stems, 1000)
    cited = skill in items.cited_skills(code, known.stems, known.texts, 1000)
    return ("cited" if cited else "not_cited"), by_stems


def trade_case(engine, text: str, code: str) -> tuple[str, int, int]:
    """``("lowered" | "not_lowered", rank before, rank now)`` (1-based) for one negation case."""
    position = int(np.searchsorted(engine.codes, code))
    now = engine.trade_scores([youth_of(engine, text)])[0]
    before = ranking.rescale(engine.trade_searcher.score([text]))[0]
    rank_now = int((now > now[position]).sum()) + 1
    rank_before = int((before > before[position]).sum()) + 1
    lowered = rank_now > rank_before and rank_now > LOWERED_OUTSIDE
    return ("lowered" if lowered else "not_lowered"), rank_before, rank_now


def evaluate(engine, cases: pd.DataFrame) -> pd.DataFrame:
    """``cases`` with ``got``, ``detail`` and ``ok`` columns."""
    got, detail = [], []
    for case in cases.itertuples(index=False):
        if case.skill:
            answer, by_stems = skill_case(engine, case.text, case.code_rome, case.skill)
            got.append(answer)
            detail.append(f"stems {'yes' if by_stems else 'no'}")
        else:
            answer, before, now = trade_case(engine, case.text, case.code_rome)
            got.append(answer)
            detail.append(f"rank {before} -> {now}")
    result = cases.assign(got=got, detail=detail)
    return result.assign(ok=result["got"] == result["expected"])


def main() -> None:
    from service.config import Settings
    from service.workspace import Workspace

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=None, help="data home (default: PASSERELLE_HOME)")
    args = parser.parse_args()
    settings = Settings(home=args.home, model="use") if args.home else Settings()
    engine = Workspace(settings).engine()
    result = evaluate(engine, load_cases())
    for row in result.itertuples(index=False):
        mark = "ok  " if row.ok else "MISS"
        print(f"{mark} {row.expected:<10} {row.got:<11} {row.detail:<16} {row.code_rome} "
              f"{row.skill[:45]!r:<48} {row.text}")
    for kind, part in result.groupby(result["skill"] == ""):
        name = "negation (lowered)" if kind else "skills (cited / not cited)"
        print(f"{name}: {int(part['ok'].sum())}/{len(part)} as expected")
    sys.exit(0 if result["ok"].all() else 1)


if __name__ == "__main__":
    main()
