"""Engine commands: ``demo``, ``trades search``, ``suggest``, ``candidates``, ``index build``
and ``data generate``, thin wrappers over ``matching`` and the data home.

With ``--json`` standard output carries the JSON document alone; progress bars, notices and
warnings go to standard error. Bad input: one line on standard error, exit code 2
(:mod:`service.cli.common`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from service import output
from service.cli.common import (
    JsonOpt,
    TopK,
    demo_keys,
    emit,
    fail,
    fail_both,
    notice,
    read_json,
    run_guarded,
    run_server,
    workspace,
    workspace_engine,
)
from service.progress import progress_bars

DEMO_HOST = "127.0.0.1"
DEMO_MISSION_LOCALE = "ML-METZ"
"""Where ``demo --serve`` listens, and the Mission Locale of its two keys."""

trades_app = typer.Typer(help="Fiches métier ROME 4.0.", no_args_is_help=True)
index_app = typer.Typer(help="Index vectoriels.", no_args_is_help=True)
data_app = typer.Typer(help="Données (synthétiques) de démonstration.", no_args_is_help=True)


def demo(
    youths: Annotated[int, typer.Option(min=10, max=200_000, help="Synthetic youths on first run.")] = 2000,
    vacancies: Annotated[int, typer.Option(min=10, max=500_000, help="Synthetic vacancies on first run.")] = 5000,
    seed: Annotated[int, typer.Option(help="Seed of the synthetic data.")] = 2026,
    as_json: JsonOpt = False,
    serve: Annotated[bool, typer.Option("--serve", help="Then serve the web pages and the API on "
                                        "the demo data (two demo keys printed), until Ctrl-C.")] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port of --serve.")] = 8000,
):
    """Run the demo: build everything on first run, then print suggestions in French.

    The first run generates synthetic demo data and builds the model and indexes in the data
    home (PASSERELLE_HOME); later runs reuse them. The data are synthetic. With --serve, print
    the address and an adviser's and an employer-relations key of ML-METZ (those of an earlier
    --serve are revoked), then serve the web pages on 127.0.0.1 until Ctrl-C.

    Example: passerelle demo --serve
    """
    from service.demo import run_demo
    from service.pseudonym import pseudonym_key

    ws = workspace()
    with progress_bars() as progress:
        if not ws.has_demo():
            referential = ws.referential()
            ws.generate_demo(referential, youths, vacancies, seed, progress=progress)
        elif not ws.store_has_demo():
            ws.load_demo_into_store(progress=progress)
        engine = ws.engine(progress=progress)
    document = run_guarded(lambda: run_demo(engine, key=pseudonym_key(ws.settings)))
    emit(document, as_json, output.render_demo)
    if serve:
        keys = demo_keys(DEMO_MISSION_LOCALE)
        for line in (f"Adresse : http://{DEMO_HOST}:{port}",
                     f"Clé conseiller ({DEMO_MISSION_LOCALE}) : {keys['adviser']}",
                     f"Clé relations entreprises ({DEMO_MISSION_LOCALE}) : {keys['employer_relations']}"):
            typer.echo(line, err=as_json)  # with --json, standard output keeps the document alone
        run_server(DEMO_HOST, port)


@trades_app.command("search")
def trades_search(
    text: Annotated[str, typer.Argument(help="Free text: a trade, a wish, an activity.")],
    top_k: TopK = 10,
    as_json: JsonOpt = False,
):
    """Search ROME 4.0 job cards by relevance only (no mix policy).

    Example: passerelle trades search "je veux travailler avec du pain" --json
    """
    if not text.strip():
        fail("texte vide : décrivez un métier ou une envie (en: empty text: describe a trade or a wish)")
    engine = workspace_engine()
    items = [output.trade_dict(t) for t in engine.search_trades(text, top_k)]
    emit(items, as_json, output.render_trades)


def suggest(
    profile: Annotated[Path, typer.Option(help="Youth profile JSON (see examples/youth.json).")],
    top_k: TopK = 10,
    radius_km: Annotated[float | None, typer.Option(help="Search radius in km (1 to 200); default: the profile's mobility_km.")] = None,
    mix: Annotated[str, typer.Option(help="Gender-mix policy: balanced, counter_stereotype or off.")] = "balanced",
    floor: Annotated[float, typer.Option(help="balanced: share of the list per gender band.")] = 0.2,
    min_non_traditional: Annotated[int, typer.Option(help="counter_stereotype: cards where the youth's gender is under 40 %.")] = 2,
    max_per_domain: Annotated[int, typer.Option(help="Cards per ROME domain (0: no cap).")] = 3,
    diversity: Annotated[float, typer.Option(help="Maximal-marginal-relevance weight (0: off).")] = 0.2,
    as_json: JsonOpt = False,
):
    """Suggest trades and nearby vacancies for one young person.

    Example: passerelle suggest --profile examples/youth.json --top-k 5 --json
    """
    from matching.fairness.policies import TradeMix
    from matching.profiles import check_mobility, parse_youth

    data = read_json(profile)
    if radius_km is not None:
        run_guarded(lambda: check_mobility(radius_km, field="radius_km"))
    trade_mix = run_guarded(lambda: TradeMix(policy=mix, floor=floor, min_non_traditional=min_non_traditional,
                                             max_per_domain=max_per_domain, diversity=diversity))
    youth, warnings = run_guarded(lambda: parse_youth(data, workspace().referential()))
    engine = workspace_engine()
    for warning in warnings:
        notice(f"passerelle: avertissement: {warning}")
    if not len(engine.vacancies):
        notice("passerelle: aucune offre chargée (lancez `passerelle demo`) ; la liste des offres est vide")
    document = output.suggestions_for(engine, youth, top_k, trade_mix, radius_km)
    emit(document, as_json, output.render_suggest)


def candidates(
    vacancy: Annotated[str, typer.Option(help="Vacancy id (see `passerelle demo`).")],
    top_k: TopK = 10,
    balance: Annotated[str, typer.Option(help="Shortlist balance: pool, parity or off.")] = "pool",
    algorithm: Annotated[str, typer.Option(help="det_relaxed (default), det_cons or det_greedy.")] = "det_relaxed",
    with_qpv: Annotated[bool, typer.Option("--with-qpv", help="Also balance residents of priority neighbourhoods.")] = False,
    as_json: JsonOpt = False,
):
    """Shortlist young people within reach of a vacancy, balanced and explained.

    Cards are those of the API's shortlist before any share: a candidate_ref (keyed with the
    data home's pseudonym key), initials, age, commune, skills; never the youth's id.

    Example: passerelle candidates --vacancy V-000001 --top-k 10 --balance pool --json
    """
    from matching.fairness.policies import Balance
    from service.pseudonym import pseudonym_key

    policy = run_guarded(lambda: Balance(policy=balance, algorithm=algorithm, with_qpv=with_qpv))
    engine = workspace_engine()
    result = run_guarded(lambda: engine.find_candidates([vacancy], top_k, balance=policy))[0]
    document = output.candidates_document(engine, vacancy, result, key=pseudonym_key(workspace().settings))
    emit(document, as_json, output.render_candidates)


@index_app.command("build")
def index_build():
    """Rebuild the trade model and the vector indexes from the store (PASSERELLE_DATABASE_URL).

    Every youth and vacancy of the store is encoded again and a fresh snapshot is written; a
    running server picks it up at its next start (it keeps its own indexes in sync meanwhile).

    Example: passerelle index build
    """
    import shutil

    ws = workspace()
    shutil.rmtree(ws.trades_dir, ignore_errors=True)
    shutil.rmtree(ws.home / "indexes", ignore_errors=True)
    with progress_bars() as progress:
        engine = ws.engine(progress=progress)
    notice(f"passerelle: index reconstruits dans {ws.home} ({len(engine.vacancies)} offres, {len(engine.youths)} jeunes)")


@data_app.command("generate")
def data_generate(
    youths: Annotated[int, typer.Option(min=1, max=2_000_000, help="Number of synthetic youths.")] = 2000,
    vacancies: Annotated[int, typer.Option(min=1, max=2_000_000, help="Number of synthetic vacancies.")] = 5000,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same data).")] = 2026,
    out: Annotated[Path | None, typer.Option(help="Folder to write; default: the demo folder of the data home.")] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the data already there (demo folder and the "
                                                           "store's synthetic rows, or the --out folder).")] = False,
):
    """Generate seeded synthetic youths, employers and vacancies from the real referentials.

    Without --out the data go to the data home's demo folder and into the store, and the indexes
    are rebuilt at once (progress bars on standard error). Data already there are kept unless
    --replace is given: the command then writes nothing and exits with code 2.

    Example: passerelle data generate --youths 2000 --vacancies 5000 --seed 7 --replace
    """
    from matching.synthetic import dataset as synthetic

    ws = workspace()
    target = ws.demo_dir if out is None else out
    if not replace:
        _refuse_to_replace(ws, out)
    with progress_bars() as progress:
        referential = ws.referential()
        if out is None:
            data = ws.generate_demo(referential, youths, vacancies, seed, progress=progress)
            engine = ws.engine(progress=progress)  # now, with bars, not silently at the next command
        else:
            data = synthetic.generate(referential, n_youths=youths, n_vacancies=vacancies, seed=seed)
            synthetic.save(data, out)
    notice(f"passerelle: données SYNTHÉTIQUES écrites dans {target} : {len(data.youths)} jeunes, "
           f"{len(data.employers)} employeurs, {len(data.vacancies)} offres")
    if out is None:
        ws.loaded_engine = engine
        notice(f"passerelle: index reconstruits ({len(engine.vacancies)} offres, {len(engine.youths)} jeunes)")


def _refuse_to_replace(ws, out: Path | None) -> None:
    """Fail (exit 2, nothing written) when the data ``data generate`` would write are already there."""
    if out is not None:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            fail_both(f"{out} existe et n'est pas vide : ajoutez --replace pour le remplacer (rien n'a été écrit)",
                      f"{out} exists and is not empty: add --replace to replace it (nothing was written)")
        return
    if ws.has_demo() or ws.store_has_demo():
        fail_both(f"des données de démonstration existent déjà ({ws.demo_dir} ou la base) : ajoutez --replace "
                  "pour les remplacer (rien n'a été écrit)",
                  f"demo data already exist ({ws.demo_dir} or the store): add --replace to replace them "
                  "(nothing was written)")
