"""Crash safety: a real server (uvicorn, another process) killed with SIGKILL in the middle of a
stream of writes loses no acknowledged write, and once restarted its indexes equal the store.
Every create carries an ``Idempotency-Key``: the client retries the create that got no answer
with its key, and the store then holds each create exactly once (nothing lost, nothing doubled).

The server snapshots its indexes every second, so the kill lands after some snapshots and
between others: the restart reuses a snapshot and replays the change log written since. Runs on
SQLite and, when ``PASSERELLE_TEST_POSTGRES_URL`` is set, on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from matching.referential.geo import haversine_km
from service.pseudonym import candidate_ref, pseudonym_key
from service.store.changes import current_generation
from service.store.models import Vacancy, Youth
from service.workspace import model_slug

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "examples" / "youth.json").read_text())
METZ = "57463"
MIN_STREAM_S, MIN_WRITES, MAX_STREAM_S = 3.0, 20, 30.0  # before the kill; a snapshot a second
START_TIMEOUT_S = 60.0
INTERESTS = ["la cuisine et le contact avec les clients", "réparer des vélos et des scooters",
             "m'occuper des enfants", "la logistique, conduire un chariot", "le jardinage et les espaces verts",
             "l'informatique et les jeux vidéo", "la coiffure et l'esthétique", "le bâtiment, la peinture"]
EXPERIENCES = ["Stage en boulangerie : vente au comptoir", "Job d'été en entrepôt : préparation de commandes",
               "Bénévolat dans un club de foot", "Stage en garage automobile", "Babysitting le week-end",
               "Mission d'intérim en restauration collective", "Stage chez un fleuriste"]
TRADES = [("Vendeur en boulangerie", "D1106"), ("Préparateur de commandes", "N1103"),
          ("Mécanicien automobile", "I1604"), ("Aide cuisinier", "G1602"), ("Jardinier", "A1203")]
GONE = (httpx.TransportError,)  # connection refused, reset, or closed while waiting: the kill


# ------------------------------------------------------------------ the server process
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """``uvicorn --factory service.api.app:create_app`` in a child process, on a free port."""

    def __init__(self, env: dict[str, str], log: Path):
        self.env, self.log = env, log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "uvicorn", "--factory", "service.api.app:create_app",
                   "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning"]
        with open(log, "ab") as out:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> float:
        """Poll ``/health`` until it answers 200; return the seconds it took."""
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return time.monotonic() - start
            except GONE:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not answer /health within {timeout_s} s:\n{self.tail()}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


# ------------------------------------------------------------------ the stream of writes
@dataclass
class Ledger:
    """What the server acknowledged (2xx received), and the one write in flight at the kill."""

    youths: dict[str, int] = field(default_factory=dict)  # id -> acknowledged version
    erased: set[str] = field(default_factory=set)
    vacancies: dict[str, int] = field(default_factory=dict)
    deleted_vacancies: set[str] = field(default_factory=set)
    created_youths: list[str] = field(default_factory=list)  # in order
    created_vacancies: list[str] = field(default_factory=list)
    pending: tuple[str, str | None] | None = None  # (operation, id) sent, no answer
    pending_create: tuple[str, dict, dict] | None = None  # (path, headers with the key, body)
    unexpected: list[str] = field(default_factory=list)
    writes: int = 0


class Writer(threading.Thread):
    """Send youth and vacancy writes as fast as the server answers, until it stops answering."""

    def __init__(self, url: str, keys: dict[str, str], communes: list[str], siret: str, seed: int = 7):
        super().__init__(name="writer", daemon=True)
        self.client = httpx.Client(base_url=url, timeout=30)
        self.adviser = {"Authorization": f"Bearer {keys['adviser']}"}
        self.er = {"Authorization": f"Bearer {keys['er']}"}
        self.communes, self.siret = communes, siret
        self.random = random.Random(seed)
        self.ledger = Ledger()

    def run(self) -> None:
        operations = [self.create_youth, self.patch_youth, self.erase_youth, self.create_vacancy,
                      self.patch_vacancy, self.delete_vacancy]
        weights = [35, 20, 10, 15, 15, 5]
        try:
            self.create_youth()
            self.create_vacancy()
            while True:
                self.random.choices(operations, weights)[0]()
        except GONE:
            return  # killed: ledger.pending holds the write that got no answer
        finally:
            self.client.close()

    def send(self, operation: str, object_id: str | None, method: str, path: str, headers, body=None):
        self.ledger.pending = (operation, object_id)
        if method == "POST":  # a create: under a key of its own, for a retry
            headers = {**headers, "Idempotency-Key": f"kill-{self.random.randrange(10**12)}"}
            self.ledger.pending_create = (path, headers, body)
        response = self.client.request(method, path, headers=headers, json=body)
        self.ledger.pending = self.ledger.pending_create = None
        if response.is_success:
            self.ledger.writes += 1
            return response
        self.ledger.unexpected.append(f"{method} {path} -> {response.status_code} {response.text[:300]}")
        return None

    def profile(self) -> dict:
        r = self.random
        data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale", "postcode")}
        return {**data, "external_id": f"KILL-{r.randrange(10**9)}", "commune_insee": r.choice(self.communes),
                "mobility_km": r.randint(25, 40), "age": r.randint(16, 25), "gender": r.choice("FMX"),
                "interests": f"J'aime {r.choice(INTERESTS)}", "experiences": r.sample(EXPERIENCES, 2)}

    def live_youths(self) -> list[str]:
        return [y for y in self.ledger.created_youths if y not in self.ledger.erased]

    def live_vacancies(self) -> list[str]:
        return [v for v in self.ledger.created_vacancies if v not in self.ledger.deleted_vacancies]

    def create_youth(self) -> None:
        response = self.send("create_youth", None, "POST", "/v1/youths", self.adviser, self.profile())
        if response is not None:
            youth = response.json()
            self.ledger.youths[youth["id"]] = youth["version"]
            self.ledger.created_youths.append(youth["id"])

    def patch_youth(self) -> None:
        if not (alive := self.live_youths()):
            return
        youth_id = self.random.choice(alive)
        body = {"version": self.ledger.youths[youth_id], "mobility_km": self.random.randint(25, 40),
                "interests": f"J'aime {self.random.choice(INTERESTS)}"}
        response = self.send("patch_youth", youth_id, "PATCH", f"/v1/youths/{youth_id}", self.adviser, body)
        if response is not None:
            self.ledger.youths[youth_id] = response.json()["version"]

    def erase_youth(self) -> None:
        alive = self.live_youths()
        if len(alive) < 3:
            return
        youth_id = self.random.choice(alive[:-1])
        if self.send("erase_youth", youth_id, "DELETE", f"/v1/youths/{youth_id}", self.adviser) is not None:
            self.ledger.erased.add(youth_id)

    def create_vacancy(self) -> None:
        title, code = self.random.choice(TRADES)
        reference = f"V-KILL-{len(self.ledger.created_vacancies) + 1:04d}-{self.random.randrange(10**6)}"
        body = {"external_id": reference, "employer_siret": self.siret, "title": title, "code_rome": code,
                "description": f"{title} à Metz, débutant accepté", "contract": "apprentissage",
                "commune_insee": METZ}
        response = self.send("create_vacancy", reference, "POST", "/v1/vacancies", self.er, body)
        if response is not None:  # the service assigns the id
            vacancy_id = response.json()["id"]
            self.ledger.vacancies[vacancy_id] = response.json()["version"]
            self.ledger.created_vacancies.append(vacancy_id)

    def patch_vacancy(self) -> None:
        if not (alive := self.live_vacancies()):
            return
        vacancy_id = self.random.choice(alive)
        body = {"version": self.ledger.vacancies[vacancy_id], "places": self.random.randint(1, 5)}
        response = self.send("patch_vacancy", vacancy_id, "PATCH", f"/v1/vacancies/{vacancy_id}", self.er, body)
        if response is not None:
            self.ledger.vacancies[vacancy_id] = response.json()["version"]

    def delete_vacancy(self) -> None:
        alive = self.live_vacancies()
        if len(alive) < 3:
            return
        vacancy_id = self.random.choice(alive[:-1])
        if self.send("delete_vacancy", vacancy_id, "DELETE", f"/v1/vacancies/{vacancy_id}", self.er) is not None:
            self.ledger.deleted_vacancies.add(vacancy_id)


# ------------------------------------------------------------------ the test
def near_metz(referential, km: float = 12.0) -> list[str]:
    """Communes within ``km`` of Metz, so that every youth of the stream reaches a Metz vacancy."""
    communes = referential.communes
    metz = communes.loc[METZ]
    moselle = communes[communes["departement"] == "57"]
    distance = haversine_km(metz["lat"], metz["lon"], moselle["lat"].to_numpy(), moselle["lon"].to_numpy())
    return sorted(moselle.index[distance <= km])


def store_counts(workspace) -> tuple[int, int, int]:
    """``(youths, vacancies, generation)`` as the store has them now."""
    _, _, read_sessions = workspace.store()
    with read_sessions() as session:
        return (session.scalar(select(func.count()).select_from(Youth)),
                session.scalar(select(func.count()).select_from(Vacancy)),
                current_generation(session))


def index_matches_store(url: str, workspace, timeout_s: float = 15.0) -> dict:
    """Wait until ``/ready`` reports the store's counts and generation; return its ``index``."""
    deadline = time.monotonic() + timeout_s
    while True:
        index = httpx.get(f"{url}/ready", timeout=10).json()["index"]
        youths, vacancies, generation = store_counts(workspace)
        seen = (index["youths"], index["vacancies"], index["generation"])
        if seen == (youths, vacancies, generation) or time.monotonic() > deadline:
            assert seen == (youths, vacancies, generation), f"index {index} != store {youths, vacancies, generation}"
            return index
        time.sleep(0.3)


