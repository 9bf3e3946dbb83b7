"""``/referentiel/communes`` and ``/referentiel/metiers``: autocompletion of the profile form
from the referentials (htmx fills a ``<datalist>`` as the adviser types)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from fastapi import APIRouter, Request
from starlette.responses import Response

from service.web.core.auth import User
from service.web.core.templates import render
from service.web.pages.profile_form import fold

router = APIRouter(include_in_schema=False)

SUGGESTIONS = 10
QUERY_MAX = 80


@lru_cache(maxsize=4)
def _commune_index(referential) -> tuple[np.ndarray, list[str]]:
    communes = referential.communes
    labels = [f"{name} ({code})" for code, name in communes["name"].items()]
    return np.array([fold(str(name)) for name in communes["name"]]), labels


@lru_cache(maxsize=4)
def _trade_index(referential) -> tuple[np.ndarray, list[str]]:
    titles = referential.appellations[["label", "code_rome"]].drop_duplicates()
    cards = referential.cards["label"]
    rows = [(str(label), str(code)) for label, code in titles.itertuples(index=False)]
    rows += [(str(label), str(code)) for code, label in cards.items()]
    return np.array([fold(label) for label, _ in rows]), [f"{label} ({code})" for label, code in rows]


def matches(index: tuple[np.ndarray, list[str]], text: str, limit: int = SUGGESTIONS) -> list[str]:
    """Labels whose folded name starts with ``text``, then those holding it; no duplicates."""
    folded, labels = index
    query = fold(text)[:QUERY_MAX]
    if len(query) < 2:
        return []
    starts = np.flatnonzero(np.char.startswith(folded, query))
    found = list(dict.fromkeys(labels[i] for i in starts[: limit * 3]))
    if len(found) < limit:
        inside = np.flatnonzero(np.char.find(folded, query) > 0)
        found = list(dict.fromkeys([*found, *(labels[i] for i in inside[: limit * 3])]))
    return found[:limit]


def _options(request: Request, labels: list[str]) -> Response:
    return render(request, "lookups/options.html", {"options": labels})


@router.get("/referentiel/communes")
def communes(request: Request, _user: User) -> Response:
    """``<option>``s of the communes whose name starts with (or holds) the typed text."""
    text = request.query_params.get("commune", "")
    return _options(request, matches(_commune_index(request.app.state.workspace.referential()), text))


@router.get("/referentiel/metiers")
def trades(request: Request, _user: User) -> Response:
    """``<option>``s of the ROME titles and cards matching the typed text, with their code."""
    text = request.query_params.get("wished_trades", "")
    return _options(request, matches(_trade_index(request.app.state.workspace.referential()), text))
