"""``passerelle batch score --write-back``: a run's youth lists become suggestion records.

Reads the run's Parquet file, maps pseudonymised query ids back to the store's youth ids (the
same keyed hash, computed over the stored ids), and records each youth's trades and vacancies
with the run's policy and engine version, in one transaction with one audit line for the run
(role ``cli``, action ``batch_write_back``). Each youth's lists are logged like a served list
(issue #15): one list id per youth and kind, the vacancies' features as the run computed them
(``features`` column), trades with their fused score. Vacancy runs (shortlists) are not suggestions to a
youth: nothing is written for them, and the notice says so.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from matching.batch.score import pseudonymise
from service.api.suggestions import ATYPICAL_BAND
from service.store import crud
from service.store.columns import utcnow
from service.store.models import Employer, Vacancy, Youth


def write_back(results: Path, *, what: str, summary: dict[str, Any]) -> int:
    """Record the suggestions of a youth run; return how many records were written."""
    from service.cli.common import notice, workspace
    from service.pseudonym import pseudonym_key

    if what != "youths":
        notice("passerelle: --write-back : les listes de candidats ne sont pas enregistrées "
               "comme suggestions (seules les listes des jeunes le sont)")
        return 0
    table = pq.read_table(results)
    meta = json.loads((table.schema.metadata or {}).get(b"passerelle", b"{}"))
    ws = workspace()
    referential = ws.referential()
    key = pseudonym_key(ws.settings) if meta.get("pseudonymised", True) else None
    rows = table.to_pylist()
    _, sessions, _ = ws.store()
    written = 0
    with sessions.begin() as session:
        youths = {pseudonymise(row.id, key) if key else row.id: row
                  for row in session.scalars(select(Youth))}
        vacancy_ids = {r["item_id"] for r in rows if r["item_kind"] == "vacancy"}
        vacancies = {vacancy.id: (vacancy, employer) for vacancy, employer in session.execute(
            select(Vacancy, Employer).join(Employer, Vacancy.employer_siret == Employer.siret)
            .where(Vacancy.id.in_(vacancy_ids)))} if vacancy_ids else {}
        by_youth: dict[str, list[dict[str, Any] | None]] = {}
        for row in sorted(rows, key=lambda r: (r["query_id"], r["item_kind"] != "trade", r["rank"])):
            youth = youths.get(row["query_id"])
            if youth is None:
                continue  # erased since the run
            by_youth.setdefault(youth.id, []).append(_item(row, youth, vacancies, referential))
        version = meta.get("engine_version", "passerelle batch")
        moment = utcnow()
        stored = {youth.id: youth for youth in youths.values()}
        for youth_id, items in by_youth.items():
            kept = [item for item in items if item is not None]
            crud.add_suggestions(session, stored[youth_id], kept, policy=meta.get("policy", {}),
                                 engine_version=f"{version}; batch", created_at=moment)
            written += len(kept)
        crud.audit(session, None, "batch_write_back", "batch_run", Path(results).name[:64])
    notice(f"passerelle: {written} suggestions enregistrées pour {len(by_youth)} jeunes")
    return written


def _item(row: dict[str, Any], youth: Youth, vacancies: dict, referential) -> dict[str, Any] | None:
    atypical = ATYPICAL_BAND.get(youth.gender or "")
    if row["item_kind"] == "trade":
        band = referential.band(referential.cards.at[row["item_id"], "share_women"])
        return {"item_kind": "trade", "item_id": row["item_id"], "score": row["score"],
                "non_traditional": None if atypical is None else band == atypical,
                "features": {"trade": float(row["score"])}}
    if row["item_id"] not in vacancies:
        return None  # the vacancy was deleted since the run
    vacancy, employer = vacancies[row["item_id"]]
    non_traditional = None
    if atypical is not None:
        band = referential.band(referential.cards.at[vacancy.code_rome, "share_women"])
        non_traditional = band == atypical
    return {"item_kind": "vacancy", "item_id": row["item_id"], "score": row["score"],
            "sector_family": employer.sector_family, "employer_siret": employer.siret,
            "non_traditional": non_traditional,
            "features": json.loads(row["features"]) if row.get("features") else None}
