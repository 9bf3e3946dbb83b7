"""Erasure of a youth (right to erasure, retention purge) that keeps anonymous counts.

In one transaction, :func:`erase_youth`:

1. logs an index ``delete`` (first: it takes the generation lock; the log keeps no id);
2. folds the youth's suggestions and outcomes into ``indicator_counts`` (grouped by Mission
   Locale, month, gender group, item kind, sector family, non-traditional flag and employer);
3. replaces the youth id in past audit lines by a random pseudonym (not derived from the id);
4. deletes the youth; its suggestions, outcomes, shares, share requests and idempotency keys
   go with it (``ON DELETE CASCADE``);
5. writes one audit line naming the pseudonym only, and (``detail``) the output files of the
   batch runs made while the youth existed: they are outside the data home, and may hold the
   youth's results under a pseudonym (or its id with ``--no-pseudonymise``), so an operator must
   delete or rewrite them.

Once that transaction commits, :func:`reclaim` makes the rows physically gone from the store's
files: on SQLite, deleted rows are overwritten with zeros (``secure_delete``, set on every
connection) and the write-ahead log, which still holds the pages as they were, is checkpointed
and truncated; on PostgreSQL, dead rows stay in the table files until ``VACUUM``
(autovacuum, or :func:`reclaim` with ``vacuum=True`` after a purge), and in the WAL archive and
backups until they expire (see docs/API.md, "Consistency, restarts and erasure").

Counting rules that the indicators must apply to live rows too: a youth counts once, in the
month of its first suggestion; a suggestion in the month it was made; an outcome in the month it
was recorded, in the group of its suggestion.
"""

from __future__ import annotations

import json
import secrets
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, and_, event, select, update
from sqlalchemy.orm import Session

from matching.types import NOT_STATED
from service.store.changes import record_changes
from service.store.models import ApiKey, AuditLine, IndicatorCount, Outcome, Suggestion
from service.store.outcome_codes import (
    COUNTED_STATUSES,
    DECLINE_MEASURES,
    DECLINE_REASONS,
    declined_measure,
)
from service.store.rows import rowcount, table_of
from service.store.youths import audit, get_youth

MEASURES: tuple[str, ...] = ("youths", "suggestions", *COUNTED_STATUSES, *DECLINE_MEASURES)
"""Columns of ``indicator_counts`` that an erasure adds to."""
GroupKey = tuple[str, str, str, str, str, bool, str]
"""(mission_locale, period, gender_group, item_kind, sector_family, non_traditional, siret)."""
_KEY_COLUMNS = (
    "mission_locale",
    "period",
    "gender_group",
    "item_kind",
    "sector_family",
    "non_traditional",
    "employer_siret",
)


def period_of(moment: datetime) -> str:
    """Return the indicator period of a timestamp: ``YYYY-MM``."""
    return f"{moment.year:04d}-{moment.month:02d}"


def youth_counts(
    session: Session, youth_id: str, gender_group: str
) -> dict[GroupKey, Counter[str]]:
    """Return a youth's contribution to the indicators, by group (simulated suggestions and
    their outcomes contribute nothing: they are not counted live either)."""
    suggestions = (
        session.execute(
            select(Suggestion)
            .where(Suggestion.youth_id == youth_id, Suggestion.simulated.is_(False))
            .order_by(Suggestion.created_at, Suggestion.id)
        )
        .scalars()
        .all()
    )
    counts: dict[GroupKey, Counter[str]] = defaultdict(Counter)
    groups: dict[int, tuple[str, str, str, bool, str]] = {}
    for index, suggestion in enumerate(suggestions):
        rest = (
            suggestion.item_kind,
            suggestion.sector_family or "",
            bool(suggestion.non_traditional),
            suggestion.employer_siret or "",
        )
        groups[suggestion.id] = (suggestion.mission_locale, *rest)
        key = (suggestion.mission_locale, period_of(suggestion.created_at), gender_group, *rest)
        counts[key]["suggestions"] += 1
        if index == 0:
            counts[key]["youths"] += 1
    outcomes = session.execute(
        select(Outcome.suggestion_id, Outcome.status, Outcome.reason, Outcome.created_at)
        .join(Suggestion, Suggestion.id == Outcome.suggestion_id)
        .where(Suggestion.youth_id == youth_id, Suggestion.simulated.is_(False))
    ).all()
    for suggestion_id, status, reason, created_at in outcomes:
        if status in COUNTED_STATUSES:
            mission_locale, item_kind, sector_family, non_traditional, siret = groups[suggestion_id]
            key = (
                mission_locale,
                period_of(created_at),
                gender_group,
                item_kind,
                sector_family,
                non_traditional,
                siret,
            )
            counts[key][status] += 1
            if status == "declined" and reason in DECLINE_REASONS:
                counts[key][declined_measure(reason)] += 1
    return counts


