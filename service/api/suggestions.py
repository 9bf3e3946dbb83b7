"""Suggestion documents for the API (same document as ``passerelle suggest --json``) and the
suggestion records they leave in the store."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Query

from matching.fairness.policies import TradeMix
from matching.types import CONTRACTS
from service import __version__, output

ATYPICAL_BAND = {"F": "male", "M": "female"}
"""The band of a trade where the gender group is under 40 %: a non-traditional trade for it."""


@dataclasses.dataclass
class SuggestParams:
    """Query parameters of the suggestion routes (the options of ``passerelle suggest``)."""

    top_k: int = Query(10, ge=1, le=100, description="Items per list.")
    radius_km: float | None = Query(None, ge=1, le=200, description="Search radius in km; default: the profile's mobility_km.")
    contracts: list[str] | None = Query(None, description="Contracts to look for (replaces the profile's): " + ", ".join(CONTRACTS))
    mix: str = Query("balanced", pattern="^(balanced|counter_stereotype|off)$", description="Gender-mix policy of the trade list.")
    floor: float = Query(0.2, ge=0, le=1 / 3, description="balanced: share of the list per gender band.")
    min_non_traditional: int = Query(2, ge=0, le=10, description="counter_stereotype: cards where the youth's gender is under 40 %.")
    max_per_domain: int = Query(3, ge=0, le=50, description="Cards per ROME domain (0: no cap).")
    diversity: float = Query(0.2, ge=0, le=1, description="Maximal-marginal-relevance weight (0: off).")

    def trade_mix(self) -> TradeMix:
        return TradeMix(policy=self.mix, floor=self.floor, min_non_traditional=self.min_non_traditional,
                        max_per_domain=self.max_per_domain, diversity=self.diversity)


def default_params(**changes: Any) -> SuggestParams:
    """The route's parameters with their defaults, but for ``changes`` (for callers other than
    FastAPI, whose dataclass defaults are ``Query`` markers, e.g. the web pages)."""
    values = {field.name: getattr(field.default, "default", field.default)
              for field in dataclasses.fields(SuggestParams)}
    return SuggestParams(**{**values, **changes})


def _check_contracts(contracts: list[str] | None) -> None:
    from matching.errors import InvalidProfile

    for contract in contracts or ():
        if contract not in CONTRACTS:
            raise InvalidProfile(f"unknown contract {contract!r}: use {', '.join(CONTRACTS)}",
                                 field="contracts",
                                 message_fr=f"contrat « {contract} » inconnu : utilisez {', '.join(CONTRACTS)}")


def suggest(engine, youth, params: SuggestParams, features=None, *, ranker=None, log: dict | None = None,
            exposure=None, exploration: float = 0.0) -> dict[str, Any]:
    """Compute the suggestion document for one youth (engine held by the caller); ``ranker``,
    ``log``, ``exposure`` and ``exploration`` as in :func:`service.output.suggestions_for`."""
    _check_contracts(params.contracts)
    if params.contracts is not None:
        youth = dataclasses.replace(youth, contracts=tuple(dict.fromkeys(params.contracts)))
    return output.suggestions_for(engine, youth, params.top_k, params.trade_mix(), params.radius_km,
                                  features, ranker=ranker, log=log, exposure=exposure, exploration=exploration)


def engine_version(live, generation: int) -> str:
    """What produced a list: version, model and the generation of the engine state read."""
    return f"passerelle {__version__}; model {live.metadata['model']}; generation {generation}"


def records(engine, youth, document: dict[str, Any], log: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The suggestion rows of a document: trades then vacancies, in list order.

    ``log``: what :func:`suggest` gave for the suggestion log (the vacancies' ``features``); each
    vacancy row then carries its features as ``{name: value}``
    (:data:`matching.learn.features.VACANCY_FEATURES`), each trade row its fused score
    (``{"trade": score}``, the trade searcher's parts are not kept per card).
    """
    from matching.learn.features import as_dicts

    atypical = ATYPICAL_BAND.get(youth.gender or "")
    referential = engine.referential
    matrix = (log or {}).get("features")
    logged = as_dicts(matrix) if matrix is not None else [None] * len(document["vacancies"])
    explored = (log or {}).get("propensities")
    propensities = explored.tolist() if explored is not None else [None] * len(document["vacancies"])
    rows = []
    for trade in document["trades"]:
        rows.append({"item_kind": "trade", "item_id": trade["code_rome"], "score": trade["score"],
                     "non_traditional": None if atypical is None else trade["band"] == atypical,
                     "features": {"trade": float(trade["score"])} if log is not None else None})
    for item, features, propensity in zip(document["vacancies"], logged, propensities, strict=True):
        vacancy = engine.vacancies.vacancies[engine.vacancies.rows[item["vacancy_id"]]]
        band = referential.band(referential.cards.at[vacancy.code_rome, "share_women"])
        rows.append({"item_kind": "vacancy", "item_id": vacancy.id, "score": item["score"],
                     "sector_family": vacancy.employer.sector_family,
                     "employer_siret": vacancy.employer.siret,
                     "non_traditional": None if atypical is None else band == atypical,
                     "features": features, "propensity": propensity})
    return rows


def attach_ids(document: dict[str, Any], stored) -> None:
    """Give each item of ``document`` the id of its suggestion record (for ``POST /v1/outcomes``)."""
    items = [*document["trades"], *document["vacancies"]]
    for item, row in zip(items, stored, strict=True):
        item["suggestion_id"] = row.id
