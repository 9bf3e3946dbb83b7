"""The demo job: suggestions for three sample youths and a shortlist for one vacancy."""

from __future__ import annotations

from service import output

SAMPLE_YOUTHS = 3


def sample_rows(engine) -> list[int]:
    """Pick three Metz youths with different genders when possible (deterministic)."""
    youths = engine.youths.youths
    chosen, seen = [], set()
    for row, youth in enumerate(youths):
        if youth.mission_locale == "ML-METZ" and youth.gender_group not in seen and youth.wished_trades:
            chosen.append(row)
            seen.add(youth.gender_group)
        if len(chosen) == SAMPLE_YOUTHS:
            break
    return chosen or list(range(min(SAMPLE_YOUTHS, len(youths))))


def run_demo(engine, *, key: bytes, top_k: int = 5) -> dict:
    """Return the demo document (JSON-ready); ``key`` signs the shortlist's candidate refs."""
    rows = sample_rows(engine)
    youths = [engine.youths.youths[row] for row in rows]
    trades = engine.suggest_trades(youths, top_k)
    vacancies = engine.suggest_vacancies(youths, top_k)
    samples = []
    for youth, t, v in zip(youths, trades, vacancies, strict=False):
        samples.append({
            "youth": {"id": youth.id, "age": youth.age, "commune": youth.location.name,
                      "gender": youth.gender, "wished_trades": list(youth.wished_trades)},
            "suggestions": output.suggest_document(t, v, synthetic=True),
        })
    vacancy_id = vacancies[0].items[0].vacancy_id if vacancies and vacancies[0].items else engine.vacancies.vacancies[0].id
    shortlist = engine.find_candidates([vacancy_id], 10)[0]
    return {"synthetic": True, "youths": samples,
            "candidates": output.candidates_document(engine, vacancy_id, shortlist, key=key)}
