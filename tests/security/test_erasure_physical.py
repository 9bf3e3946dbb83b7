"""Erasure is physical: after ``DELETE /v1/youths/{id}`` on a running ``passerelle serve``, no
file of the data home (store, ``-wal``, ``-shm``, index snapshots, caches; compressed files
opened) holds the youth's marker text or id, in UTF-8, UTF-16 or UTF-32, nor does the server's
log; the index snapshots no longer hold the youth's key. ``passerelle purge`` likewise.
"""

from __future__ import annotations

import gzip
import io
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import numpy as np
import pyarrow.parquet as pq
from served import MARKER, Serve, marked_profile, small_home
from sqlalchemy import update
from typer.testing import CliRunner

from matching.types import stable_key
from service.config import Settings, get_settings
from service.store import crud
from service.store.models import Youth
from service.workspace import Workspace

ENCODINGS = ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")


def readable(path: Path) -> bytes:
    """The bytes of ``path``, decompressed or decoded when it is gzip, zstd or Parquet."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        return raw + gzip.decompress(raw)
    if raw[:4] == b"\x28\xb5\x2f\xfd":
        import zstandard

        return raw + zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    if raw[:4] == b"PAR1":
        return raw + str(pq.read_table(path).to_pylist()).encode()
    return raw


def traces(home: Path, texts: list[str], extra: list[Path] = ()) -> list[str]:
    """``file: text (encoding)`` for every text found in a file of ``home`` or in ``extra``."""
    found = []
    for path in [p for p in sorted(home.rglob("*")) if p.is_file()] + list(extra):
        content = readable(path)
        for text in texts:
            for encoding in ENCODINGS:
                if text.encode(encoding) in content:
                    found.append(f"{path.relative_to(home) if path.is_relative_to(home) else path}: "
                                 f"{text} ({encoding})")
    return found


def snapshot_keys(home: Path) -> np.ndarray:
    """Every youth key of every index snapshot file of ``home``."""
    files = home.glob("indexes/*/store-*/youths/keys-*.npy")
    return np.concatenate([np.load(f, allow_pickle=False) for f in files] or [np.empty(0, np.int64)])


def store_youth(home, profile: dict) -> str:
    workspace = Workspace(home.settings)
    _, sessions, _ = workspace.store()
    try:
        with sessions.begin() as session:
            return crud.create_youth(session, profile, mission_locale="ML-METZ").id
    finally:
        workspace.store()[0].dispose()


def wait_for(condition, timeout_s: float = 30.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_erased_youth_leaves_no_trace_in_the_data_home_or_the_log(tmp_path, referential_cache_dir, hashing_trades):
    home = small_home(tmp_path / "home", referential_cache_dir, hashing_trades)
    youth_id = store_youth(home, marked_profile())  # indexed, and snapshotted, at the server's start
    server = Serve(home.env(PASSERELLE_SNAPSHOT_INTERVAL_S="3600"), tmp_path / "server.log")
    headers = {"Authorization": f"Bearer {home.adviser_key}"}
    try:
        server.wait_healthy()
        assert stable_key(youth_id) in snapshot_keys(home.path)
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            youth = client.get(f"/v1/youths/{youth_id}").json()
            update = {"version": youth["version"], "interests": f"J'aime la pâtisserie {MARKER}"}
            assert client.patch(f"/v1/youths/{youth_id}", json=update).status_code == 200
            assert client.get(f"/v1/youths/{youth_id}/suggestions").status_code == 200
            assert client.delete(f"/v1/youths/{youth_id}").status_code == 204
            generation = server.ready()["generation"]
            # the snapshot interval is an hour: only the erasure itself can have rewritten it
            wait_for(lambda: server.ready()["snapshot_generation"] >= generation, what="a new snapshot")
            assert stable_key(youth_id) not in snapshot_keys(home.path)
            assert traces(home.path, [MARKER, youth_id], [server.log]) == []  # server still running
    finally:
        server.stop()
    assert traces(home.path, [MARKER, youth_id], [server.log]) == []


def test_purge_leaves_no_trace_in_the_store_or_the_snapshots(tmp_path, referential_cache_dir, hashing_trades,
                                                             monkeypatch):
    from service.cli.app import app

    home = small_home(tmp_path / "home", referential_cache_dir, hashing_trades)
    youth_id = store_youth(home, marked_profile())
    workspace = Workspace(home.settings)
    workspace.live().close()  # the engine's first snapshot holds the youth
    workspace.store()[0].dispose()
    assert stable_key(youth_id) in snapshot_keys(home.path)
    _, sessions, _ = Workspace(home.settings).store()
    with sessions.begin() as session:  # every youth inactive for years
        session.execute(update(Youth).values(last_activity_at=datetime(2020, 1, 1, tzinfo=UTC)))
    sessions.kw["bind"].dispose()
    for name, value in home.env().items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["purge", "--inactive-months", "24"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert stable_key(youth_id) not in snapshot_keys(home.path)
    assert traces(home.path, [MARKER, youth_id]) == []



def test_the_erasure_lists_the_batch_outputs_made_while_the_youth_existed(tmp_path):
    import json

    from sqlalchemy import select

    from service.store.erasure import record_batch_run
    from service.store.models import AuditLine

    workspace = Workspace(Settings(home=tmp_path / "home", model="hashing"))
    _, sessions, _ = workspace.store()

    def run(out, what):
        with sessions.begin() as session:
            record_batch_run(session, out, what=what)

    try:
        with sessions.begin() as session:
            crud.create_mission_locale(session, "ML-METZ", "Mission Locale de Metz", departements=["57"])
        run(tmp_path / "before.parquet", "youths")  # before the youth: not listed
        with sessions.begin() as session:
            youth_id = crud.create_youth(session, {**marked_profile(), "commune_insee": "57463"},
                                         mission_locale="ML-METZ").id
        run(tmp_path / "out" / "youths.parquet", "youths")
        run(tmp_path / "shortlists.parquet", "vacancies")
        with sessions.begin() as session:
            pseudonym = crud.erase_youth(session, youth_id)
        with sessions.begin() as session:
            line = session.scalars(select(AuditLine).where(AuditLine.object_id == pseudonym,
                                                           AuditLine.action == "erase")).one()
        assert json.loads(line.detail) == {"batch_outputs": [str(tmp_path / "shortlists.parquet"),
                                                             str(tmp_path / "out" / "youths.parquet")]}
    finally:
        workspace.store()[0].dispose()
