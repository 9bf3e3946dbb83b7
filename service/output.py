"""JSON documents and French text renderings of engine results (the CLI's output edge)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from functools import lru_cache

from service.pseudonym import candidate_ref, pseudonym_initials

TRADE_KEYS = ("code_rome", "label", "score", "reasons", "share_women", "band")
SYNTHETIC_NOTICE = "Données SYNTHÉTIQUES de démonstration : aucun jeune réel."
SECTOR_FAMILY_LABELS = {"artisanat": "artisanat", "commerce": "commerce",
                        "liberal": "profession libérale", "other": "autre secteur"}
"""French words for the ``sector_family`` tokens (the JSON keeps the tokens: a contract)."""


BALANCE_LABELS = {"pool": "à l'image du vivier des candidats", "parity": "parité", "off": "aucun"}
"""French words for the shortlist balance policies (the option and the JSON keep the tokens)."""


def sector_family_label(token: str | None) -> str:
    """French label of a sector family token ("liberal" -> "profession libérale")."""
    return SECTOR_FAMILY_LABELS.get(token or "", "secteur non renseigné")


def trade_dict(trade) -> dict:
    """A trade as JSON: the keys of ``trades search`` first, then what advisers need."""
    data = asdict(trade)
    return {**{k: data[k] for k in TRADE_KEYS}, **{k: v for k, v in data.items() if k not in TRADE_KEYS}}


def vacancy_dict(vacancy) -> dict:
    return asdict(vacancy)


def suggest_document(trades, vacancies, *, synthetic: bool) -> dict:
    """The ``passerelle suggest --json`` document; ``ask_next``: questions (French) to ask a
    youth whose profile is too thin to rank (``notes.trades`` holds ``thin_profile``), else []."""
    return {
        "trades": [trade_dict(t) for t in trades.items],
        "vacancies": [vacancy_dict(v) for v in vacancies.items] if vacancies else [],
        "synthetic": synthetic,
        "policy": {"trades": trades.policy, "vacancies": vacancies.policy if vacancies else None},
        "notes": {"trades": trades.notes, "vacancies": vacancies.notes if vacancies else ["no_vacancies_loaded"]},
        "ask_next": list(getattr(trades, "ask_next", [])),
    }


def suggestions_for(engine, youth, top_k: int, trade_mix, radius_km: float | None = None,
                    features=None, *, ranker=None, log: dict | None = None, exposure=None,
                    exploration: float = 0.0) -> dict:
    """Run the engine for one youth and return the ``passerelle suggest --json`` document.

    ``features``: the youth's ``(vectors, trade_scores)`` when already known (an indexed youth,
    :func:`matching.recommend.updates.indexed_features`); otherwise its texts are encoded once for both
    lists. ``synthetic`` is true when the youth or a suggested vacancy is synthetic. Shared by
    the command line and the API. ``ranker``, ``exposure``: see
    :meth:`~matching.recommend.recommender.Recommender.suggest_vacancies`. ``log``: a dict that
    receives what the suggestion log keeps but the document does not show (``features``: the
    vacancies' feature matrix, ``model_version``, ``propensities``). ``exploration``: the share of
    vacancy lists shown shuffled (:func:`matching.recommend.exploration.maybe_explore`; 0, off).
    """
    vectors, scores = features if features is not None else engine.youth_features([youth])
    trades = engine.suggest_trades([youth], top_k, mix=trade_mix, scores=scores)[0]
    vacancies = None
    if len(engine.vacancies):
        vacancies = engine.suggest_vacancies([youth], top_k, radius_km=radius_km, exposure=exposure,
                                             vectors=vectors, trade_scores=scores, ranker=ranker,
                                             features=log is not None)[0]
        if exploration > 0:
            import numpy as np

            from matching.recommend.exploration import maybe_explore

            vacancies = maybe_explore(vacancies, exploration, np.random.default_rng())
    if log is not None:
        log.update(features=vacancies.features if vacancies else None,
                   model_version=vacancies.model_version if vacancies else None,
                   propensities=vacancies.propensities if vacancies else None)
    table = engine.vacancies
    synthetic = youth.synthetic or any(table.vacancies[table.rows[item.vacancy_id]].synthetic
                                       for item in (vacancies.items if vacancies else ()))
    return add_details(engine, youth, suggest_document(trades, vacancies, synthetic=synthetic))


SKILLS_TO_ACQUIRE = 5
"""Core skills of a card that the youth does not show yet, listed at most."""
CLOSE_TRADES = 3
"""Close trades (the referential's mobility links, in its order) listed per card."""


@lru_cache(maxsize=4)
def _card_links(referential) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Core skill labels and close trade codes of every card, read once per referential."""
    skills = referential.skills
    core = skills[skills["core"].astype(bool)]
    core_skills = {str(code): [str(label) for label in group["label"]]
                   for code, group in core.groupby("code_rome", sort=False)}
    mobility = referential.mobility.sort_values(["code_rome", "order"])
    close = {str(code): [str(target) for target in group["code_rome_target"]]
             for code, group in mobility.groupby("code_rome", sort=False)}
    return core_skills, close


def add_details(engine, youth, document: dict) -> dict:
    """Add what an adviser reads with each item (docs/API.md):

    - a trade's ``skills_shown`` (skills of the card the youth's texts name in the same sense,
      as its reasons cite them), ``skills_to_acquire`` (the card's core skills not shown, up to
      :data:`SKILLS_TO_ACQUIRE`) and ``close_trades`` (``code_rome`` and ``label``);
    - a vacancy's ``beginners_accepted``.
    """
    from matching.recommend.items import TRADE_SKILLS  # the engine's limit: its cached checks

    referential = engine.referential
    core_skills, close = _card_links(referential)
    labels = referential.card_labels
    for trade in document["trades"]:
        code = trade["code_rome"]
        shown = engine.youth_skills(youth, code, TRADE_SKILLS)
        known = {label.casefold() for label in shown}
        trade["skills_shown"] = shown
        trade["skills_to_acquire"] = [label for label in core_skills.get(code, [])
                                      if label.casefold() not in known][:SKILLS_TO_ACQUIRE]
        trade["close_trades"] = [{"code_rome": target, "label": labels[target]}
                                 for target in close.get(code, []) if target in labels][:CLOSE_TRADES]
    table = engine.vacancies
    for item in document["vacancies"]:
        item["beginners_accepted"] = bool(table.vacancies[table.rows[item["vacancy_id"]]].beginners_accepted)
    return document


CARD_SKILLS = 5
"""Matched skills a candidate card lists at most."""
CARD_FIELDS = ("initials", "age", "commune", "skills", "shared")
"""A card before any share: nothing else (no gender, diploma level, free text or id)."""
SHARED_FIELDS = ("gender", "diploma_level", "external_id", "experiences", "interests", "wished_trades")
"""What a card adds once an adviser shared the youth's profile (``shared`` true)."""


def candidates_document(engine, vacancy_id: str, result, *, key: bytes,
                        shared: set[str] | frozenset[str] = frozenset()) -> dict:
    """The ``passerelle candidates --json`` document (the API's shortlist too).

    Each candidate carries its ``candidate_ref`` (keyed hash of vacancy and youth, ``key``:
    :func:`service.pseudonym.pseudonym_key`), never the youth's id, and a card: initials, age,
    commune, skills, ``shared``; plus :data:`SHARED_FIELDS` once the youth's full profile was
    shared (``shared``: ids an adviser shared with the caller or for this vacancy).
    """
    table = engine.vacancies
    vacancy = table.vacancies[table.rows[vacancy_id]]
    youths = engine.youths
    shortlisted = [youths.youths[youths.rows[item.youth_id]] for item in result.items]
    cited = engine.youth_skills_many(shortlisted, vacancy.code_rome, CARD_SKILLS)
    items = []
    for item, youth, skills in zip(result.items, shortlisted, cited, strict=True):
        fields = {k: v for k, v in asdict(item).items() if k != "youth_id"}
        items.append({"candidate_ref": candidate_ref(key, vacancy_id, item.youth_id), **fields,
                      "card": youth_card(youth, key=key, full=item.youth_id in shared, skills=skills)})
    return {
        "vacancy": {"vacancy_id": vacancy.id, "title": vacancy.title, "code_rome": vacancy.code_rome,
                    "employer": {"name": vacancy.employer.name, "sector_family": vacancy.employer.sector_family},
                    "contract": vacancy.contract},
        "candidates": items,
        "policy": result.policy,
        "notes": result.notes,
        "synthetic": vacancy.synthetic,
    }


def youth_card(youth, *, key: bytes, full: bool = False, skills: Sequence[str] = ()) -> dict:
    """A shortlist card: :data:`CARD_FIELDS`, and :data:`SHARED_FIELDS` once shared.

    ``skills``: the skills of the vacancy's ROME card that the youth's texts name in the same
    sense (:meth:`~matching.recommend.recommender.Recommender.youth_skills`; no free text of the
    profile is shown).
    """
    matched = [label.lower() for label in skills]
    card = {"initials": pseudonym_initials(key, youth.id), "age": youth.age,
            "commune": youth.location.name, "skills": matched, "shared": full}
    if full:
        card.update(gender=youth.gender, diploma_level=youth.diploma_level, external_id=youth.external_id,
                    experiences=list(youth.experiences), interests=youth.interests,
                    wished_trades=list(youth.wished_trades))
    return card


def _balance_label(token: str | None) -> str:
    label = BALANCE_LABELS.get(token or "")
    return f"{label} ({token})" if label else str(token or "non précisé")


def _reasons(reasons) -> str:
    return " ; ".join(reasons)


def render_trades(items) -> str:
    """Trades by position, best first: no raw score (scores stay in the JSON, docs/API.md)."""
    lines = []
    for rank, t in enumerate(items, 1):
        lines.append(f"{rank:2d}. {t['code_rome']}  {t['label']}")
        lines.append(f"      {_reasons(t['reasons'])}")
    return "\n".join(lines) or "Aucun métier trouvé."


def render_vacancies(items) -> str:
    """Vacancies by position; the distance in the words of its reason (rounded once)."""
    from matching.recommend.ranking import distance_text  # the engine's import, only when rendering

    lines = []
    for rank, v in enumerate(items, 1):
        family = sector_family_label(v["employer"]["sector_family"])
        lines.append(f"{rank:2d}. {v['title']} — {v['employer']['name']} ({family}), "
                     f"{v['contract']}, {distance_text(v['distance_km'])}  [{v['vacancy_id']}]")
        lines.append(f"      {_reasons(v['reasons'])}")
    return "\n".join(lines) or "Aucune offre dans le rayon."


def render_suggest(document) -> str:
    parts = ["Métiers à découvrir :", render_trades(document["trades"]), "", "Offres proches :",
             render_vacancies(document["vacancies"])]
    if document["synthetic"]:
        parts.append("\n" + SYNTHETIC_NOTICE)
    return "\n".join(parts)


def render_candidates(document) -> str:
    """Candidates by position, each with the vacancy's skills their profile names."""
    v = document["vacancy"]
    lines = [f"Candidats pour « {v['title']} » ({v['employer']['name']}, "
             f"{sector_family_label(v['employer']['sector_family'])}, {v['contract']}) "
             f"— équilibre : {_balance_label(document['policy'].get('balance'))}"]
    for rank, c in enumerate(document["candidates"], 1):
        card = c["card"]
        who = card.get("external_id") or card["initials"]
        age = f"{card['age']} ans" if card["age"] is not None else "âge non renseigné"
        shared = f" (genre : {card['gender'] or 'non renseigné'})" if card["shared"] else ""
        skills = ", ".join(card["skills"]) or "aucune compétence de l'offre citée dans son profil"
        lines.append(f"{rank:2d}. {who}, {age}, {card['commune']}{shared}")
        lines.append(f"      compétences : {skills}")
        lines.append(f"      {_reasons(c['reasons'])}")
    if document["synthetic"]:
        lines.append("\n" + SYNTHETIC_NOTICE)
    return "\n".join(lines)


def render_demo(document) -> str:
    parts = [SYNTHETIC_NOTICE, ""]
    for sample in document["youths"]:
        y = sample["youth"]
        parts.append(f"=== Jeune {y['id']} ({y['age']} ans, {y['commune']}, souhaits : "
                     f"{', '.join(y['wished_trades']) or 'aucun'}) ===")
        parts.append(render_suggest(sample["suggestions"]).replace("\n" + SYNTHETIC_NOTICE, ""))
        parts.append("")
    parts.append(render_candidates(document["candidates"]).replace("\n" + SYNTHETIC_NOTICE, ""))
    parts.append("\n" + SYNTHETIC_NOTICE)
    return "\n".join(parts)
