"""``passerelle batch``: score every youth or every vacancy into one Parquet file.

A thin wrapper over :func:`matching.batch.run.run_batch`. The queries and the engine come from a
provider (:func:`workspace_source`: the data home's engine, or youth profiles from ``--input``);
the store provider replaces it without touching the command.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:  # the engine's modules load when a command runs, not with `passerelle --help`
    from matching.batch.run import BatchSource

batch_app = typer.Typer(help="Calculs par lots : tous les jeunes ou toutes les offres, en Parquet.",
                        no_args_is_help=True)

What = Annotated[str, typer.Option("--what", help="youths: top-k trades and vacancies per youth; vacancies: top-k candidates per open vacancy.")]


@batch_app.callback()
def _batch() -> None:
    """Batch scoring into Parquet files (resumable, local or Ray)."""


def workspace_source(what: str, *, input_path: Path | None = None, mission_locale: str | None = None,
                     departement: str | None = None, notice: Callable[[str], None] = print) -> BatchSource:
    """The queries and the engine of a run, from the data home (and ``input_path`` if given).

    what=youths: the youths of the file (or of the engine), filtered by Mission Locale and
    département. what=vacancies: the open vacancies (of the département), with the youths of
    the file (or of the engine, of the Mission Locale) as candidates.
    """
    from matching.batch.inputs import read_youths, select_vacancies, select_youths
    from matching.batch.run import BatchSource
    from service.cli.common import workspace, workspace_engine

    engine = workspace_engine()
    referential = engine.referential
    description: dict = {"source": "data_home", "store_generation": workspace().engine_generation,
                         "mission_locale": mission_locale, "departement": departement}
    if input_path is not None:
        youths, warnings = read_youths(input_path, referential)
        description.update(source="file", input=Path(input_path).name, input_sha256=_sha256(input_path))
        if warnings:
            notice(f"passerelle: avertissement: {len(warnings)} profil(s) hors des 16-25 ans ({warnings[0]})")
    else:
        youths = list(engine.youths.youths)
    if what == "youths":
        chosen = select_youths(youths, referential, mission_locale=mission_locale, departement=departement)
        return BatchSource(chosen, engine, {}, description, indexed=input_path is None)
    candidates = select_youths(youths, referential, mission_locale=mission_locale)
    recommender, encoded = engine, {"candidate_youths_encoded": 0}
    if input_path is not None or len(candidates) != len(engine.youths):
        recommender = copy.copy(engine)  # the loaded engine keeps its own youths
        if input_path is not None:
            vectors, scores = engine.youth_features(candidates)
            encoded["candidate_youths_encoded"] = len(candidates)
        else:  # reuse the stored embeddings and trade scores
            rows = [engine.youths.rows[y.id] for y in candidates]
            vectors = engine.youth_index.vectors(engine.youths.keys[rows]) if rows else None
            scores = engine.youth_trade_scores[rows]
        recommender.load_youths(candidates, vectors=vectors, trade_scores=scores)
    vacancy_ids = select_vacancies(engine.vacancies.vacancies, referential, departement=departement)
    return BatchSource(vacancy_ids, recommender, encoded, description)


SOURCE: Callable[..., BatchSource] = workspace_source
"""The provider used by ``batch score`` (the store provider replaces it)."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@contextmanager
def _progress_bar(label: str):
    """A ``progress(done, total[, phase])`` callback drawing one bar per phase (rate, ETA)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TimeRemainingColumn(),
                    console=Console(stderr=True))
    labels = {"queries": label, "texts": "Textes distincts encodés"}
    state: dict = {}

    def update(done: int, total: int, phase: str = "queries") -> None:
        import time

        if phase not in state:
            state[phase] = {"task": bars.add_task(labels.get(phase, phase), total=max(total, 1), rate=""),
                            "start": time.perf_counter(), "first": done}
        task = state[phase]
        elapsed = time.perf_counter() - task["start"]
        rate = (done - task["first"]) / elapsed if elapsed > 0 else 0.0
        bars.update(task["task"], completed=done, total=max(total, 1), rate=f"{rate:,.1f}/s".replace(",", " "))

    with bars:
        yield update


KINDS_FR = {"trade": "métiers", "vacancy": "offres", "youth": "jeunes candidats"}


def _summary_lines(summary, what: str) -> list[str]:
    def number(value: float, digits: int = 1) -> str:
        return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",")

    noun = "jeunes" if what == "youths" else "offres"
    totals, rows, encoded = summary.totals, summary.totals.get("rows", {}), summary.encoded
    lines = [
        f"passerelle: {summary.queries} {noun} en {summary.chunks} morceau(x) de {summary.chunk_size} "
        f"({summary.chunks_computed} calculés, {summary.chunks_skipped} repris d'un calcul précédent) "
        f"en {number(summary.seconds)} s, {number(summary.queries_per_second)} {noun}/s "
        f"(moteur {summary.engine}, {summary.workers} processus)",
        f"passerelle: {summary.rows} lignes dans {summary.out} ("
        + ", ".join(f"{count} {KINDS_FR.get(kind, kind)}" for kind, count in sorted(rows.items())) + ")",
    ]
    if what == "youths":
        reused = encoded.get("youths_reused", 0)
        lines.append(f"passerelle: encodés pendant ce calcul : {encoded.get('youths_this_run', 0)} jeunes, "
                     f"{encoded.get('texts_this_run', 0)} textes distincts ; "
                     + (f"{reused} jeunes et " if reused else "") + "offres : vecteurs de l'index réutilisés")
    else:
        count = encoded.get("candidate_youths_encoded", 0)
        lines.append(f"passerelle: encodés pendant ce calcul : {count} jeunes candidats"
                     + ("" if count else " (vecteurs de l'index réutilisés)"))
    shares = {g: v for g, v in totals.get("non_traditional", {}).items() if v[1]}
    if shares:
        words = {"F": "jeunes femmes", "M": "jeunes hommes"}
        lines.append("passerelle: métiers non traditionnels parmi les métiers proposés : " + ", ".join(
            f"{words[g]} {number(100 * a / b)} %" for g, (a, b) in sorted(shares.items())))
    empty = sum(totals.get("empty_lists", {}).values())
    if empty:
        lines.append(f"passerelle: {empty} liste(s) vide(s) (aucun élément à portée)")
    return lines


@batch_app.command("score")
def score(
    what: What,
    out: Annotated[Path, typer.Option("--out", help="Parquet file to write (lock, plan and parts go beside it).")],
    mission_locale: Annotated[str | None, typer.Option("--mission-locale", help="Only the youths of this Mission Locale (e.g. ML-METZ).")] = None,
    departement: Annotated[str | None, typer.Option("--departement", help="Only the youths (or vacancies) of this département (e.g. 57).")] = None,
    input_path: Annotated[Path | None, typer.Option("--input", help="Youth profiles (.parquet or .csv, columns of examples/youth.schema.json; lists as JSON in CSV).")] = None,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=100, help="Items per list.")] = 20,
    mix: Annotated[str, typer.Option(help="Gender-mix policy of trades: balanced, counter_stereotype or off.")] = "balanced",
    max_per_employer: Annotated[int, typer.Option(help="Vacancies per employer in a list (0: no cap).")] = 1,
    balance: Annotated[str, typer.Option(help="Candidate shortlists: pool, parity or off.")] = "pool",
    algorithm: Annotated[str, typer.Option(help="Shortlist algorithm: det_relaxed, det_cons or det_greedy.")] = "det_relaxed",
    engine: Annotated[str, typer.Option(help="local (this machine, one process per core) or ray.")] = "local",
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes or Ray actors (default: one per core).")] = None,
    ray_address: Annotated[str | None, typer.Option(help="Ray cluster to join (default: a local Ray).")] = None,
    chunk_size: Annotated[int | None, typer.Option(min=1, help="Queries per chunk (default: from the available memory).")] = None,
    no_pseudonymise: Annotated[bool, typer.Option("--no-pseudonymise", help="Keep raw youth ids (default: keyed pseudonyms).")] = False,
    write_back: Annotated[bool, typer.Option("--write-back", help="Also write the results into the store.")] = False,
    restart: Annotated[bool, typer.Option("--restart", help="Drop the parts of an unfinished run with other arguments.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the run summary as JSON on standard output.")] = False,
):
    """Score every youth (top-k trades and vacancies) or every open vacancy (top-k candidates).

    Writes one Parquet file: query_id, item_kind, rank, item_id, score, score_parts, reasons, features
    (with --write-back). Youth ids are pseudonymised (keyed hash) unless --no-pseudonymise; store youths
    read vacancy exposure from the suggestion log. A killed run started again with the same arguments resumes.

    Example: passerelle batch score --what youths --mission-locale ML-METZ --top-k 20 --out resultats.parquet
    """
    from matching.batch.run import run_batch
    from service.cli.common import fail, notice, run_guarded

    if engine not in ("local", "ray"):
        fail(f"moteur « {engine} » inconnu : --engine local|ray (en: unknown engine {engine!r})")
    hook = _write_back_hook() if write_back else None
    request = _logged(_request(what, top_k, mix, max_per_employer, balance, algorithm, not no_pseudonymise),
                      from_store=input_path is None, write_back=write_back)
    _check_runtime(engine)
    source = run_guarded(lambda: SOURCE(what, input_path=input_path, mission_locale=mission_locale,
                                        departement=departement, notice=notice))
    args = {"what": what, "mission_locale": mission_locale, "departement": departement,
            "input": None if input_path is None else str(input_path.resolve()), "top_k": top_k, "mix": mix,
            "max_per_employer": max_per_employer, "balance": balance, "algorithm": algorithm,
            "pseudonymise": not no_pseudonymise, "engine": engine, "workers": workers,
            "chunk_size": chunk_size}
    try:
        with _progress_bar("Jeunes traités" if what == "youths" else "Offres traitées") as progress:
            summary = run_guarded(lambda: run_batch(
                source, request, out, args=args, engine=engine, workers=workers, chunk_size=chunk_size,
                ray_address=ray_address, restart=restart, progress=progress))
    except OSError as error:
        fail(f"écriture impossible de {out} : {error.strerror or error} (en: cannot write {out})")
    if hook is not None:
        hook(out, what=what, summary=summary.to_dict())
    if input_path is None:  # youths of the store: an erasure will list this file
        _record_run(out, what)
    for line in _summary_lines(summary, what):
        notice(line)
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), ensure_ascii=False, indent=2))


def _request(what: str, top_k: int, mix: str, max_per_employer: int, balance: str, algorithm: str,
             pseudonymise: bool):
    """The run's :class:`~matching.batch.score.BatchRequest`; a bad option exits with its message."""
    from matching.batch.run import BatchRequest
    from matching.fairness.policies import Balance, TradeMix, VacancyMix
    from service.cli.common import run_guarded, workspace

    return run_guarded(lambda: BatchRequest(
        what, top_k, trade_mix=TradeMix(policy=mix), vacancy_mix=VacancyMix(max_per_employer=max_per_employer),
        balance=Balance(policy=balance, algorithm=algorithm),
        pseudonym_key=_key(workspace().settings) if pseudonymise else None))


