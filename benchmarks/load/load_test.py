"""Load test of the HTTP API: simulated advisers against a local server on synthetic data.

The script prepares a data home (once: synthetic youths and vacancies loaded into its SQLite
store), starts the API in a child process (``passerelle serve``; the first start encodes every
row, later starts reuse the index snapshot), then runs two phases:

1. **steady**: ``--users`` advisers (20), each waiting ``--think`` (1 to 3 s) between requests,
   for ``--duration`` seconds (300). Each request is ``GET /v1/youths/{id}/suggestions`` for a
   random youth of the adviser's Mission Locale, or, ``--write-share`` of the time (10 %), a
   write: ``PATCH /v1/youths/{id}`` (after a ``GET`` of the youth for its version), ``POST
   /v1/youths`` (a new profile), or ``PATCH /v1/vacancies/{id}`` (employer-relations key of the
   same Mission Locale, after a ``GET``). Targets: p50 <= 50 ms, p99 <= 200 ms, no error.
2. **steps**: more advisers with the same think time, ``--step-duration`` seconds (60) per step
   (``--steps``, e.g. ``40,60,80,120``), until a step misses p99 <= 200 ms or has an error; if
   the steady phase already missed it, fewer advisers (``--down-steps``, ``10,5,2,1``) until a
   step holds. The highest request rate of a phase that held the bar is reported.

Advisers use keys of the youths' own Mission Locale (one adviser and one employer-relations key
per Mission Locale, created for the run); the server runs with ``PASSERELLE_RATE_LIMIT=0``.
An error is a transport error or any status other than 2xx. Latency is measured by the client
(request sent to body read), on the same machine as the server: the generator's own CPU time
competes with the server's. Run from the repository root::

    python -m benchmarks.load.load_test --home /tmp/load_home --out benchmarks/out/load_test.json

Small check (minutes): ``--youths 500 --vacancies 2000 --duration 30 --steps 40 --step-duration 20``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from service.config import Settings

SEED = 7
P50_TARGET_MS, P99_TARGET_MS = 50.0, 200.0
ROOT = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- data home
@dataclass
class Plan:
    """What the simulated users work on: per Mission Locale, its keys, youths and vacancies."""

    adviser_keys: dict[str, str]
    er_keys: dict[str, str]
    youths: dict[str, list[str]]
    vacancies: dict[str, list[str]]
    templates: dict[str, list[dict]]  # profiles to post again as new youths

    @property
    def missions(self) -> list[str]:
        return sorted(m for m in self.youths if self.youths[m] and self.vacancies.get(m))


def prepare(home: Path, model: str, n_youths: int, n_vacancies: int) -> tuple[Plan, dict]:
    """Load the synthetic data set into the home's store (once) and create this run's keys."""
    from sqlalchemy import select

    from matching.synthetic import dataset as synthetic
    from service.config import Settings
    from service.store import crud
    from service.store.models import Employer, MissionLocale, Vacancy, Youth
    from service.store.youths import territory_contains
    from service.workspace import Workspace

    workspace = Workspace(Settings(home=home, model=model))
    marker = home / "load_data.json"
    wanted = {"youths": n_youths, "vacancies": n_vacancies, "seed": SEED}
    timings: dict[str, float] = {}
    if not marker.exists() or json.loads(marker.read_text()) != wanted:
        if marker.exists() or workspace.settings.sqlite_path.exists():
            sys.exit(f"{home} holds another data set: use an empty --home for {wanted}")
        start = time.perf_counter()
        log(f"generating {n_youths} youths and {n_vacancies} vacancies (synthetic, seed {SEED})")
        data = synthetic.generate(workspace.referential(), n_youths=n_youths, n_vacancies=n_vacancies, seed=SEED)
        timings["generate_s"] = time.perf_counter() - start
        start = time.perf_counter()
        workspace.load_demo_into_store(data)
        timings["load_into_store_s"] = time.perf_counter() - start
        del data
        marker.write_text(json.dumps(wanted))
    _, sessions, _ = workspace.store()
    plan = Plan({}, {}, {}, {}, {})
    with sessions.begin() as session:
        missions = list(session.scalars(select(MissionLocale)))
        employers = list(session.execute(select(Employer.siret, Employer.commune_insee)))
        for mission in missions:
            plan.adviser_keys[mission.code] = crud.create_api_key(session, "adviser", mission.code,
                                                                  label="load test")[1]
            plan.er_keys[mission.code] = crud.create_api_key(session, "employer_relations", mission.code,
                                                             label="load test")[1]
            plan.youths[mission.code], plan.templates[mission.code] = [], []
            sirets = {s for s, commune in employers if territory_contains(mission.territory, commune)}
            plan.vacancies[mission.code] = list(session.scalars(
                select(Vacancy.id).where(Vacancy.employer_siret.in_(sirets), Vacancy.status == "open")))
        for youth_id, mission, profile in session.execute(select(Youth.id, Youth.mission_locale, Youth.profile)):
            plan.youths[mission].append(youth_id)
            if len(plan.templates[mission]) < 200:
                plan.templates[mission].append({k: v for k, v in profile.items() if k != "id"})
    workspace.store()[0].dispose()
    return plan, timings


# ----------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``passerelle serve`` in a child process (its log in the data home)."""

    def __init__(self, home: Path, model: str, workers: int, snapshot_interval_s: float):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PASSERELLE_HOME": str(home), "PASSERELLE_MODEL": model,
               "PASSERELLE_RATE_LIMIT": "0", "PASSERELLE_SNAPSHOT_INTERVAL_S": str(snapshot_interval_s)}
        env.pop("PASSERELLE_DATABASE_URL", None)
        passerelle = Path(sys.executable).with_name("passerelle")
        command = [str(passerelle), "serve", "--port", str(self.port), "--workers", str(workers)]
        self.log = home / "load-server.log"
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, timeout_s: float) -> float:
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.process.poll() is not None:
                sys.exit(f"the server exited ({self.process.returncode}); see {self.log}")
            try:
                if httpx.get(f"{self.url}/health", timeout=5).status_code == 200:
                    return time.monotonic() - start
            except httpx.TransportError:
                pass
            time.sleep(1.0)
        self.stop()
        sys.exit(f"the server was not ready after {timeout_s:.0f} s; see {self.log}")

    def cpu_s(self) -> float:
        """CPU seconds used so far by the server process and its workers."""
        pids = [self.process.pid]
        try:
            pids += [int(p) for p in Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
                     .read_text().split()]
        except OSError:
            pass
        total = 0.0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            except (OSError, IndexError):
                pass
        return total

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


