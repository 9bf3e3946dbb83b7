"""Web pages: server time per page and the suggestions page rendered in Chromium (issue #14).

The script serves a data home holding the demo data (``passerelle demo``: 2,000 synthetic youths,
5,000 vacancies, the default model; run once into ``--home`` if its store is empty), signs in as
an adviser and an employer-relations officer of ``ML-METZ`` and an admin (keys created for the
run), then measures two things, each against a baseline measured in the same run:

1. **Server time per page**: ``--repeats`` GETs of each page (a different youth or vacancy each
   time where the page names one), timed by the client over loopback (request sent to body read:
   an upper bound of the server's time), and the server's CPU time per request. Baseline: the
   API JSON endpoint that serves the same data, requested alternately with the page (order
   swapped every other time); the first and the second request of each pair are also reported
   apart (the second finds what the first computed for that youth). Target: p95 <= 150 ms per
   page.
2. **Suggestions page in Chromium**: Debian's Chromium (``--chromium``, default from
   ``scripts/chromium.sh``) opens ``/jeunes/{id}/suggestions`` of ``--renders`` youths; the
   figure is the page's ``performance.now()`` after the load event and two animation frames
   (stylesheets, scripts and layout done, first paint of the whole page), from the navigation
   start. Baseline: the same browser opening the API's JSON of the same youth's suggestions.
   Target: < 1 s.

Run from the repository root::

    python -m benchmarks.web.web_bench --home /tmp/web_bench_home --out benchmarks/out/web_bench.json

Pages answering 404 (not built yet) are listed in ``missing`` and not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

from benchmarks.engine_perf import machine
from benchmarks.load.load_test import Server, log

ROOT = Path(__file__).resolve().parents[2]
ML = "ML-METZ"
PAGE_P95_TARGET_MS, RENDER_TARGET_MS = 150.0, 1000.0
CSRF = re.compile(r'<input[^>]*name="csrf_token"[^>]*value="([^"]+)"|<input[^>]*value="([^"]+)"[^>]*name="csrf_token"')
PAGES: tuple[tuple[str, str, str, str | None], ...] = (
    # (name, key, page path, API path of the same data); {youth} / {vacancy}: a different one each time
    ("jeunes", "adviser", "/jeunes", "/v1/youths"),
    ("jeune", "adviser", "/jeunes/{youth}", "/v1/youths/{youth}"),
    ("jeune_nouveau", "adviser", "/jeunes/nouveau", None),
    ("jeune_modifier", "adviser", "/jeunes/{youth}/modifier", "/v1/youths/{youth}"),
    ("suggestions", "adviser", "/jeunes/{youth}/suggestions", "/v1/youths/{youth}/suggestions"),
    ("offres", "er", "/offres", "/v1/vacancies"),
    ("offre_nouvelle", "er", "/offres/nouvelle", None),
    ("candidats", "er", "/offres/{vacancy}/candidats", "/v1/vacancies/{vacancy}/candidates"),
    ("indicateurs", "admin", "/indicateurs", "/v1/indicators"),
)
RENDER_SCRIPT = ("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(() => done({"
                 "now: performance.now(), nav: performance.getEntriesByType('navigation')[0].toJSON()}))))")


def prepare(home: Path, model: str, sizes: tuple[int, int] | None) -> tuple[dict[str, str], list[str], list[str]]:
    """Load the demo (or ``sizes`` = (youths, vacancies) synthetic rows, seed 7) into ``home``
    if its store is empty; return this run's keys, Metz youths and Metz open vacancies."""
    from sqlalchemy import select

    from matching.synthetic import dataset as synthetic
    from service.config import Settings
    from service.store import crud
    from service.store.models import Employer, MissionLocale, Vacancy, Youth
    from service.store.youths import territory_contains
    from service.workspace import Workspace

    settings = Settings(home=home, model=model)
    workspace = Workspace(settings)
    if not settings.sqlite_path.exists() and sizes:
        data = synthetic.generate(workspace.referential(), n_youths=sizes[0], n_vacancies=sizes[1], seed=7)
        workspace.load_demo_into_store(data)
    elif not settings.sqlite_path.exists():
        log(f"no store in {home}: running `passerelle demo` (minutes the first time)")
        env = {**os.environ, "PASSERELLE_HOME": str(home), "PASSERELLE_MODEL": model}
        env.pop("PASSERELLE_DATABASE_URL", None)
        subprocess.run([str(Path(sys.executable).with_name("passerelle")), "demo"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
    _, sessions, _ = workspace.store()
    with sessions.begin() as session:
        keys = {name: crud.create_api_key(session, role, ml, label="web benchmark")[1]
                for name, role, ml in (("adviser", "adviser", ML), ("er", "employer_relations", ML),
                                       ("admin", "admin", None))}
        territory = session.get(MissionLocale, ML).territory
        sirets = [s for s, commune in session.execute(select(Employer.siret, Employer.commune_insee))
                  if territory_contains(territory, commune)]
        youths = list(session.scalars(select(Youth.id).where(Youth.mission_locale == ML).order_by(Youth.id)))
        vacancies = list(session.scalars(select(Vacancy.id).where(
            Vacancy.employer_siret.in_(sirets), Vacancy.status == "open").order_by(Vacancy.id)))
    workspace.store()[0].dispose()
    return keys, youths, vacancies


def signed_in(url: str, key: str) -> httpx.Client:
    """An HTTP client holding a page session of ``key`` (through the sign-in form)."""
    client = httpx.Client(base_url=url, timeout=60)
    found = CSRF.search(client.get("/connexion").text)
    if not found:
        sys.exit("no csrf_token in /connexion: is the sign-in page built?")
    answer = client.post("/connexion", data={"api_key": key, "csrf_token": found.group(1) or found.group(2)})
    if answer.status_code != 303:
        sys.exit(f"sign-in answered {answer.status_code}")
    return client


def stats(values_ms: list[float]) -> dict:
    values = np.asarray(values_ms)
    return {"n": len(values), "p50_ms": round(float(np.percentile(values, 50)), 1),
            "p95_ms": round(float(np.percentile(values, 95)), 1), "max_ms": round(float(values.max()), 1)}


def timed_get(client: httpx.Client, path: str, **kwargs) -> float:
    start = time.perf_counter()
    answer = client.get(path, **kwargs)
    elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 200:
        raise RuntimeError(f"GET {path} answered {answer.status_code}")
    return elapsed


def page_times(server: Server, keys: dict[str, str], youths: list[str], vacancies: list[str],
               repeats: int, rng: random.Random) -> tuple[dict, list[str]]:
    """Time every page of :data:`PAGES` and its API baseline, ``repeats`` times each."""
    clients = {name: signed_in(server.url, key) for name, key in keys.items()}
    bearer = {name: {"Authorization": f"Bearer {key}"} for name, key in keys.items()}
    results, missing = {}, []
    for name, who, page, api in PAGES:
        if clients[who].get(page.format(youth=youths[0], vacancy=vacancies[0])).status_code == 404:
            missing.append(page)
            continue
        load = os.getloadavg()[0]
        page_ms, api_ms, cpu_before = [], [], server.cpu_s()
        first_ms, second_ms = [], []  # the first and the second request of a pair (same youth or vacancy)
        for number in range(repeats):
            ids = {"youth": rng.choice(youths), "vacancy": rng.choice(vacancies)}
            steps = [(page_ms, page.format(**ids), {})]
            if api:
                steps.append((api_ms, api.format(**ids), {"headers": bearer[who]}))
            for position, (times, path, extra) in enumerate(steps if number % 2 == 0 else steps[::-1]):
                elapsed = timed_get(clients[who], path, **extra)
                times.append(elapsed)
                (first_ms if position == 0 else second_ms).append(elapsed)
        cpu_ms = (server.cpu_s() - cpu_before) * 1000 / (repeats * (2 if api else 1))
        results[name] = {"page": page, "api": api, "page_ms": stats(page_ms),
                         "api_ms": stats(api_ms) if api_ms else None,
                         "p95_ratio_to_api": round(np.percentile(page_ms, 95) / np.percentile(api_ms, 95), 2)
                         if api_ms else None,
                         "server_cpu_ms_per_request_both": round(cpu_ms, 1),
                         "first_of_pair_ms": stats(first_ms) if api_ms else None,
                         "second_of_pair_ms": stats(second_ms) if api_ms else None,
                         "raw_ms": {"page": [round(x, 1) for x in page_ms], "api": [round(x, 1) for x in api_ms]},
                         "meets_target": bool(np.percentile(page_ms, 95) <= PAGE_P95_TARGET_MS),
                         "loadavg": [round(load, 2), round(os.getloadavg()[0], 2)]}
        log(f"{page}: p95 {results[name]['page_ms']['p95_ms']} ms (API {results[name]['api_ms']})")
    return results, missing


def render_times(server: Server, chromium: str, keys: dict[str, str], youths: list[str], renders: int) -> dict:
    """The suggestions page and its API JSON opened in Chromium, alternately, for ``renders`` youths."""
    from playwright.sync_api import sync_playwright

    load = os.getloadavg()[0]
    figures: dict[str, list[dict]] = {"page": [], "api": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        page_context = browser.new_context(base_url=server.url, viewport={"width": 1280, "height": 800})
        page_context.add_cookies([{"name": c.name, "value": c.value, "url": server.url}
                                  for c in signed_in(server.url, keys["adviser"]).cookies.jar])
        api_context = browser.new_context(base_url=server.url, extra_http_headers={
            "Authorization": f"Bearer {keys['adviser']}"})
        tabs = {"page": page_context.new_page(), "api": api_context.new_page()}
        for tab in tabs.values():  # warm: the browser's first navigation starts its processes
            tab.goto(f"/jeunes/{youths[-1]}/suggestions" if tab is tabs["page"] else "/health")
        for number, youth in enumerate(youths[:renders]):
            order = ("page", "api") if number % 2 == 0 else ("api", "page")
            for kind in order:
                path = f"/jeunes/{youth}/suggestions" if kind == "page" else f"/v1/youths/{youth}/suggestions"
                answer = tabs[kind].goto(path, wait_until="load")
                if answer is None or answer.status != 200:
                    raise RuntimeError(f"{path} answered {answer and answer.status}")
                figures[kind].append(tabs[kind].evaluate(RENDER_SCRIPT))
        browser.close()

    def summary(kind: str) -> dict:
        rows = figures[kind]
        return {"rendered": stats([r["now"] for r in rows]),
                "first_byte": stats([r["nav"]["responseStart"] for r in rows]),
                "load_event_end": stats([r["nav"]["loadEventEnd"] for r in rows])}

    page, api = summary("page"), summary("api")
    return {"page": page, "api_json": api,
            "p95_ratio_to_api": round(page["rendered"]["p95_ms"] / api["rendered"]["p95_ms"], 2),
            "meets_target": page["rendered"]["p95_ms"] < RENDER_TARGET_MS,
            "loadavg": [round(load, 2), round(os.getloadavg()[0], 2)]}


def markdown(result: dict) -> str:
    lines = ["| page | p50 ms | p95 ms | API baseline | API p95 ms | p95 ratio | server CPU ms/req | p95 <= 150 ms |",
             "|---|---|---|---|---|---|---|---|"]
    for row in result["pages"].values():
        api = row["api_ms"] or {}
        lines.append(f"| `{row['page']}` | {row['page_ms']['p50_ms']} | {row['page_ms']['p95_ms']} | "
                     f"{'`' + row['api'] + '`' if row['api'] else '-'} | {api.get('p95_ms', '-')} | "
                     f"{row['p95_ratio_to_api'] or '-'} | {row['server_cpu_ms_per_request_both']} | "
                     f"{'yes' if row['meets_target'] else 'no'} |")
    render = result.get("render")
    if render:
        lines += ["", "| Chromium, suggestions | rendered p50 / p95 ms | first byte p95 ms | load event p95 ms |",
                  "|---|---|---|---|"]
        for kind in ("page", "api_json"):
            r = render[kind]
            lines.append(f"| {kind} | {r['rendered']['p50_ms']} / {r['rendered']['p95_ms']} | "
                         f"{r['first_byte']['p95_ms']} | {r['load_event_end']['p95_ms']} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/passerelle-web-bench"))
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "web_bench.json")
    parser.add_argument("--repeats", type=int, default=40, help="GETs of each page (and of its API baseline)")
    parser.add_argument("--renders", type=int, default=20, help="suggestions pages opened in Chromium")
    parser.add_argument("--chromium", default=None, help="Chromium executable (default: scripts/chromium.sh)")
    parser.add_argument("--model", default=os.environ.get("PASSERELLE_MODEL", "use"))
    parser.add_argument("--youths", type=int, default=None,
                        help="with --vacancies: a synthetic store of this size instead of the demo")
    parser.add_argument("--vacancies", type=int, default=None)
    parser.add_argument("--seed", type=int, default=14, help="choice of the youths and vacancies requested")
    args = parser.parse_args(argv)
    chromium = None
    if args.renders:
        chromium = args.chromium or subprocess.run(
            ["bash", str(ROOT / "scripts" / "chromium.sh")], check=True, capture_output=True,
            text=True).stdout.strip().splitlines()[-1]
    args.home.mkdir(parents=True, exist_ok=True)
    sizes = (args.youths, args.vacancies) if args.youths and args.vacancies else None
    keys, youths, vacancies = prepare(args.home, args.model, sizes)
    result: dict = {"machine": {**machine("benchmarks.web.web_bench"), "loadavg_start": os.getloadavg()},
                    "data": {"mission_locale": ML, "youths": len(youths), "vacancies": len(vacancies)}}
    server = Server(args.home, args.model, 1, 3600)
    try:
        result["server_start_s"] = round(server.wait_ready(1800), 1)
        rng = random.Random(args.seed)
        for warm in youths[:3]:  # first requests load templates and lazy state
            signed_in(server.url, keys["adviser"]).get(f"/jeunes/{warm}/suggestions")
        result["pages"], result["missing"] = page_times(server, keys, youths, vacancies, args.repeats, rng)
        if chromium and "/jeunes/{youth}/suggestions" not in result["missing"]:
            result["render"] = render_times(server, chromium, keys, rng.sample(youths, args.renders + 1),
                                            args.renders)
    finally:
        server.stop()
    result["machine"]["loadavg_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(markdown(result))
    if result["missing"]:
        print(f"\nnot built (404): {', '.join(result['missing'])}")


if __name__ == "__main__":
    main()
