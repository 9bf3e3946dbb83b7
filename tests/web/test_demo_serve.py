"""`passerelle demo --serve`: the demo as before, then exactly three lines (address and two
keys of ML-METZ), then the server. The demo itself is stubbed (its own tests run it): this
checks the wiring, the keys in the store and the revocation of an earlier run's keys."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from typer.testing import CliRunner

from service import cli, demo, output
from service.cli import engine as engine_commands
from service.config import get_settings
from service.store import crud
from service.store.keys import authenticate
from service.store_access import store_sessions


@pytest.fixture()
def runner(monkeypatch, tmp_path):
    monkeypatch.setenv("PASSERELLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PASSERELLE_MODEL", "hashing")
    get_settings.cache_clear()
    engine, sessions = store_sessions()
    with sessions.begin() as session:
        crud.create_mission_locale(session, "ML-METZ", "Mission Locale de Metz", departements=["57"])
    engine.dispose()
    workspace = SimpleNamespace(has_demo=lambda: True, store_has_demo=lambda: True,
                                engine=lambda progress=None: None, settings=get_settings())
    monkeypatch.setattr(engine_commands, "workspace", lambda: workspace)
    monkeypatch.setattr(demo, "run_demo", lambda engine, key: {"demo": True})
    monkeypatch.setattr(output, "render_demo", lambda document: "SORTIE DE LA DÉMO")
    yield CliRunner()
    get_settings.cache_clear()


def _live(lines: list[str]) -> list:
    engine, sessions = store_sessions()
    try:
        with sessions() as session:
            return [authenticate(session, line.split(" : ", 1)[1]) for line in lines]
    finally:
        engine.dispose()


def test_demo_serve_prints_three_lines_then_serves(runner, monkeypatch):
    served = []
    monkeypatch.setattr(engine_commands, "run_server", lambda host, port: served.append((host, port)))
    first = runner.invoke(cli.app, ["demo", "--serve"])
    assert first.exit_code == 0, first.output
    lines = first.stdout.strip().splitlines()
    assert lines[0] == "SORTIE DE LA DÉMO" and len(lines) == 4
    assert lines[1] == "Adresse : http://127.0.0.1:8000"
    assert lines[2].startswith("Clé conseiller (ML-METZ) : psl_")
    assert lines[3].startswith("Clé relations entreprises (ML-METZ) : psl_")
    assert served == [("127.0.0.1", 8000)]
    keys = _live(lines[2:])
    assert [(k.role, k.mission_locale) for k in keys] == [("adviser", "ML-METZ"), ("employer_relations", "ML-METZ")]

    second = runner.invoke(cli.app, ["demo", "--serve", "--port", "8123"])
    assert second.stdout.strip().splitlines()[1] == "Adresse : http://127.0.0.1:8123"
    assert _live(lines[2:]) == [None, None]  # an earlier run's keys are revoked
    assert all(_live(second.stdout.strip().splitlines()[2:]))


def test_demo_without_serve_is_unchanged(runner, monkeypatch):
    monkeypatch.setattr(engine_commands, "run_server", lambda host, port: pytest.fail("served"))
    result = runner.invoke(cli.app, ["demo"])
    assert result.exit_code == 0 and result.stdout.strip() == "SORTIE DE LA DÉMO"


def test_demo_serve_json_keeps_standard_output_for_the_document(runner, monkeypatch):
    monkeypatch.setattr(engine_commands, "run_server", lambda host, port: None)
    result = runner.invoke(cli.app, ["demo", "--serve", "--json"])
    assert result.exit_code == 0 and result.stdout.strip() == '{\n  "demo": true\n}'
    assert "Adresse : http://127.0.0.1:8000" in result.stderr
