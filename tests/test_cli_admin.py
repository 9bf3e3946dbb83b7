"""Administration commands (`db`, `ml`, `users`, `purge`, `serve`) on SQLite and, when
``PASSERELLE_TEST_POSTGRES_URL`` is set, on a fresh schema of that PostgreSQL database."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import typer
from pg_schema import fresh_schema
from sqlalchemy import select, update
from typer.testing import CliRunner

from service.cli import admin as cli_admin
from service.cli import db as cli_db
from service.config import get_settings
from service.store import crud
from service.store.models import AuditLine, IndicatorCount, Youth
from service.store_access import store_sessions

POSTGRES_ENV = "PASSERELLE_TEST_POSTGRES_URL"
HELP = [["db", "upgrade"], ["db", "backup"], ["ml", "create"], ["ml", "list"], ["users", "create"],
        ["users", "list"], ["users", "revoke"], ["purge"], ["serve"]]


def admin_app() -> typer.Typer:
    app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False)
    app.add_typer(cli_db.db_app, name="db")
    app.add_typer(cli_admin.ml_app, name="ml")
    app.add_typer(cli_admin.users_app, name="users")
    app.command("purge")(cli_admin.purge)
    app.command("serve")(cli_admin.serve)
    return app


APP = admin_app()


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request, monkeypatch, tmp_path, referential):
    """A fresh data home; on ``postgresql`` the store is a fresh schema (dropped afterwards)."""
    from service.workspace import Workspace

    monkeypatch.setenv("PASSERELLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PASSERELLE_MODEL", "hashing")
    monkeypatch.delenv("PASSERELLE_DATABASE_URL", raising=False)
    monkeypatch.setattr(Workspace, "referential", lambda self: referential)  # loaded once per session
    with contextlib.ExitStack() as stack:
        if request.param == "postgresql":
            monkeypatch.setenv("PASSERELLE_DATABASE_URL", stack.enter_context(fresh_schema()))
        get_settings.cache_clear()
        yield request.param
        get_settings.cache_clear()


@pytest.fixture
def sqlite_only(backend):
    if backend != "sqlite":
        pytest.skip("SQLite only")
    return backend


def invoke(*args: str):
    return CliRunner().invoke(APP, list(args))


def ok(*args: str):
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
    return result


def one_error_line(result, needle: str) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("passerelle: erreur: ") and "(en: " in lines[0], lines
    assert needle in lines[0], lines[0]


@pytest.fixture
def sessions(backend):
    engine, factory = store_sessions()
    yield factory
    engine.dispose()


@pytest.mark.parametrize("command", HELP, ids=" ".join)
def test_every_admin_command_has_help_ending_with_an_example(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Example: passerelle" in result.output


def test_db_upgrade_is_idempotent(backend):
    from alembic.script import ScriptDirectory

    from service.store.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    first = ok("db", "upgrade")
    assert first.stdout.strip() == head and "migrée" in first.stderr
    second = ok("db", "upgrade")
    assert second.stdout.strip() == head and "déjà à jour" in second.stderr


def test_malformed_database_url(monkeypatch, tmp_path):
    monkeypatch.setenv("PASSERELLE_HOME", str(tmp_path))
    monkeypatch.setenv("PASSERELLE_DATABASE_URL", "nonsense://")
    get_settings.cache_clear()
    try:
        one_error_line(invoke("users", "list"), "PASSERELLE_DATABASE_URL")
    finally:
        get_settings.cache_clear()


def test_ml_create_list_and_duplicate(backend):
    ok("ml", "create", "ML-METZ", "--name", "Mission Locale de Metz", "--departements", "57, 54,57",
       "--communes", "2a004")
    ok("ml", "create", "ML-NANCY", "--name", "Mission Locale de Nancy", "--communes", "54395")
    one_error_line(invoke("ml", "create", "ML-METZ", "--name", "Encore", "--departements", "57"), "existe déjà")
    listed = json.loads(ok("ml", "list", "--json").stdout)
    assert [(m["code"], m["departements"], m["communes"]) for m in listed] == [
        ("ML-METZ", ["57", "54"], ["2A004"]),
        ("ML-NANCY", [], ["54395"]),
    ]
    text_listing = ok("ml", "list").stdout
    assert "ML-METZ" in text_listing and "Mission Locale de Nancy" in text_listing


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["ML-X", "--name", "X"], "territoire vide"),
        (["ML-X", "--name", "X", "--departements", " , "], "territoire vide"),
        (["ML-X", "--name", "X", "--departements", "5"], "département mal formé"),
        (["ML-X", "--name", "X", "--departements", "97"], "département mal formé"),
        (["ML-X", "--name", "X", "--departements", "20"], "département inconnu"),
        (["ML-X", "--name", "X", "--communes", "5746"], "commune INSEE mal formé"),
        (["ML-X", "--name", "X", "--communes", "57000"], "commune inconnue"),
        (["ML X", "--name", "X", "--departements", "57"], "code mal formé"),
        (["ML-X", "--name", " ", "--departements", "57"], "nom vide"),
    ],
)
def test_ml_create_bad_input(sqlite_only, tmp_path, args, needle):
    one_error_line(invoke("ml", "create", *args), needle)
    assert not (tmp_path / "home" / "passerelle.sqlite3").exists()  # checked before the store opens


def test_users_create_prints_the_key_last_and_it_authenticates(backend, sessions):
    ok("ml", "create", "ML-METZ", "--name", "Mission Locale de Metz", "--departements", "57")
    result = ok("users", "create", "--role", "adviser", "--mission-locale", "ML-METZ", "--label", "Camille")
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and lines[-1].startswith("psl_")
    key = lines[-1]
    assert key not in result.stderr and "Copiez-la" in result.stderr
    with sessions.begin() as session:
        row = crud.authenticate(session, key)
        assert row is not None and (row.role, row.mission_locale, row.label) == ("adviser", "ML-METZ", "Camille")
        audit = session.scalars(select(AuditLine).where(AuditLine.object_kind == "api_key")).all()
        assert [(a.action, a.object_id, a.role) for a in audit] == [("create", str(row.id), "cli")]

    admin_key = ok("users", "create", "--role", "admin").stdout.splitlines()[-1]
    listing = ok("users", "list", "--json").stdout
    for secret in (key, admin_key, crud.hash_key(key), crud.hash_key(admin_key)):
        assert secret not in listing
    keys = json.loads(listing)
    assert [(k["role"], k["mission_locale"], k["label"], k["revoked_at"]) for k in keys] == [
        ("adviser", "ML-METZ", "Camille", None),
        ("admin", None, None, None),
    ]
    assert key.startswith(keys[0]["prefix"])
    text_listing = ok("users", "list").stdout
    assert "Camille" in text_listing and key not in text_listing


@pytest.mark.parametrize("role", ["adviser", "employer_relations"])
def test_scoped_roles_need_an_existing_mission_locale(backend, role):
    one_error_line(invoke("users", "create", "--role", role), "--mission-locale")
    one_error_line(invoke("users", "create", "--role", role, "--mission-locale", "ML-NOWHERE"),
                   "Mission Locale inconnue")
    assert json.loads(ok("users", "list", "--json").stdout) == []


def test_unknown_role(backend):
    one_error_line(invoke("users", "create", "--role", "root"), "rôle inconnu")


def test_revoke(backend, sessions):
    key = ok("users", "create", "--role", "batch", "--label", "import nocturne").stdout.splitlines()[-1]
    key_id = json.loads(ok("users", "list", "--json").stdout)[0]["id"]
    assert "révoquée" in ok("users", "revoke", str(key_id)).stderr
    with sessions.begin() as session:
        assert crud.authenticate(session, key) is None
    assert "déjà révoquée" in ok("users", "revoke", str(key_id)).stderr
    assert json.loads(ok("users", "list", "--json").stdout)[0]["revoked_at"] is not None
    one_error_line(invoke("users", "revoke", "999"), "clé inconnue")
    with sessions.begin() as session:
        actions = session.scalars(select(AuditLine.action).where(AuditLine.object_kind == "api_key")).all()
        assert actions == ["create", "revoke"]


def test_db_backup_sqlite(sqlite_only, sessions, tmp_path):
    ok("ml", "create", "ML-METZ", "--name", "Mission Locale de Metz", "--departements", "57")
    ok("users", "create", "--role", "adviser", "--mission-locale", "ML-METZ")
    target = tmp_path / "backup.sqlite3"
    result = ok("db", "backup", str(target))
    assert result.stdout == "" and "sauvegarde écrite" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.sqlite3", "home"]  # no temporary left
    source = sqlite3.connect(tmp_path / "home" / "passerelle.sqlite3")
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        tables = [r[0] for r in source.execute("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")]
        assert {"mission_locales", "api_keys", "audit_log", "alembic_version"} <= set(tables)
        for table in tables:
            query = f"SELECT * FROM {table} ORDER BY 1"
            assert copy.execute(query).fetchall() == source.execute(query).fetchall(), table
        assert copy.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 1
    finally:
        source.close()
        copy.close()

    one_error_line(invoke("db", "backup", str(target)), "--force")
    ok("users", "create", "--role", "admin")
    ok("db", "backup", str(target), "--force")
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("SELECT count(*) FROM api_keys").fetchone()[0] == 2
    finally:
        copy.close()
    one_error_line(invoke("db", "backup", str(tmp_path / "home" / "passerelle.sqlite3"), "--force"), "elle-même")
    one_error_line(invoke("db", "backup", str(tmp_path / "nowhere" / "b.sqlite3")), "dossier introuvable")


def test_db_backup_without_a_store(sqlite_only, tmp_path):
    one_error_line(invoke("db", "backup", str(tmp_path / "b.sqlite3")), "aucune base")


def test_db_backup_postgresql_points_to_pg_dump(monkeypatch, tmp_path):
    monkeypatch.setenv("PASSERELLE_HOME", str(tmp_path))
    monkeypatch.setenv("PASSERELLE_DATABASE_URL", "postgresql+psycopg://svc:s3cr3t@db.example:5433/passerelle")
    get_settings.cache_clear()
    try:
        result = invoke("db", "backup", "/backups/p.dump")
    finally:
        get_settings.cache_clear()
    one_error_line(result, "pg_dump --format=custom --file=/backups/p.dump --host=db.example --port=5433 "
                           "--username=svc --dbname=passerelle")
    assert "s3cr3t" not in result.output and "PGPASSWORD" in result.stderr


def make_youths(sessions, old: list[str], recent: list[str], months: int) -> None:
    """Youths of ML-METZ; ``old`` ones had their last activity ``months`` months and a day ago."""
    with sessions.begin() as session:
        crud.create_mission_locale(session, "ML-METZ", "Mission Locale de Metz", departements=["57"])
        for youth_id in [*old, *recent]:
            youth = crud.create_youth(
                session, {"id": youth_id, "commune_insee": "57463", "gender": "F", "mobility_km": 10},
                mission_locale="ML-METZ")
            crud.audit(session, None, "create", "youth", youth_id)
            crud.add_suggestions(session, youth, [{"item_kind": "trade", "item_id": "D1102", "score": 0.8}],
                                 policy={"mix": "balanced"}, engine_version="test")
        past = datetime.now(UTC) - timedelta(days=31 * months + 1)
        session.execute(update(Youth).where(Youth.id.in_(old)).values(last_activity_at=past))


def test_purge_erases_only_inactive_youths(backend, sessions):
    old = [f"Y-old-{i}" for i in range(5)]
    recent = ["Y-recent-1", "Y-recent-2"]
    make_youths(sessions, old, recent, months=24)

    dry = ok("purge", "--inactive-months", "24", "--dry-run")
    assert dry.stdout.startswith("5 jeune(s)") and "simulation" in dry.stderr
    with sessions.begin() as session:
        assert len(session.scalars(select(Youth.id)).all()) == 7
        assert session.scalars(select(IndicatorCount)).all() == []
    assert ok("purge", "--inactive-months", "36").stdout.startswith("0 jeune(s)")

    result = ok("purge", "--inactive-months", "24", "--batch-size", "2")
    assert result.stdout.strip().splitlines()[-1].startswith("5 jeune(s)")
    with sessions.begin() as session:
        assert sorted(session.scalars(select(Youth.id))) == recent
        lines = session.scalars(select(AuditLine).order_by(AuditLine.id)).all()
        erased = [line for line in lines if line.object_id.startswith("erased-")]
        assert sorted(line.action for line in erased) == ["create"] * 5 + ["purge"] * 5
        assert all(line.role == "cli" and line.actor_key_id is None for line in erased)
        mentioned = {line.object_id for line in lines}
        assert not mentioned & set(old) and set(recent) <= mentioned
        counts = session.scalars(select(IndicatorCount)).all()
        assert sum(c.youths for c in counts) == 5 and sum(c.suggestions for c in counts) == 5
    assert ok("purge", "--inactive-months", "24").stdout.startswith("0 jeune(s)")


@pytest.mark.parametrize("months", ["0", "121"])
def test_purge_months_out_of_range(months):
    result = invoke("purge", "--inactive-months", months)
    assert result.exit_code == 2 and "--inactive-months" in result.output


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime(2026, 3, 31, 12, tzinfo=UTC), 1, datetime(2026, 2, 28, 12, tzinfo=UTC)),
        (datetime(2024, 3, 31, tzinfo=UTC), 1, datetime(2024, 2, 29, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 24, datetime(2024, 1, 15, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), 13, datetime(2024, 12, 15, tzinfo=UTC)),
    ],
)
def test_months_before(moment, months, expected):
    assert cli_admin.months_before(moment, months) == expected