def check_acknowledged(client: httpx.Client, ledger: Ledger, adviser, er) -> None:
    """Every acknowledged write survived; the write in flight at the kill either did or did not."""
    operation, pending_id = ledger.pending or (None, None)
    for youth_id, version in ledger.youths.items():
        response = client.get(f"/v1/youths/{youth_id}", headers=adviser)
        if youth_id in ledger.erased:
            assert response.status_code == 404, f"erased youth {youth_id} is back: {response.text}"
        elif youth_id == pending_id and operation == "erase_youth":
            assert response.status_code == 404 or response.json()["version"] == version
        else:
            assert response.status_code == 200, f"acknowledged youth {youth_id} lost: {response.text}"
            allowed = {version, version + 1} if youth_id == pending_id else {version}
            assert response.json()["version"] in allowed, (youth_id, response.json()["version"], version)
    for vacancy_id, version in ledger.vacancies.items():
        response = client.get(f"/v1/vacancies/{vacancy_id}", headers=er)
        if vacancy_id in ledger.deleted_vacancies:
            assert response.status_code == 404, f"deleted vacancy {vacancy_id} is back: {response.text}"
        elif vacancy_id == pending_id and operation == "delete_vacancy":
            assert response.status_code == 404 or response.json()["version"] == version
        else:
            assert response.status_code == 200, f"acknowledged vacancy {vacancy_id} lost: {response.text}"
            allowed = {version, version + 1} if vacancy_id == pending_id else {version}
            assert response.json()["version"] in allowed, (vacancy_id, response.json()["version"], version)
    if operation == "create_vacancy":  # our reference: there once at version 1, or not at all
        listed = client.get("/v1/vacancies", params={"limit": 1000}, headers=er).json()
        found = [v for v in listed if v["external_id"] == pending_id]
        assert len(found) <= 1 and all(v["version"] == 1 for v in found), found


