"""`passerelle batch score`: files in, Parquet out, one-line errors, a killed run resumes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from matching.batch.inputs import read_youths
from matching.errors import PasserelleError
from matching.profiles import youth_to_dict
from service.cli import common as cli_common
from service.cli.batch import batch_app
from service.config import Settings
from service.pseudonym import pseudonym_key

pytestmark = pytest.mark.model
ROOT = Path(__file__).resolve().parents[1]
app = typer.Typer()
app.add_typer(batch_app, name="batch")


@pytest.fixture()
def invoke(engine_home, monkeypatch):
    monkeypatch.setattr(cli_common, "_WORKSPACE", engine_home)
    monkeypatch.setattr(cli_common, "get_settings", lambda: engine_home.settings)

    def run(*args, code=0):
        result = CliRunner().invoke(app, ["batch", "score", *map(str, args)])
        assert result.exit_code == code, result.stderr
        return result

    return run


def _profiles(engine, n):
    return [youth_to_dict(y) for y in engine.youths.youths[:n]]


def _parquet(path, profiles):
    pq.write_table(pa.Table.from_pylist(profiles), path)
    return path


def test_help_ends_with_an_example():
    result = CliRunner().invoke(app, ["batch", "score", "--help"])
    assert result.exit_code == 0 and "Example: passerelle batch score" in result.output


def test_csv_and_parquet_inputs_give_the_same_youths(engine, referential, tmp_path):
    profiles = _profiles(engine, 5)
    columns = sorted({k for p in profiles for k in p})
    lines = [",".join(columns)]
    for p in profiles:
        cells = []
        for name in columns:
            value = p.get(name)
            text = "" if value is None else json.dumps(value, ensure_ascii=False) if isinstance(value, list) \
                else str(value).lower() if isinstance(value, bool) else str(value)
            cells.append('"' + text.replace('"', '""') + '"')
        lines.append(",".join(cells))
    (tmp_path / "y.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    from_csv, _ = read_youths(tmp_path / "y.csv", referential)
    from_parquet, _ = read_youths(_parquet(tmp_path / "y.parquet", profiles), referential)
    assert [dataclass_key(y) for y in from_csv] == [dataclass_key(y) for y in from_parquet]
    assert [y.id for y in from_csv] == [p["id"] for p in profiles]


def dataclass_key(youth):
    return youth.id, youth.location, youth.experiences, youth.contracts, youth.age, youth.qpv, youth.mobility_km


def test_a_bad_row_is_named_with_its_field(engine, referential, tmp_path):
    profiles = _profiles(engine, 3)
    profiles[1]["age"] = 99
    with pytest.raises(PasserelleError) as error:
        read_youths(_parquet(tmp_path / "bad.parquet", profiles), referential)
    assert "ligne 2" in error.value.message_fr and error.value.field == "age"


def test_cli_scores_a_mission_locale_and_explains_errors(invoke, engine_home, tmp_path):
    from matching.batch.inputs import departement_of
    from matching.batch.score import pseudonymise

    engine, key = engine_home.loaded_engine, pseudonym_key(engine_home.settings)
    gueret = {pseudonymise(y.id, key) for y in engine.youths.youths if y.mission_locale == "ML-GUERET"}
    out = tmp_path / "ml.parquet"
    result = invoke("--what", "youths", "--mission-locale", "ML-GUERET", "--top-k", "2", "--workers", "1",
                    "--out", out, "--json")
    summary = json.loads(result.stdout)
    assert summary["queries"] == len(gueret) and summary["rows"] == pq.read_metadata(out).num_rows
    assert summary["encoded"]["youths_reused"] == len(gueret) and summary["encoded"]["texts_this_run"] == 0
    assert "métiers non traditionnels" in result.stderr
    assert set(pq.read_table(out).column("query_id").to_pylist()) == gueret
    source = json.loads(pq.read_schema(out).metadata[b"passerelle"])["source"]
    assert source["store_generation"] == engine_home.engine_generation >= 0  # what the lists reflect
    creuse = {v.id for v in engine.vacancies.vacancies
              if v.status == "open" and departement_of(engine.referential, v.place.commune_insee) == "23"}
    invoke("--what", "vacancies", "--departement", "23", "--mission-locale", "ML-GUERET", "--top-k", "2",
           "--workers", "1", "--out", out)
    table = pq.read_table(out)
    assert set(table.column("query_id").to_pylist()) <= creuse and set(table.column("item_id").to_pylist()) <= gueret
    assert set(table.column("item_kind").to_pylist()) == {"youth"}
    bad = invoke("--what", "trades", "--out", out, code=2)
    assert bad.stdout == "" and len(bad.stderr.strip().splitlines()) == 1 and "youths" in bad.stderr
    assert "ligne" in invoke("--what", "youths", "--input", _bad_csv(tmp_path), "--out", out, code=2).stderr


def _bad_csv(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("id,commune_insee,interests,mobility_km\nA,57463,cuisine,20\nB,57463,vente,900\n", encoding="utf-8")
    return path


def test_key_comes_from_the_settings_or_is_kept_in_the_data_home(tmp_path):
    settings = Settings(home=tmp_path)
    first = pseudonym_key(settings)
    assert pseudonym_key(settings) == first and len(first) == 64
    assert oct((tmp_path / "secrets" / "pseudonym.key").stat().st_mode & 0o777) == "0o600"
    assert pseudonym_key(Settings(home=tmp_path, pseudonym_key="k")) == b"k"


def test_a_killed_run_resumes_to_the_uninterrupted_file(invoke, engine, engine_home, tmp_path):
    youths = _parquet(tmp_path / "youths.parquet", _profiles(engine, 40))
    args = ["--what", "youths", "--input", youths, "--top-k", "3", "--workers", "1", "--chunk-size", "4"]
    whole = tmp_path / "whole.parquet"
    invoke(*args, "--out", whole)
    out = tmp_path / "killed.parquet"
    env = {k: v for k, v in os.environ.items() if k != "PASSERELLE_PSEUDONYM_KEY"}
    env.update(PASSERELLE_HOME=str(engine_home.home), PASSERELLE_MODEL=engine_home.settings.model)
    command = [sys.executable, "-m", "service.cli.batch", "score", *map(str, args), "--out", str(out)]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    parts = tmp_path / "killed.parquet.parts"
    deadline = time.monotonic() + 120
    while not (parts.exists() and any(parts.glob("part-*.parquet"))):  # not a temporary file
        assert process.poll() is None, process.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    process.stderr.close()
    finished = len(list(parts.glob("part-*.parquet")))
    assert not out.exists() and 1 <= finished < 10
    resumed = subprocess.run([*command, "--json"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    summary = json.loads(resumed.stdout)
    assert summary["chunks_skipped"] >= finished and summary["chunks_computed"] == 10 - summary["chunks_skipped"]
    left, right = pq.read_table(whole), pq.read_table(out)
    assert left.column_names == right.column_names and left.equals(right)
    assert left.schema.metadata == right.schema.metadata


def test_write_back_hands_the_file_to_the_store_hook(invoke, monkeypatch, tmp_path):
    import types

    calls = []
    fake = types.ModuleType("service.batch_store")
    fake.write_back = lambda path, **kw: calls.append((path, kw["what"], kw["summary"]["rows"]))
    monkeypatch.setitem(sys.modules, "service.batch_store", fake)
    out = tmp_path / "wb.parquet"
    invoke("--what", "youths", "--departement", "23", "--top-k", "1", "--workers", "1", "--write-back", "--out", out)
    assert calls == [(out, "youths", pq.read_metadata(out).num_rows)]


def test_write_back_records_the_youth_lists_in_the_store(invoke, engine_home, tmp_path):
    from sqlalchemy import func, select

    from service.store.models import AuditLine, Suggestion, Youth

    _, _, read_sessions = engine_home.store()

    def counts():
        with read_sessions() as session:
            recorded = session.scalar(select(func.count()).select_from(Suggestion).join(Youth)
                                      .where(Youth.mission_locale == "ML-GUERET",
                                             Suggestion.engine_version.like("%batch")))
            audited = session.scalar(select(func.count()).where(AuditLine.action == "batch_write_back"))
        return recorded, audited

    before = counts()  # a kept PASSERELLE_TEST_HOME holds earlier runs' records
    out = tmp_path / "back.parquet"
    invoke("--what", "youths", "--mission-locale", "ML-GUERET", "--top-k", "2", "--workers", "1",
           "--write-back", "--out", out)
    rows = pq.read_table(out).num_rows
    after = counts()
    recorded, audited = after[0] - before[0], after[1] - before[1]
    assert recorded == rows and rows > 0
    assert audited >= 1
    with read_sessions() as session:  # logged like a served list (#15): list ids, vacancy features
        logged = session.execute(select(Suggestion.item_kind, Suggestion.list_id, Suggestion.features)
                                 .order_by(Suggestion.id.desc()).limit(rows)).all()
    from matching.learn.features import VACANCY_FEATURES

    vacancy_features = [f for kind, _, f in logged if kind == "vacancy"]
    assert vacancy_features and all(set(f) == set(VACANCY_FEATURES) for f in vacancy_features)
    assert all(list_id and list_id.endswith(":" + kind[0]) for kind, list_id, _ in logged)