# ----------------------------------------------------------------------------- load
@dataclass
class Record:
    kind: str
    start: float  # seconds since the phase began
    latency_ms: float
    status: int | str  # HTTP status, or the transport error's type


@dataclass
class Phase:
    name: str
    users: int
    duration_s: float
    records: list[Record] = field(default_factory=list)


async def timed(client: httpx.AsyncClient, phase: Phase, t0: float, kind: str, method: str, url: str,
                key: str, body=None) -> httpx.Response | None:
    start = time.perf_counter()
    try:
        response = await client.request(method, url, json=body, headers={"Authorization": f"Bearer {key}"})
        status: int | str = response.status_code
    except httpx.HTTPError as error:
        response, status = None, type(error).__name__
    phase.records.append(Record(kind, start - t0, 1000 * (time.perf_counter() - start), status))
    return response if response is not None and response.is_success else None


async def adviser(number: int, client: httpx.AsyncClient, plan: Plan, phase: Phase, t0: float,
                  think: tuple[float, float], write_share: float) -> None:
    """One simulated adviser: think, then ask for suggestions or write, until the phase ends."""
    rng = random.Random(f"{phase.name}-{number}")
    mission = plan.missions[number % len(plan.missions)]
    key, er_key = plan.adviser_keys[mission], plan.er_keys[mission]
    youths, vacancies = plan.youths[mission], plan.vacancies[mission]
    end = t0 + phase.duration_s
    await asyncio.sleep(rng.uniform(0, think[1]))  # spread the first requests
    while time.perf_counter() < end:
        draw = rng.random()
        if draw >= write_share:
            await timed(client, phase, t0, "suggestions", "GET",
                        f"/v1/youths/{rng.choice(youths)}/suggestions", key)
        elif draw < write_share * 0.4:
            youth_id = rng.choice(youths)
            read = await timed(client, phase, t0, "read_youth", "GET", f"/v1/youths/{youth_id}", key)
            if read is not None:
                body = {"version": read.json()["version"], "mobility_km": rng.randint(5, 40)}
                await timed(client, phase, t0, "patch_youth", "PATCH", f"/v1/youths/{youth_id}", key, body)
        elif draw < write_share * 0.7:
            profile = {**rng.choice(plan.templates[mission]), "external_id": f"LOAD-{rng.randrange(10**12)}"}
            created = await timed(client, phase, t0, "create_youth", "POST", "/v1/youths", key, profile)
            if created is not None:
                youths.append(created.json()["id"])
        else:
            vacancy_id = rng.choice(vacancies)
            read = await timed(client, phase, t0, "read_vacancy", "GET", f"/v1/vacancies/{vacancy_id}", er_key)
            if read is not None:
                body = {"version": read.json()["version"], "places": rng.randint(1, 5)}
                await timed(client, phase, t0, "patch_vacancy", "PATCH", f"/v1/vacancies/{vacancy_id}",
                            er_key, body)
        await asyncio.sleep(rng.uniform(*think))


