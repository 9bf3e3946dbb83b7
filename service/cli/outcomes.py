"""``passerelle outcomes``: outcomes of suggestions; ``simulate`` plays simulated advisers' days.

``outcomes simulate`` (evaluation only, ``docs/SIMULATOR.md``) is a thin wrapper over
:func:`service.simulate.run`. Registered by :mod:`service.cli.app`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from service.cli.common import (
    JsonOpt,
    emit,
    fail_both,
    migration_failed,
    notice_prefixed,
    store_errors,
    workspace,
)
from service.progress import progress_bars
from service.store.outcome_codes import DECLINE_REASONS, OUTCOME_LABELS_FR, OUTCOME_STATUSES

outcomes_app = typer.Typer(help="Suites données aux suggestions (contacts, immersions, embauches).",
                           no_args_is_help=True)

def _start(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail_both(f"--start : date invalide « {text} » (AAAA-MM-JJ)", f"--start: invalid date {text!r} (YYYY-MM-DD)")


def simulate(
    youths: Annotated[int, typer.Option("--youths", min=1, max=200_000, help="Demo youths drawn from the store.")] = 2000,
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Simulated days.")] = 60,
    seed: Annotated[int, typer.Option("--seed", help="Seed of every draw.")] = 0,
    start: Annotated[str | None, typer.Option("--start", help="First simulated day, YYYY-MM-DD (default: today minus --days).")] = None,
    preference_strength: Annotated[float, typer.Option("--preference-strength", min=0.0, max=1.0,
                                                       help="Weight of the youths' hidden preferences, 0 to 1 (0: none).")] = 1.0,
    acceptance_strength: Annotated[float, typer.Option("--acceptance-strength", min=0.0, max=1.0,
                                                       help="Weight of the employers' criteria, 0 to 1 (0: none).")] = 1.0,
    exploration: Annotated[float, typer.Option(
        "--exploration", min=0.0, max=1.0,
        help="Share of the served lists shuffled (RandTop-n, propensities logged): the simulation's serving "
             "policy, not its latent model (default 0.25; 0: the fusion's order always).")] = 0.25,
    as_json: JsonOpt = False,
):
    """Simulate outcomes of suggestions on the demo youths (evaluation only).

    Each simulated day, some demo youths visit their adviser and are served the real engine's
    vacancy list (logged as the service logs it); what follows (contact, application,
    immersion, hire, decline with a reason) is drawn from the latent model of
    docs/SIMULATOR.md. Every row written is flagged simulated, dated on its simulated day, and
    left out of the indicators. Run `passerelle demo` first. With both strengths 0 the outcomes
    carry no signal (a check that nothing leaks into a learned ranker). A share --exploration of
    the lists is shown shuffled with its propensities logged, from which `passerelle ranker`
    estimates the position bias (docs/LEARNING.md).

    Example: passerelle outcomes simulate --youths 2000 --days 60 --seed 7 --json
    """
    from service.simulate import SimulationError, run

    first = _start(start)
    ws = workspace()
    with store_errors():
        try:
            ws.store()
        except RuntimeError as error:
            migration_failed(error)
        if not ws.store_has_demo():
            fail_both("aucun jeune de démonstration dans la base : lancez d'abord `passerelle demo`",
                      "no demo youths in the store: run `passerelle demo` first")
        with progress_bars() as progress:
            live = ws.live(progress=progress)
            try:
                summary = run(ws, live, n_youths=youths, n_days=days, seed=seed, start=first,
                              preference=preference_strength, acceptance=acceptance_strength,
                              exploration=exploration, progress=progress)
            except SimulationError as error:
                fail_both(error.message_fr, str(error))
    if not as_json:
        notice_prefixed("données simulées : exclues des indicateurs, pour l'évaluation seulement")
    emit(summary.as_dict(), as_json, render_summary)


def render_summary(document: dict[str, Any]) -> str:
    """The French summary of a simulation run."""
    lines = [
        f"Simulation (graine {document['seed']}, modèle latent v{document['model_version']}) : "
        f"{document['days']} jours à partir du {document['start']}, {document['youths']} jeunes "
        f"(préférences {document['preference_strength']:g}, critères employeurs {document['acceptance_strength']:g})",
        f"Listes servies : {document['lists']} ({document['youths_served']} jeunes venus), "
        f"dont {document.get('explored_lists', 0)} explorées (part {document.get('exploration', 0):g})",
        f"Lignes enregistrées : {document['rows']} suggestions",
        "Suites par statut :",
    ]
    for status in OUTCOME_STATUSES:
        if document["outcomes"].get(status):
            lines.append(f"  {OUTCOME_LABELS_FR[status]} : {document['outcomes'][status]}")
    for reason, count in document["decline_reasons"].items():
        lines.append(f"    dont « {DECLINE_REASONS.get(reason, reason)} » : {count}")
    lines.append(f"Jeunes embauchés : {document['hired_youths']}")
    lines.append(f"Durée : {document['seconds']:g} s")
    return "\n".join(lines)
