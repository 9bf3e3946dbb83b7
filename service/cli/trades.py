"""``passerelle trades infer``: vacancy title (and description) -> ROME 4.0 codes.

A thin wrapper over :func:`service.vacancy_rome.infer_codes`, the function behind
``POST /v1/vacancies`` when a vacancy comes without ``code_rome``. Registered in the ``trades``
group by :mod:`service.cli.app`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from service.cli.common import JsonOpt, emit, fail_both, run_guarded, workspace_engine

MAX_TOP_K = 100


def trades_infer(
    title: Annotated[str | None, typer.Option("--title", help="Vacancy title, as published (noise such as '(H/F)' is fine).")] = None,
    description: Annotated[str | None, typer.Option("--description", help="Vacancy description (with --title): it tells the field the offer is in.")] = None,
    input_path: Annotated[Path | None, typer.Option("--input", help="JSON Lines file: one object per line with 'title' and optional 'description'.")] = None,
    top_k: Annotated[int, typer.Option("--top-k", help=f"Codes per vacancy (1 to {MAX_TOP_K}).")] = 5,
    as_json: JsonOpt = False,
):
    """Infer the ROME 4.0 code of vacancies from their title and description, best first.

    With --title: one vacancy. With --input: a JSON Lines file, one vacancy per line.

    --json: a list of {"code_rome", "label", "score"}; with --input, one such list per line.

    Score (ranks the cards, not a probability): about 1 for a title that is a ROME appellation,
    0.5-0.7 for a good match, under 0.3 for noise.

    Example: passerelle trades infer --title "Développeur Python (H/F)" --top-k 3 --json

    Example: passerelle trades infer --input offers.jsonl --top-k 5 --json
    """
    if not 1 <= top_k <= MAX_TOP_K:
        fail_both(f"--top-k doit être entre 1 et {MAX_TOP_K} (reçu {top_k})",
                  f"--top-k must be between 1 and {MAX_TOP_K} (got {top_k})")
    if (title is None) == (input_path is None):
        fail_both("donnez soit --title, soit --input", "give either --title or --input")
    if input_path is not None:
        if description is not None:
            fail_both("--description va avec --title ; avec --input, mettez 'description' dans chaque ligne",
                      "--description goes with --title; with --input, put 'description' on each line")
        titles, descriptions = read_offers(input_path)
    else:
        if not (title or "").strip():
            fail_both("intitulé vide : donnez l'intitulé de l'offre (--title)",
                      "empty title: give the vacancy title (--title)")
        titles, descriptions = [title or ""], [description]
    from service.vacancy_rome import infer_codes

    engine = workspace_engine()
    lists = run_guarded(lambda: infer_codes(engine, titles, descriptions, top_k))
    if input_path is None:
        emit(lists[0], as_json, render_codes)
    else:
        emit(lists, as_json, lambda doc: render_batch(titles, doc))


def read_offers(path: Path) -> tuple[list[str], list[str | None]]:
    """Titles and descriptions of a JSON Lines file, or fail with the line that is wrong."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        fail_both(f"fichier introuvable : {path}", f"file not found: {path}")
    except (OSError, UnicodeDecodeError) as error:
        fail_both(f"lecture impossible de {path} : {error}", f"cannot read {path}: {error}")
    titles: list[str] = []
    descriptions: list[str | None] = []
    for number, line in enumerate(lines, 1):
        title, description = _offer_line(path, number, line)
        titles.append(title)
        descriptions.append(description)
    if not titles:
        fail_both(f"{path} ne contient aucune offre", f"{path} holds no vacancy")
    return titles, descriptions


def _offer_line(path: Path, number: int, line: str) -> tuple[str, str | None]:
    where_fr, where_en = f"{path}, ligne {number}", f"{path}, line {number}"
    try:
        offer = json.loads(line)
    except json.JSONDecodeError as error:
        fail_both(f"JSON invalide ({where_fr}) : {error.msg}", f"malformed JSON ({where_en}): {error.msg}")
    if not isinstance(offer, dict):
        fail_both(f"{where_fr} : un objet JSON est attendu", f"{where_en}: a JSON object is expected")
    title, description = offer.get("title"), offer.get("description")
    if not isinstance(title, str) or not title.strip():
        fail_both(f"{where_fr} : 'title' manquant ou vide", f"{where_en}: 'title' is missing or empty")
    if description is not None and not isinstance(description, str):
        fail_both(f"{where_fr} : 'description' doit être un texte", f"{where_en}: 'description' must be a string")
    return title, description


def render_codes(items: list[dict]) -> str:
    """The codes of one vacancy as a numbered French list."""
    lines = [f"{rank}. {item['label']} ({item['code_rome']})" for rank, item in enumerate(items, 1)]
    return "\n".join(lines) or "Aucun métier trouvé."


def render_batch(titles: list[str], lists: list[list[dict]]) -> str:
    """One block per input line: its title, then its numbered codes."""
    blocks = [f"Ligne {number} : {title}\n{render_codes(items)}"
              for number, (title, items) in enumerate(zip(titles, lists, strict=True), 1)]
    return "\n\n".join(blocks)