def _logged(request, *, from_store: bool, write_back: bool):
    """Youth runs of the store (or written back) read exposure from the suggestion log (#15);
    written back, their vacancy rows carry the features the log keeps."""
    if request.what != "youths" or not (from_store or write_back):
        return request
    return dataclasses.replace(request, exposure=_exposure_counts(), log_features=write_back)


def _exposure_counts() -> dict[str, int]:
    """Vacancy id -> exposure from the store's suggestion log (the service's window)."""
    from datetime import timedelta

    from service.cli.common import workspace
    from service.store.columns import utcnow
    from service.store.suggestion_log import exposure_counts

    ws = workspace()
    _, sessions, _ = ws.store()
    with sessions() as session:
        return exposure_counts(session, utcnow() - timedelta(days=ws.settings.exposure_days))


def _check_runtime(engine: str) -> None:
    """Exit unless Ray is installed (``--engine ray``)."""
    from service.cli.common import fail

    if engine == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            fail("moteur ray indisponible : installez passerelle[ray] (en: ray is not installed)")


def _key(settings) -> bytes:
    from service.pseudonym import pseudonym_key

    return pseudonym_key(settings)


def _record_run(out: Path, what: str) -> None:
    """Audit the run with its output file: an erasure lists the files made while the youth existed."""
    from service.cli.common import workspace
    from service.store.erasure import record_batch_run

    _, sessions, _ = workspace().store()
    with sessions.begin() as session:
        record_batch_run(session, out, what=what)


def _write_back_hook():
    """``service.batch_store.write_back(results_path, what=, summary=)``, imported before the run."""
    from service import batch_store

    return batch_store.write_back


if __name__ == "__main__":  # pragma: no cover  (python -m service.cli.batch score ...)
    batch_app(prog_name="passerelle batch")
