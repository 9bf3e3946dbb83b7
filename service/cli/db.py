"""``passerelle db``: migrate the store and back it up.

``db upgrade`` runs Alembic to head; ``db backup FILE`` takes an online SQLite backup (written
to a temporary file, checked, fsynced, then renamed); for PostgreSQL it prints the ``pg_dump``
command to run instead. Registered by :mod:`service.cli.app`.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sqlite3
from contextlib import suppress
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import (
    fail_both,
    migration_failed,
    notice_prefixed,
    store_errors,
    store_label,
)
from service.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

db_app = typer.Typer(help="Base de données du service : migrations, sauvegarde.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade():
    """Migrate the store to the latest revision and print that revision on standard output.

    The store is PASSERELLE_DATABASE_URL, else the SQLite file of the data home (created if
    needed). Running it again changes nothing. Other commands migrate the store too.

    Example: passerelle db upgrade
    """
    from service.store.db import current_revision, make_engine, upgrade

    with store_errors():
        engine = make_engine(get_settings())
        try:
            before = current_revision(engine)
            try:
                upgrade(engine)
            except RuntimeError as error:
                migration_failed(error)
            after = current_revision(engine)
        finally:
            engine.dispose()
    store = store_label()
    if before == after:
        notice_prefixed(f"base déjà à jour ({store})")
    else:
        notice_prefixed(f"base migrée de {before or 'vide'} vers {after} ({store})")
    typer.echo(after)


def pg_dump_command(url: URL, file: Path) -> str:
    """Return the ``pg_dump`` command line that backs up ``url`` into ``file`` (no password)."""
    parts = ["pg_dump", "--format=custom", f"--file={file}"]
    if url.host:
        parts.append(f"--host={url.host}")
    if url.port:
        parts.append(f"--port={url.port}")
    if url.username:
        parts.append(f"--username={url.username}")
    if url.database:
        parts.append(f"--dbname={url.database}")
    return shlex.join(parts)


@db_app.command("backup")
def db_backup(
    file: Annotated[Path, typer.Argument(help="Backup file to write (a SQLite database).")],
    force: Annotated[bool, typer.Option("--force", help="Replace FILE if it already exists.")] = False,
):
    """Back up the SQLite store into FILE while the service runs (PostgreSQL: use pg_dump).

    The copy is consistent (SQLite online backup), checked, and written atomically: FILE is
    either the complete backup or untouched. Restore: stop the service and copy FILE over the
    store (passerelle.sqlite3 in the data home).

    Example: passerelle db backup /var/backups/passerelle-2026-05-01.sqlite3
    """
    from service.store.db import database_url

    with store_errors():
        url = database_url(get_settings())
    backend = url.get_backend_name()
    if backend == "postgresql":
        command = pg_dump_command(url, file)
        fail_both(f"une base PostgreSQL se sauvegarde avec pg_dump : {command} "
              "(mot de passe : variable PGPASSWORD ou fichier ~/.pgpass)",
              f"back up a PostgreSQL store with pg_dump: {command}")
    if backend != "sqlite" or not url.database or url.database == ":memory:":
        fail_both(f"sauvegarde possible seulement pour un fichier SQLite, pas pour {store_label()}",
              f"backup only works for a SQLite file store, not {store_label()}")
    source = Path(url.database).expanduser().resolve()
    target = file.expanduser().resolve()
    if not source.is_file():
        fail_both(f"aucune base à sauvegarder : {source} n'existe pas (lancez `passerelle db upgrade`)",
              f"nothing to back up: {source} does not exist")
    if target == source:
        fail_both("le fichier de sauvegarde est la base elle-même : choisissez un autre fichier",
              "the backup file is the store itself: choose another file")
    if target.is_dir():
        fail_both(f"{target} est un dossier : indiquez un nom de fichier", f"{target} is a folder: give a file name")
    if not target.parent.is_dir():
        fail_both(f"dossier introuvable : {target.parent}", f"folder not found: {target.parent}")
    if target.exists() and not force:
        fail_both(f"{target} existe déjà : ajoutez --force pour le remplacer",
              f"{target} already exists: add --force to replace it")
    revision = backup_sqlite(source, target)
    size = target.stat().st_size / 1e6
    notice_prefixed(f"sauvegarde écrite dans {target} ({size:.1f} Mo, révision {revision or 'aucune'})")


def backup_sqlite(source: Path, target: Path) -> str | None:
    """Copy the SQLite database ``source`` to ``target`` atomically; return its Alembic revision.

    The copy is made with the online backup API into a temporary file next to ``target``, switched
    to a single-file journal, checked (``PRAGMA quick_check``), synced, then renamed over
    ``target``.
    """
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            dst = sqlite3.connect(temporary)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal
                check = dst.execute("PRAGMA quick_check").fetchone()[0]
                if check != "ok":
                    fail_both(f"copie corrompue ({check}) : sauvegarde abandonnée",
                          f"the copy failed its integrity check ({check}): backup abandoned")
                try:
                    revision = dst.execute("SELECT version_num FROM alembic_version").fetchone()
                except sqlite3.OperationalError:
                    revision = None
            finally:
                dst.close()
        finally:
            src.close()
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        _sync_folder(target.parent)
    except sqlite3.Error as error:
        fail_both(f"sauvegarde impossible : {error}", f"backup failed: {error}")
    except OSError as error:
        fail_both(f"écriture impossible de {target} : {error.strerror or error}", f"cannot write {target}: {error}")
    finally:
        for leftover in (temporary, *(Path(f"{temporary}{s}") for s in ("-journal", "-wal", "-shm"))):
            with suppress(FileNotFoundError):
                leftover.unlink()
    return revision[0] if revision else None


def _sync_folder(folder: Path) -> None:
    """Make a rename durable (POSIX); a no-op where folders cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
