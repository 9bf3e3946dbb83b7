"""``passerelle batch plan-event``: the job-dating planner at the CLI edge.

A thin wrapper over :mod:`matching.events.inputs` and :mod:`matching.events.plan`, registered by
:mod:`service.cli.app` as ``batch plan-event``.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON document alone on standard output.")]

SCHEDULE_COLUMNS = ("firm_id", "slot", "youth_id", "fit", "distance_km")
CONSTRAINT_LABELS_FR = {
    "firm_capacity": "capacité des entreprises",
    "seats_per_slot": "places par créneau",
    "meetings_per_youth": "rencontres par jeune (maximum)",
    "distance": "rencontres dans le rayon de mobilité",
    "one_place_per_slot": "un seul lieu par créneau",
    "coverage": "au moins une rencontre par jeune",
    "firm_mix": "mixité : plus d'un groupe de genre",
    "non_traditional": "rencontre hors tendance de genre",
}
STATUS_FR = {"optimal": "optimal", "time_limit": "limite de temps atteinte", "greedy": "planning glouton"}
SHOWN_IDS = 8


def plan_event(
    firms: Annotated[Path, typer.Option(help="Firms CSV: firm_id, code_rome, commune_insee or postcode, slots, optional name and seats (see docs/EVENT_PLANNER.md).")],
    youths: Annotated[Path, typer.Option(help="Youths CSV: youth_id, commune_insee or postcode, optional mobility_km, gender, wished_codes, open_to_non_traditional.")],
    out: Annotated[Path, typer.Option(help="Schedule CSV to write: firm_id, slot, youth_id, fit, distance_km.")],
    max_meetings: Annotated[int, typer.Option(min=1, max=12, help="Meetings per young person at most (at least one each when seats allow).")] = 2,
    time_limit_s: Annotated[float, typer.Option(min=1, max=600, help="Solver time limit in seconds.")] = 30,
    as_json: JsonOpt = False,
):
    """Plan a job-dating: young people to firms' interview slots, with mixité floors.

    Maximises the total fit under each firm's slots, the meetings per young person and their
    mobility radius. Floors, kept whenever they can be: everyone within reach of a firm meets
    one; no firm meets a single gender group when its pool allows; those who agreed
    (open_to_non_traditional) meet a trade outside the gender band of their wishes. Floors that
    cannot be kept are named in the summary.

    Example: passerelle batch plan-event --firms examples/event_firms.csv --youths examples/event_youths.csv --out schedule.csv
    """
    from matching.events.inputs import build_instance, parse_firms, parse_youths
    from matching.events.plan import plan_meetings
    from service.cli.common import emit, run_guarded, workspace

    firm_text, youth_text = read_csv_text(firms), read_csv_text(youths)
    referential = workspace().referential()
    firm_rows = run_guarded(lambda: parse_firms(firm_text, referential, source=firms.name))
    youth_rows = run_guarded(lambda: parse_youths(youth_text, referential, source=youths.name))
    instance = build_instance(firm_rows, youth_rows, referential)
    plan = run_guarded(lambda: plan_meetings(instance, max_meetings=max_meetings, time_limit_s=time_limit_s))
    write_schedule(plan.meetings, out)
    emit(event_document(plan, out), as_json, render_event)


def read_csv_text(path: Path) -> str:
    """Read a UTF-8 CSV file, or fail with one line saying what is wrong."""
    from service.cli.common import fail

    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        fail(f"fichier introuvable : {path} (en: file not found: {path})")
    except UnicodeDecodeError:
        fail(f"{path} n'est pas encodé en UTF-8 : enregistrez-le en « CSV UTF-8 » (en: {path} is not UTF-8)")
    except OSError as error:
        fail(f"lecture impossible de {path} : {error.strerror} (en: cannot read {path})")
    raise typer.Exit(2)  # not reached: fail() exits; this line tells type checkers so


def write_schedule(meetings, out: Path) -> None:
    """Write the schedule CSV atomically (:func:`matching.files.atomic_write`)."""
    from matching.files import atomic_write
    from service.cli.common import fail

    def write(temporary: Path) -> None:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(SCHEDULE_COLUMNS)
            for m in meetings:
                writer.writerow((m.firm_id, m.slot, m.youth_id, f"{m.fit:.4f}", f"{m.distance_km:.1f}"))

    try:
        atomic_write(out, write)
    except OSError as error:
        fail(f"écriture impossible de {out} : {error.strerror} (en: cannot write {out})")


def _checks(checks) -> list[dict]:
    return [{"name": c.name, "satisfied": c.satisfied, "applicable": c.applicable, "failing": list(c.failing)}
            for c in checks]


def event_document(plan, out: Path) -> dict:
    """The ``plan-event --json`` document: totals, constraint report, notes (not the schedule)."""
    youths_met = len({m.youth_id for m in plan.meetings})
    ratio = plan.total_fit / plan.greedy_total_fit if plan.greedy_total_fit > 0 else None
    return {
        "out": str(out),
        "status": plan.status,
        "seconds": round(plan.seconds, 3),
        "n_slots": plan.n_slots,
        "max_meetings": plan.max_meetings,
        "meetings": len(plan.meetings),
        "youths_met": youths_met,
        "firms_met": len({m.firm_id for m in plan.meetings}),
        "total_fit": round(plan.total_fit, 4),
        "greedy_total_fit": round(plan.greedy_total_fit, 4),
        "fit_ratio": round(ratio, 4) if ratio is not None else None,
        "constraints": _checks(plan.constraints),
        "greedy_constraints": _checks(plan.greedy_constraints),
        "notes": [{"code": n.code, "subjects": list(n.subjects), "message": n.message,
                   "message_fr": n.message_fr} for n in plan.notes],
    }


def _ids(ids: list[str]) -> str:
    shown = ", ".join(ids[:SHOWN_IDS])
    return shown + (f" (+{len(ids) - SHOWN_IDS})" if len(ids) > SHOWN_IDS else "")


def render_event(document: dict) -> str:
    """The French summary of ``plan-event``."""
    ratio = document["fit_ratio"]
    lines = [
        f"Rencontres jeunes-entreprises : {document['meetings']} rencontres planifiées sur "
        f"{document['n_slots']} créneaux ({document['max_meetings']} par jeune au plus), "
        f"{document['youths_met']} jeunes et {document['firms_met']} entreprises.",
        f"Adéquation totale : {document['total_fit']:.2f} (référence gloutonne : "
        f"{document['greedy_total_fit']:.2f}{f', soit x{ratio:.2f}' if ratio else ''}). "
        f"Résolution : {STATUS_FR[document['status']]} en {document['seconds']:.1f} s.",
        "Contraintes (respectées / applicables ; référence gloutonne) :",
    ]
    greedy = {c["name"]: c for c in document["greedy_constraints"]}
    for check in document["constraints"]:
        other = greedy[check["name"]]
        lines.append(f"  {CONSTRAINT_LABELS_FR[check['name']]:<40} {check['satisfied']:>5}/{check['applicable']:<5}"
                     f" ; {other['satisfied']}/{other['applicable']}")
    if document["notes"]:
        lines.append("Remarques :")
        lines.extend(f"  - {n['message_fr']}" + (f" : {_ids(n['subjects'])}" if n["subjects"] else "")
                     for n in document["notes"])
    lines.append(f"Planning écrit dans {document['out']}")
    return "\n".join(lines)