async def run_phase(url: str, plan: Plan, phase: Phase, think: tuple[float, float], write_share: float) -> None:
    limits = httpx.Limits(max_connections=phase.users, max_keepalive_connections=phase.users)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(adviser(i, client, plan, phase, t0, think, write_share)
                               for i in range(phase.users)))


def summarise(phase: Phase, cpu_s: float, loadavg: tuple) -> dict:
    """Latency percentiles (all requests and by kind), errors, request rate, server CPU."""
    def stats(records: list[Record]) -> dict:
        latencies = np.array([r.latency_ms for r in records]) if records else np.zeros(1)
        return {"requests": len(records), "p50_ms": round(float(np.percentile(latencies, 50)), 1),
                "p90_ms": round(float(np.percentile(latencies, 90)), 1),
                "p99_ms": round(float(np.percentile(latencies, 99)), 1),
                "max_ms": round(float(latencies.max()), 1)}

    records = phase.records
    errors = [r for r in records if not (isinstance(r.status, int) and 200 <= r.status < 300)]
    by_status: dict[str, int] = {}
    for r in errors:
        by_status[f"{r.kind} {r.status}"] = by_status.get(f"{r.kind} {r.status}", 0) + 1
    summary = {
        "phase": phase.name, "users": phase.users, "duration_s": phase.duration_s, **stats(records),
        "rate_per_s": round(len(records) / phase.duration_s, 2), "errors": len(errors), "error_kinds": by_status,
        "by_kind": {kind: stats([r for r in records if r.kind == kind])
                    for kind in sorted({r.kind for r in records})},
        "server_cpu_s": round(cpu_s, 1),
        "server_cpu_ms_per_request": round(1000 * cpu_s / max(len(records), 1), 1),
        "loadavg_end": [round(x, 2) for x in loadavg],
    }
    summary["held"] = summary["p99_ms"] <= P99_TARGET_MS and not errors
    return summary


def measure(server: Server, plan: Plan, name: str, users: int, duration_s: float,
            think: tuple[float, float], write_share: float, trace: Path | None = None) -> dict:
    phase = Phase(name, users, duration_s)
    gc.collect()
    log(f"{name}: {users} advisers, think {think[0]}-{think[1]} s, {duration_s:.0f} s, load {os.getloadavg()[0]:.2f}")
    cpu0, wall0 = server.cpu_s(), time.time()
    asyncio.run(run_phase(server.url, plan, phase, think, write_share))
    summary = summarise(phase, server.cpu_s() - cpu0, os.getloadavg())
    if trace is not None:
        new = not trace.exists()
        with trace.open("a") as out:
            if new:
                out.write("phase,kind,start_s,clock,latency_ms,status\n")
            out.writelines(f"{name},{r.kind},{r.start:.3f},{wall0 + r.start:.3f},{r.latency_ms:.1f},{r.status}\n"
                           for r in phase.records)
    log(f"{name}: {summary['requests']} requests, {summary['rate_per_s']}/s, p50 {summary['p50_ms']} ms, "
        f"p99 {summary['p99_ms']} ms, errors {summary['errors']}, server CPU "
        f"{summary['server_cpu_ms_per_request']} ms/request")
    return summary


# ----------------------------------------------------------------------------- report
def machine(args) -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = None
    return {"cpu_model": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "commit": commit,
            "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join([Path(sys.executable).name, "-m", "benchmarks.load.load_test", *sys.argv[1:]]),
            "loadavg_start": [round(x, 2) for x in os.getloadavg()]}


