"""``passerelle ranker``: train, list, activate, roll back and evaluate learned vacancy rankers.

Thin wrappers over :mod:`matching.learn.training`, :mod:`matching.learn.registry` and
:mod:`matching.learn.evaluate`; the registry lives in ``<data home>/models/ranker``
(:func:`service.live.ranker_provider.ranker_root`). ``train`` stores a version and never
activates it; ``activate`` and ``rollback`` move the ``active`` pointer, which the service reads
before each list. LightGBM's OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE`` unless
set): spinning threads slow a fit several times on a shared machine. Registered by
:mod:`service.cli.app`.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

import typer

from service.cli.common import (
    JsonOpt,
    emit,
    fail_both,
    notice_prefixed,
    open_store,
    run_guarded,
    table,
    workspace,
)
from service.config import get_settings

if TYPE_CHECKING:
    import pandas as pd

ranker_app = typer.Typer(help="Classeur appris des offres : entraîner, lister, activer, annuler, évaluer.",
                         no_args_is_help=True)

FromStore = Annotated[bool, typer.Option("--from-store", help="Read the suggestion log from the store (default).")]
InputLog = Annotated[Path | None, typer.Option("--input", help="Read the suggestion log from a Parquet file.")]


def _root() -> Path:
    from service.live.ranker_provider import ranker_root

    return ranker_root(get_settings().home)


def _date(option: str, text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        fail_both(f"{option} : date invalide « {text} » (AAAA-MM-JJ)", f"{option}: invalid date {text!r} (YYYY-MM-DD)")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _log(from_store: bool, source: Path | None, until: datetime | None, *, simulated: bool,
         context: bool = False) -> pd.DataFrame:
    """The vacancy rows of the suggestion log, from the store or a Parquet file (rows of the
    outcome simulator only when ``simulated``)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # before LightGBM loads OpenMP
    if from_store and source is not None:
        fail_both("choisissez --from-store ou --input, pas les deux", "give --from-store or --input, not both")
    if source is not None:
        from service.store.suggestion_log import read_parquet

        if not source.is_file():
            fail_both(f"fichier introuvable : {source}", f"file not found: {source}")
        try:
            frame = read_parquet(source)
        except (ValueError, OSError) as error:
            fail_both(f"journal illisible : {error}", f"unreadable log: {error}")
        if not simulated and "simulated" in frame:
            frame = frame[~frame["simulated"].astype(bool)]
        return frame if until is None else frame[frame["created_at"] < until]
    from matching.learn.labels import grades_from
    from service.live.ranker_provider import evaluation_context
    from service.store.suggestion_log import read_log

    try:
        grades = grades_from(get_settings().label_grades)
    except ValueError as error:
        fail_both(f"PASSERELLE_LABEL_GRADES invalide : {error}", f"invalid PASSERELLE_LABEL_GRADES: {error}")
    with open_store() as sessions, sessions() as session:
        frame = read_log(session, until=until, item_kind="vacancy", grades=grades, include_simulated=simulated)
        if context and len(frame):
            frame = evaluation_context(session, frame, workspace().referential().cards["share_women"])
    return frame


def _no_data(error: ValueError) -> None:
    fail_both(f"entraînement impossible : {error} (lancez des suggestions et enregistrez leurs suites, "
              "ou `passerelle outcomes simulate` pour une évaluation)", f"cannot train: {error}")


@ranker_app.command("train")
def train(
    from_store: FromStore = False,
    source: InputLog = None,
    until: Annotated[str | None, typer.Option("--until", help="Only lists served before this date (YYYY-MM-DD).")] = None,
    include_simulated: Annotated[bool, typer.Option(
        "--include-simulated", help="Also learn from the outcome simulator's rows (evaluation only).")] = False,
    as_json: JsonOpt = False,
):
    """Train a learned ranker on the logged vacancy lists and store it (never activates it).

    The model (LightGBM lambdarank, rank shown as a feature fixed to 1 when serving) is fitted
    on all lists but the most recent 20 %, which measure it against the fusion (NDCG@5/10/20 in
    the manifest). Position bias: with explored lists in the window (PASSERELLE_EXPLORATION),
    the examination curve by rank is estimated from them and positive labels are weighted by its
    inverse (manifest: propensity, weights); otherwise the manifest says why not. Rows written by
    `passerelle outcomes simulate` are left out unless --include-simulated. Activate it with
    `passerelle ranker activate VERSION`.

    Example: passerelle ranker train --from-store --until 2026-06-01 --json
    """
    from matching.learn import registry
    from matching.learn.features import VACANCY_FEATURES
    from matching.learn.training import train as fit

    frame = _log(from_store, source, _date("--until", until), simulated=include_simulated)
    try:
        trained = fit(frame, VACANCY_FEATURES, until=_date("--until", until))
    except ValueError as error:
        _no_data(error)
    folder = registry.save(_root(), trained)
    notice_prefixed(f"classeur {trained.manifest['version']} enregistré dans {folder} (non activé)")
    emit(trained.manifest, as_json, _render_manifest)


def _render_manifest(manifest: dict[str, Any]) -> str:
    ndcg = manifest["metrics"].get("ndcg@10") or {}
    propensity = manifest.get("propensity") or {}
    curve = propensity.get("curve")
    return (f"version {manifest['version']} : {manifest['rows']} lignes, {manifest['lists']} listes ; "
            f"NDCG@10 sur les {manifest['holdout']['lists']} listes récentes réservées : "
            f"fusion {ndcg.get('fusion')}, appris {ndcg.get('learned')}\n"
            + (f"biais de position estimé sur {propensity['lists']} listes explorées (rang 1 à 10 : "
               + ", ".join(f"{float(t):.2f}" for t in list(curve.values())[:10]) + "), suites positives pondérées"
               if curve else f"pas de pondération du biais de position (en: {propensity.get('reason')})"))


