"""``/v1/trades``: ROME 4.0 job cards (search by free text, one card with its details)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request

from service import output
from service.api.deps import Caller, state
from service.api.problems import COMMON

router = APIRouter(tags=["trades"], responses=COMMON)


@router.get("/v1/trades/search")
def search_trades(request: Request, _principal: Caller,
                  q: Annotated[str, Query(min_length=1, max_length=500, description="Free text: a trade, a wish, an activity.")],
                  top_k: Annotated[int, Query(ge=1, le=100)] = 10) -> list[dict[str, Any]]:
    """Relevance-only search of ROME cards (no mix policy): ``passerelle trades search``."""
    from matching.errors import InvalidProfile

    if not q.strip():
        raise InvalidProfile("empty text: describe a trade or a wish", field="q",
                             message_fr="texte vide : décrivez un métier ou une envie")
    engine = state(request).live.read(sync=False).recommender  # the ROME model: no write changes it
    return [output.trade_dict(t) for t in engine.search_trades(q, top_k)]


@router.get("/v1/trades/{code_rome}")
def get_trade(request: Request, _principal: Caller,
              code_rome: Annotated[str, Path(pattern=r"^[A-Z][0-9]{4}$")]) -> dict[str, Any]:
    """A ROME card: label, domain, skills, share of women and band, close trades."""
    referential = state(request).workspace.referential()
    card = referential.card(code_rome)  # UnknownRomeCode -> 422
    share = card["share_women"]
    skills = referential.skills[referential.skills["code_rome"] == code_rome]
    close = referential.mobility[referential.mobility["code_rome"] == code_rome].sort_values("order")
    return {
        "code_rome": code_rome, "label": str(card["label"]), "domain": str(card["domaine_label"]),
        "definition": str(card["definition"]), "access": str(card["access"]),
        "share_women": None if share != share else round(float(share), 3),
        "band": referential.band(share),
        "skills": [{"label": str(r.label), "kind": str(r.kind), "core": bool(r.core)}
                   for r in skills.itertuples()],
        "close_trades": [{"code_rome": str(c), "label": str(referential.cards.at[c, "label"])}
                         for c in close["code_rome_target"] if c in referential.cards.index],
        "regulated": bool(card["regulated"]), "transition_eco": bool(card["transition_eco"]),
        "transition_num": bool(card["transition_num"]),
    }
