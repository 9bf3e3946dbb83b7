"""Helpers shared by every command module of the ``passerelle`` command line.

Conventions: results on standard output (with ``--json``, the JSON document alone), progress and
notices on standard error, bad input as one line ``passerelle: erreur: ...`` on standard error
with exit code 2 (:func:`fail`, :func:`fail_both`, :func:`run_guarded`). The data home's
workspace is opened once per process (:func:`workspace`, :func:`workspace_engine`) and the store
through :func:`open_store`. Command modules import this module and never one another.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from matching.errors import PasserelleError
from service.config import get_settings
from service.progress import progress_bars

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

# SQLAlchemy and the store are imported inside the functions: `passerelle --help` stays fast.

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON document alone on standard output.")]
TopK = Annotated[int, typer.Option("--top-k", min=1, max=100, help="Items per list.")]


def fail(message: str) -> NoReturn:
    """Print one error line on standard error and exit with code 2."""
    typer.echo(f"passerelle: erreur: {message}", err=True)
    raise typer.Exit(2)


def run_guarded(func):
    """Translate domain errors to one line and exit code 2 (the CLI edge)."""
    try:
        return func()
    except PasserelleError as error:
        field = f" [{error.field}]" if error.field else ""
        fail(f"{error.message_fr}{field} (en: {error.message})")


_WORKSPACE = None


def workspace():
    """The data-home workspace of this process (from the environment)."""
    global _WORKSPACE
    from service.workspace import Workspace

    if _WORKSPACE is None or _WORKSPACE.settings != get_settings():
        _WORKSPACE = Workspace(get_settings())
    return _WORKSPACE


def emit(document, as_json: bool, render) -> None:
    """Print the JSON document alone (``--json``) or its French rendering."""
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2) if as_json else render(document))


def notice(message: str) -> None:
    typer.echo(message, err=True)


def workspace_engine():
    """The engine of the data home, loaded once per process (the trade model is fitted on first use)."""
    ws = workspace()
    if ws.loaded_engine is None:
        with progress_bars() as progress:
            ws.loaded_engine = ws.engine(progress=progress)
    return ws.loaded_engine


def read_json(path: Path):
    """Read a JSON file, or fail with one line saying what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"fichier introuvable : {path} (en: file not found: {path})")
    except OSError as error:
        fail(f"lecture impossible de {path} : {error.strerror} (en: cannot read {path})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        fail(f"JSON invalide dans {path}, ligne {error.lineno} colonne {error.colno} : {error.msg} "
             f"(en: malformed JSON in {path} at line {error.lineno}, column {error.colno})")


def fail_both(fr: str, en: str) -> NoReturn:
    """One error line ``passerelle: erreur: <fr> (en: <en>)`` on standard error, exit code 2."""
    fail(f"{fr} (en: {en})")


def notice_prefixed(message: str) -> None:
    """A notice on standard error, prefixed with ``passerelle: ``."""
    notice(f"passerelle: {message}")


def store_label() -> str:
    """The store's URL for messages (password masked), or a placeholder if it is malformed."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.store_access import display_url

    try:
        return display_url(get_settings())
    except SQLAlchemyError:
        return "PASSERELLE_DATABASE_URL"


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn an unreachable, malformed or broken store into one error line."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
        store = store_label()
        fail_both(f"erreur de la base de données ({store}) : {reason}",
              f"store error ({store}): {reason}; check PASSERELLE_DATABASE_URL")
    except OSError as error:
        fail_both(f"base de données inaccessible : {error.strerror or error}",
              f"cannot open the store: {error}")


def migration_failed(error: RuntimeError) -> NoReturn:
    """Foreign-key violations after migrating (see :func:`service.store.db.upgrade`)."""
    fail_both(f"migration impossible : {error}", f"migration failed: {error}")


@contextmanager
def open_store() -> Iterator[sessionmaker[Session]]:
    """Yield the session factory of the migrated store; errors become one line, exit code 2."""
    from service.store_access import store_sessions

    with store_errors():
        try:
            engine, sessions = store_sessions()
        except RuntimeError as error:
            migration_failed(error)
        try:
            yield sessions
        finally:
            engine.dispose()


def split_codes(text: str) -> list[str]:
    """``"57, 54,,2a"`` -> ``["57", "54", "2A"]`` (upper case, duplicates dropped, order kept)."""
    codes = (part.strip().upper() for part in text.split(","))
    return list(dict.fromkeys(code for code in codes if code))


def when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces."""
    cells = [[str(value) for value in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells)


def run_server(host: str, port: int, workers: int = 1) -> None:
    """Migrate the store once, then serve the app (API and web pages) with uvicorn in the
    foreground until Ctrl-C (``passerelle serve``, ``passerelle demo --serve``)."""
    import os

    from service.logs import server_log_config

    try:
        import uvicorn
    except ImportError:
        fail_both("uvicorn n'est pas installé : pip install uvicorn", "uvicorn is not installed: pip install uvicorn")
    with open_store():
        pass  # migrations run once here, not in every worker
    notice_prefixed(f"API sur http://{host}:{port} ({workers} processus, base {store_label()})")
    os.environ["PASSERELLE_WORKERS"] = str(workers)  # read by every worker's settings
    get_settings.cache_clear()
    uvicorn.run("service.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                access_log=False, log_config=server_log_config(get_settings().log_level or "INFO"))


DEMO_KEY_LABEL = "démo --serve"
"""Label of the keys ``passerelle demo --serve`` creates (the previous run's are revoked)."""


def demo_keys(mission_locale: str) -> dict[str, str]:
    """Revoke the keys of an earlier ``demo --serve``, create an adviser and an
    employer-relations key of ``mission_locale``; return them by role (clear, shown once)."""
    from sqlalchemy import select

    from service.store.keys import create_api_key, revoke_api_key
    from service.store.models import ApiKey
    from service.store.youths import audit

    keys = {}
    with open_store() as sessions, sessions.begin() as session:
        for row in session.scalars(select(ApiKey).where(ApiKey.label == DEMO_KEY_LABEL,
                                                        ApiKey.revoked_at.is_(None))):
            revoke_api_key(session, row.id)
        for role in ("adviser", "employer_relations"):
            row, keys[role] = create_api_key(session, role, mission_locale, label=DEMO_KEY_LABEL)
            audit(session, None, "create", "api_key", str(row.id), mission_locale=mission_locale)
    return keys