@ranker_app.command("list")
def list_versions(as_json: JsonOpt = False):
    """List the stored ranker versions, the active one marked with *.

    Example: passerelle ranker list --json
    """
    from matching.learn import registry

    root = _root()
    active = registry.active_version(root)
    versions = [{"version": m["version"], "created_at": m["created_at"], "rows": m["rows"], "lists": m["lists"],
                 "ndcg@10": (m["metrics"].get("ndcg@10") or {}), "active": m["version"] == active}
                for m in registry.manifests(root)]
    document = {"active": active, "versions": versions}

    def render(doc: dict[str, Any]) -> str:
        if not doc["versions"]:
            return "aucun classeur entraîné (passerelle ranker train)"
        rows = [("*" if v["active"] else "", v["version"], v["created_at"][:16], v["rows"], v["lists"],
                 v["ndcg@10"].get("fusion"), v["ndcg@10"].get("learned")) for v in doc["versions"]]
        return table(("", "version", "créé", "lignes", "listes", "NDCG@10 fusion", "NDCG@10 appris"), rows)

    emit(document, as_json, render)


@ranker_app.command("activate")
def activate(version: Annotated[str, typer.Argument(help="A version shown by `passerelle ranker list`.")]):
    """Serve VERSION to the Missions Locales with enough outcomes (from the next list on).

    Example: passerelle ranker activate 20260601T080000Z-1a2b3c4d
    """
    from matching.learn import registry

    previous = run_guarded(lambda: registry.activate(_root(), version))
    notice_prefixed(f"classeur {version} actif (avant : {previous or 'fusion non apprise'})")


@ranker_app.command("rollback")
def rollback():
    """Restore the ranker active before the last activation (or the untrained fusion).

    Example: passerelle ranker rollback
    """
    from matching.learn import registry

    restored = run_guarded(lambda: registry.rollback(_root()))
    notice_prefixed(f"retour à {restored or 'la fusion non apprise'}")


@ranker_app.command("evaluate")
def evaluate(
    split_date: Annotated[str, typer.Option("--split-date", help="Train before this date, measure from it (YYYY-MM-DD).")],
    from_store: FromStore = False,
    source: InputLog = None,
    as_json: JsonOpt = False,
):
    """Compare the fusion and a ranker trained on the lists before --split-date, on the lists after.

    Trains its own model (never the active one, which may have seen the later period) and
    reports NDCG@5/10/20, Recall@10 and MRR (ranx), a paired t-test on per-list NDCG@10, the
    mixité and the exposure concentration of both orders. Reads every row, those of
    `passerelle outcomes simulate` included. Position bias: the examination curve by rank is
    estimated from the explored lists before the split (PASSERELLE_EXPLORATION, RandTop-n) and
    the headline ratio compares inverse-propensity DCG@10; without explored lists it says so
    (propensity.curve null, with a reason) and compares raw labels. See docs/LEARNING.md.

    Example: passerelle ranker evaluate --split-date 2026-05-01 --from-store --json
    """
    from matching.learn.evaluate import evaluate_split
    from matching.learn.features import VACANCY_FEATURES

    split = cast(datetime, _date("--split-date", split_date))  # required: never None
    try:
        import ranx  # noqa: F401
    except ImportError:
        fail_both("ranx n'est pas installé : pip install ranx", "ranx is not installed: pip install ranx")
    frame = _log(from_store, source, None, simulated=True, context=True)
    try:
        document = evaluate_split(frame, split, VACANCY_FEATURES)
    except ValueError as error:
        _no_data(error)
    emit(document, as_json, _render_evaluation)


def _render_evaluation(doc: dict[str, Any]) -> str:
    rows = [(name, doc["fusion"][name], doc["learned"][name]) for name in doc["fusion"]]
    raw = doc["raw"]
    curve = (doc.get("propensity") or {}).get("curve")
    lines = [table(("mesure (suites brutes)", "fusion", "appris"), rows),
             f"rapport NDCG@10 appris / fusion, suites brutes : {raw['ratio_ndcg_at_10']} (p = {raw['p_value']:.3g})",
             (f"par propension inverse (courbe d'examen estimée sur {doc['propensity']['lists']} listes explorées : "
              + ", ".join(f"{r}: {t:.2f}" for r, t in list(curve.items())[:10])
              + f") : rapport {doc['ratio_ndcg_at_10']} (p = {doc['p_value']:.3g}, {doc['test']})") if curve else
             f"pas de correction du biais de position (en: {doc['propensity']['reason']})",
             f"exposition (part du top 10 aux 10 % d'offres les plus montrées) : fusion {doc['exposure']['fusion']}, "
             f"appris {doc['exposure']['learned']}",
             (f"mixité (part d'offres non traditionnelles dans le top 10, par genre) : fusion {doc['mixite']['fusion']}, "
              f"appris {doc['mixite']['learned']}" if doc["mixite"]["fusion"] is not None
              else f"mixité non mesurée (en: {doc['mixite'].get('reason')})"),
             f"{doc['lists']} listes évaluées, {doc['lists_without_positive']} sans suite positive écartées"]
    return "\n".join(lines)