def markdown(result: dict) -> str:
    lines = ["| phase | advisers | requests | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | "
             "server CPU ms/req | load avg (end) |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in result["phases"]:
        lines.append(f"| {s['phase']} | {s['users']} | {s['requests']} | {s['rate_per_s']} | {s['p50_ms']} | "
                     f"{s['p90_ms']} | {s['p99_ms']} | {s['max_ms']} | {s['errors']} | "
                     f"{s['server_cpu_ms_per_request']} | {s['loadavg_end'][0]} |")
    steady = result["phases"][0]
    lines += ["", "| kind (steady) | requests | p50 ms | p99 ms | max ms |", "|---|---|---|---|---|"]
    lines += [f"| {kind} | {k['requests']} | {k['p50_ms']} | {k['p99_ms']} | {k['max_ms']} |"
              for kind, k in steady["by_kind"].items()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("/tmp/load_home"), help="data home, kept between runs")
    parser.add_argument("--model", default="use")
    parser.add_argument("--youths", type=int, default=10_000)
    parser.add_argument("--vacancies", type=int, default=50_000)
    parser.add_argument("--users", type=int, default=20, help="advisers of the steady phase")
    parser.add_argument("--think", default="1-3", help="seconds between an adviser's requests, min-max")
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of the steady phase")
    parser.add_argument("--write-share", type=float, default=0.10)
    parser.add_argument("--steps", default="40,60,80,120,160", help="advisers per step ('' : no steps)")
    parser.add_argument("--down-steps", default="10,5,2,1",
                        help="advisers per step when the steady phase misses the bar, until one holds")
    parser.add_argument("--step-duration", type=float, default=60.0)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--snapshot-interval", type=float, default=Settings.snapshot_interval_s,
                        help="server snapshot interval, s (default: the service's)")
    parser.add_argument("--start-timeout", type=float, default=3600.0, help="first start encodes every row")
    parser.add_argument("--prepare-only", action="store_true", help="load the data, start the server once "
                        "(it encodes every row and snapshots the indexes), stop")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out" / "load_test.json")
    parser.add_argument("--trace", type=Path, default=None,
                        help="also write every request (phase, kind, start s, clock time, latency ms, status) as CSV")
    args = parser.parse_args(argv)
    think = tuple(float(x) for x in args.think.split("-"))
    args.home.mkdir(parents=True, exist_ok=True)
    result: dict = {"machine": machine(args), "config": {k: str(v) for k, v in vars(args).items()}}

    start = time.perf_counter()
    plan, timings = prepare(args.home, args.model, args.youths, args.vacancies)
    timings["prepare_s"] = time.perf_counter() - start
    log(f"prepared in {timings['prepare_s']:.0f} s: {sum(map(len, plan.youths.values()))} youths, "
        f"{len(plan.missions)} Missions Locales")
    server = Server(args.home, args.model, args.workers, args.snapshot_interval)
    try:
        timings["server_start_s"] = server.wait_ready(args.start_timeout)
        ready = httpx.get(f"{server.url}/ready", timeout=30).json()
        result["ready"] = ready["index"]
        log(f"server ready in {timings['server_start_s']:.0f} s: {ready['index']}")
        result["timings"] = {k: round(v, 1) for k, v in timings.items()}
        if args.prepare_only:
            (args.home / "load_prepare.json").write_text(json.dumps(result, indent=2))
            return
        measure(server, plan, "warm-up", 4, 10.0, (0.1, 0.3), args.write_share)
        phases = [measure(server, plan, "steady", args.users, args.duration, think, args.write_share,
                          args.trace)]
        # up while the bar holds; if the steady phase already missed it, down until it holds
        steps = args.steps if phases[0]["held"] else args.down_steps
        for users in [int(x) for x in steps.split(",") if x.strip()]:
            phases.append(measure(server, plan, f"step {users}", users, args.step_duration, think,
                                  args.write_share, args.trace))
            if phases[-1]["held"] != phases[0]["held"]:
                break
        result["phases"] = phases
    finally:
        server.stop()
    steady = phases[0]
    held = [p for p in phases if p["held"]]
    result["verdict"] = {
        "steady_p50_ok": steady["p50_ms"] <= P50_TARGET_MS, "steady_p99_ok": steady["p99_ms"] <= P99_TARGET_MS,
        "steady_errors": steady["errors"],
        "highest_rate_held_per_s": max((p["rate_per_s"] for p in held), default=None),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"Command: `{result['machine']['command']}`  \n{result['machine']['date']}, "
          f"{result['machine']['cpu_model']} ({result['machine']['cores']} cores), commit "
          f"{result['machine']['commit']}, load average at start "
          f"{result['machine']['loadavg_start']}; index: {result['ready']['youths']} youths, "
          f"{result['ready']['vacancies']} vacancies; timings {result['timings']}\n")
    print(markdown(result))
    print(f"\nVerdict: {result['verdict']}")


if __name__ == "__main__":
    main()