def retry_unacknowledged_create(client: httpx.Client, ledger: Ledger) -> str | None:
    """Send the create that got no answer again, with its key; return the id it answers."""
    if ledger.pending_create is None:
        return None
    path, headers, body = ledger.pending_create
    response = client.post(path, headers=headers, json=body)
    assert response.status_code == 201, response.text
    created = response.json()
    (ledger.youths if path == "/v1/youths" else ledger.vacancies)[created["id"]] = created["version"]
    assert client.get(f"{path}/{created['id']}", headers=headers).status_code == 200
    return created["id"]


def no_create_doubled(workspace) -> None:
    """Each create of the stream is in the store once at most (by its external id)."""
    _, _, read_sessions = workspace.store()
    with read_sessions() as session:
        for model in (Youth, Vacancy):
            doubled = session.execute(select(model.external_id, func.count()).where(
                model.external_id.like("%KILL-%")).group_by(model.external_id).having(func.count() > 1)).all()
            assert not doubled, f"{model.__tablename__} created twice: {doubled}"


def stream_until_snapshotted(url: str, writer: Writer, *, after: int) -> float:
    """Let the writer run until it has ``MIN_WRITES`` acknowledged and a snapshot was taken
    since generation ``after`` (and at least ``MIN_STREAM_S``); return the seconds it took."""
    start = time.monotonic()
    while True:
        time.sleep(0.5)
        elapsed = time.monotonic() - start
        snapshot = httpx.get(f"{url}/ready", timeout=10).json()["index"]["snapshot_generation"]
        if elapsed >= MIN_STREAM_S and writer.ledger.writes >= MIN_WRITES and snapshot > after:
            return elapsed
        assert writer.is_alive() and not writer.ledger.unexpected, writer.ledger.unexpected
        assert elapsed < MAX_STREAM_S, f"{writer.ledger.writes} writes, snapshot {snapshot} in {elapsed:.0f} s"


