"""A small data home (hashing model) and a real ``passerelle serve`` on it, for the security tests.

The trade model is fitted once per session with one SVM epoch (``hashing_trades`` in
tests/conftest.py) and copied into each home, with the session's referential cache, so a server starts in a few seconds.
Every profile these tests create carries a marker string that must never reach a log or
survive an erasure in the data home's files.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from matching.synthetic import dataset as synthetic
from service.config import Settings
from service.store import crud
from service.workspace import Workspace, model_slug

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((ROOT / "examples" / "youth.json").read_text())
MARKER = "PASSERELLE-MARKER-Zq7wX"  # the prefix tests/conftest.py looks for in the session's log
START_TIMEOUT_S = 120.0


def marked_profile(marker: str = MARKER) -> dict:
    """The example profile with ``marker`` in its free text (interests, experiences)."""
    data = {k: v for k, v in EXAMPLE.items() if k not in ("available_from", "mission_locale", "postcode")}
    return {**data, "external_id": f"DOSSIER-{marker}", "interests": f"J'aime la cuisine {marker}",
            "experiences": [f"Stage en boulangerie chez {marker}", "Babysitting le week-end"]}


@dataclass
class Home:
    """A data home with a SQLite store, a small synthetic data set and an adviser key."""

    settings: Settings
    adviser_key: str

    @property
    def path(self) -> Path:
        return self.settings.home

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
        return {**env, "PASSERELLE_HOME": str(self.path), "PASSERELLE_MODEL": "hashing",
                "PASSERELLE_RATE_LIMIT": "0", **extra}


def small_home(path: Path, referential_cache: Path, trades: Path, *, n_youths: int = 8,
               n_vacancies: int = 40) -> Home:
    """Make a data home at ``path`` from the session's referential cache and trade model."""
    shutil.copytree(referential_cache, path / "cache" / "referential")
    shutil.copytree(trades, path / "models" / model_slug("hashing") / "trades")
    settings = Settings(home=path, model="hashing")
    workspace = Workspace(settings)
    try:
        data = synthetic.generate(workspace.referential(), n_youths=n_youths, n_vacancies=n_vacancies, seed=3)
        workspace.load_demo_into_store(data)
        _, sessions, _ = workspace.store()
        with sessions.begin() as session:
            _, key = crud.create_api_key(session, "adviser", "ML-METZ", label="security tests")
    finally:
        workspace.store()[0].dispose()
    return Home(settings, key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Serve:
    """``passerelle serve`` (``python -m service.cli serve``) in a child process; stderr to a file."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1):
        self.log, self.port = log, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "service.cli", "serve", "--port", str(self.port),
                   "--workers", str(workers)]
        with open(log, "ab") as err:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)

    def wait_healthy(self, timeout_s: float = START_TIMEOUT_S) -> None:
        start = time.monotonic()
        while time.monotonic() - start < timeout_s:
            if self.process.poll() is not None:
                pytest.fail(f"the server exited with {self.process.returncode}:\n{self.text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        pytest.fail(f"the server did not answer /health within {timeout_s} s:\n{self.text()[-3000:]}")

    def ready(self) -> dict:
        return httpx.get(f"{self.url}/ready", timeout=10).json()["index"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