def add_counts(session: Session, counts: dict[GroupKey, Counter[str]]) -> None:
    """Add ``counts`` to ``indicator_counts``, one row per group.

    No race on the insert: callers hold the generation lock (see :mod:`service.store.changes`).
    """
    table = table_of(IndicatorCount)
    for key, measures in counts.items():
        match = and_(
            *(table.c[name] == value for name, value in zip(_KEY_COLUMNS, key, strict=True))
        )
        increments = {name: table.c[name] + measures.get(name, 0) for name in MEASURES}
        if rowcount(session.execute(update(table).where(match).values(increments))) == 0:
            row = dict(zip(_KEY_COLUMNS, key, strict=True))
            session.execute(
                table.insert().values(**row, **{m: measures.get(m, 0) for m in MEASURES})
            )


BATCH_RUN = "batch_score"
"""Audit action of a ``passerelle batch score`` run; its ``detail`` names the output file."""
MAX_LISTED_OUTPUTS = 100


def record_batch_run(session: Session, out, *, what: str) -> AuditLine:
    """Write a batch run's audit line (role ``cli``, action ``batch_score``) naming its output file.

    The file lies outside the data home: an erasure made later lists the output files of the
    runs made while the youth existed (:func:`batch_outputs_since`), for an operator to delete
    or rewrite.
    """
    path = Path(out).resolve()
    line = audit(session, None, BATCH_RUN, "batch_run", path.name[:64])
    line.detail = json.dumps({"out": str(path), "what": what}, ensure_ascii=False)
    return line


def batch_outputs_since(session: Session, since: datetime) -> list[str]:
    """Output files of the batch runs audited since ``since`` (newest first, at most 100)."""
    details = session.scalars(
        select(AuditLine.detail)
        .where(AuditLine.action == BATCH_RUN, AuditLine.at >= since)
        .order_by(AuditLine.at.desc(), AuditLine.id.desc())
    )
    outputs: list[str] = []
    for detail in details:
        try:
            out = json.loads(detail or "{}").get("out")
        except (ValueError, AttributeError):
            continue
        if isinstance(out, str) and out not in outputs:
            outputs.append(out)
        if len(outputs) == MAX_LISTED_OUTPUTS:
            break
    return outputs


def erase_youth(
    session: Session,
    youth_id: str,
    actor: ApiKey | None = None,
    *,
    mission_locale: str | None = None,
    action: str = "erase",
) -> str:
    """Erase a youth, its suggestions and outcomes; keep anonymous counts; return the pseudonym.

    Args:
        actor: the key that asked (None: the command line, e.g. the retention purge).
        mission_locale: when given, a youth of another Mission Locale is "unknown".
        action: the audit action (``erase``, or ``purge`` for the retention purge).

    Raises:
        UnknownId: no such youth (in that Mission Locale).
    """
    youth = get_youth(session, youth_id, mission_locale=mission_locale)
    record_changes(session, "youth", [youth_id], "delete")
    add_counts(session, youth_counts(session, youth_id, youth.gender or NOT_STATED))
    pseudonym = "erased-" + secrets.token_hex(8)
    audit_table = table_of(AuditLine)
    session.execute(
        update(audit_table)
        .where(audit_table.c.object_kind == "youth", audit_table.c.object_id == youth_id)
        .values(object_id=pseudonym)
    )
    owner, outputs = youth.mission_locale, batch_outputs_since(session, youth.created_at)
    session.delete(youth)
    session.flush()
    session.expire_all()  # suggestions and outcomes loaded above are gone with the youth
    line = audit(session, actor, action, "youth", pseudonym, mission_locale=owner)
    if outputs:
        line.detail = json.dumps({"batch_outputs": outputs}, ensure_ascii=False)
    if not session.info.get(_RECLAIM):  # once the erasure is committed, not before
        session.info[_RECLAIM] = True
        event.listen(session, "after_commit", _reclaim_after_commit, once=True)
    return pseudonym


_RECLAIM = "passerelle_reclaim_after_commit"
ERASED_TABLES = ("youths", "suggestions", "outcomes", "shares", "share_requests", "audit_log",
                 "index_changes", "idempotency_keys")
"""Tables whose rows an erasure deletes or rewrites: the ones ``VACUUM`` cleans after a purge."""


def _reclaim_after_commit(session: Session) -> None:
    session.info.pop(_RECLAIM, None)
    reclaim(session.get_bind().engine)


def reclaim(engine: Engine, *, vacuum: bool = False) -> None:
    """Remove committed erasures from the store's files, as far as the database allows.

    SQLite: checkpoint the write-ahead log and truncate it (``wal_checkpoint(TRUNCATE)``), so
    that the pages written before the erasure are gone from ``-wal``; the main file already
    holds zeros where the rows were (``secure_delete``). A checkpoint that readers keep from
    finishing (it waits up to the busy timeout) is finished by the next one.
    PostgreSQL: nothing unless ``vacuum`` (``passerelle purge``): ``VACUUM`` of
    :data:`ERASED_TABLES` (autocommit: VACUUM cannot run in a transaction).
    """
    if engine.dialect.name == "sqlite":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
    elif vacuum and engine.dialect.name == "postgresql":
        quote = engine.dialect.identifier_preparer.quote
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for table in ERASED_TABLES:
                connection.exec_driver_sql(f"VACUUM {quote(table)}")