def test_sigkill_mid_stream_loses_no_acknowledged_write(loaded_store, tmp_path):
    store, started = loaded_store, time.monotonic()
    env = {**os.environ, "PASSERELLE_HOME": str(store.settings.home), "PASSERELLE_MODEL": "use",
           "PASSERELLE_DATABASE_URL": store.settings.database_url, "PASSERELLE_RATE_LIMIT": "0",
           "PASSERELLE_SNAPSHOT_INTERVAL_S": "1"}
    env.pop("PASSERELLE_CORS_ORIGINS", None)
    adviser = {"Authorization": f"Bearer {store.keys['adviser']}"}
    er = {"Authorization": f"Bearer {store.keys['er']}"}
    log = tmp_path / "server.log"
    server = Server(env, log)
    instance = None
    try:
        first_start = server.wait_healthy()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            ready = client.get("/ready").json()["index"]
            instance = ready["store_instance"]
            siret = next(e["siret"] for e in client.get("/v1/employers", headers=er).json()
                         if e["commune_insee"].startswith("57"))
        writer = Writer(server.url, store.keys, near_metz(store.workspace.referential()), siret)
        writer.start()
        streamed = stream_until_snapshotted(server.url, writer, after=ready["snapshot_generation"])
        server.kill()
        writer.join(timeout=30)
        assert not writer.is_alive()
        ledger = writer.ledger
        assert not ledger.unexpected, ledger.unexpected

        server = Server(env, log)  # the same store, the same data home: snapshot + change log
        restart = server.wait_healthy()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            check_acknowledged(client, ledger, adviser, er)
            retried = retry_unacknowledged_create(client, ledger)
            no_create_doubled(store.workspace)
            index_matches_store(server.url, store.workspace)
            last_youth = writer.live_youths()[-1]
            last_vacancy = writer.live_vacancies()[-1]
            shortlist = client.get(f"/v1/vacancies/{last_vacancy}/candidates",
                                   params={"top_k": 100, "balance": "off"}, headers=er)
            assert shortlist.status_code == 200, shortlist.text
            reference = candidate_ref(pseudonym_key(store.settings), last_vacancy, last_youth)
            assert reference in {c["candidate_ref"] for c in shortlist.json()["candidates"]}
            suggestions = client.get(f"/v1/youths/{last_youth}/suggestions", params={"top_k": 100}, headers=adviser)
            assert suggestions.status_code == 200, suggestions.text
            assert last_vacancy in {v["vacancy_id"] for v in suggestions.json()["vacancies"]}
    finally:
        server.stop()
        if instance:  # this store's index snapshots, in the shared data home
            shutil.rmtree(store.settings.home / "indexes" / model_slug("use") / f"store-{instance}",
                          ignore_errors=True)
    print(f"{store.kind}: {ledger.writes} writes acknowledged in {streamed:.1f} s, in flight at the kill: "
          f"{ledger.pending} (create retried: {retried}); first start {first_start:.1f} s, restart {restart:.1f} s, "
          f"total {time.monotonic() - started:.1f} s")
