"""The `passerelle` CLI edge: help with examples, one-line errors with exit code 2, JSON purity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service import cli
from service.config import get_settings

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "youth.json"
COMMANDS = [["demo"], ["trades", "search"], ["suggest"], ["candidates"], ["index", "build"], ["data", "generate"],
            ["batch", "score"], ["batch", "plan-event"], ["serve"], ["purge"], ["users", "create"],
            ["ml", "create"], ["db", "backup"]]


@pytest.fixture()
def runner(monkeypatch, tmp_path):
    monkeypatch.setenv("PASSERELLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PASSERELLE_MODEL", "hashing")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_ending_with_an_example(runner, command):
    result = runner.invoke(cli.app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Example: passerelle" in result.output


def _profile(tmp_path, **change) -> Path:
    data = {**json.loads(EXAMPLE.read_text(encoding="utf-8")), **change}
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("change", "args", "needle"),
    [
        ({"commune_insee": "99999", "postcode": None}, [], "commune_insee"),
        ({"commune_insee": None, "postcode": "00001"}, [], "postcode"),
        ({"commune_insee": "75056", "postcode": "57000"}, [], "postcode"),
        ({"experiences": [], "interests": "", "wished_trades": []}, [], "experiences"),
        ({"mobility_km": 500}, [], "mobility_km"),
        ({"wished_trades": ["X0000"]}, [], "wished_trades"),
        ({"nickname": "Lou"}, [], "nickname"),
        ({}, ["--radius-km", "0"], "radius_km"),
        ({}, ["--radius-km", "250"], "radius_km"),
        ({}, ["--mix", "random"], "mix"),
        ({}, ["--floor", "0.9"], "floor"),
    ],
)
def test_bad_profile_gives_one_line_and_exit_2(runner, tmp_path, change, args, needle):
    result = runner.invoke(cli.app, ["suggest", "--profile", str(_profile(tmp_path, **change)), "--json", *args])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0]


def test_missing_file(runner, tmp_path):
    result = runner.invoke(cli.app, ["suggest", "--profile", str(tmp_path / "nope.json"), "--json"])
    assert result.exit_code == 2 and "introuvable" in result.stderr and result.stdout == ""


def test_malformed_json(runner, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"postcode": "57000",', encoding="utf-8")
    result = runner.invoke(cli.app, ["suggest", "--profile", str(path), "--json"])
    assert result.exit_code == 2 and "JSON" in result.stderr and "ligne 1" in result.stderr


def test_nothing_written_on_bad_input(runner, tmp_path):
    result = runner.invoke(cli.app, ["suggest", "--profile", str(_profile(tmp_path, mobility_km=0)), "--json"])
    assert result.exit_code == 2
    home = tmp_path / "home"
    assert not (home / "demo").exists() and not (home / "indexes").exists()
