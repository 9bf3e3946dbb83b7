"""Administration commands: the store (``db``, in :mod:`service.cli_db`), Missions Locales (``ml``), API keys (``users``),
the retention purge (``purge``) and the API server (``serve``).

They work on the store named by ``PASSERELLE_DATABASE_URL`` (default: the SQLite file of the
data home), migrated on first use (:func:`service.store_access.store_sessions`). Register them on
the main application with :func:`register`::

    from service import cli_admin
    cli_admin.register(app)

Conventions are those of :mod:`service.cli`: results on standard output (``--json``: the JSON
document alone), notices on standard error, bad input as one line on standard error with exit
code 2. ``users create`` prints the new key alone on the last line of standard output, once.
Every change made here writes an audit line with role ``cli``.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from service.config import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

# SQLAlchemy and the store are imported inside the commands: `passerelle --help` stays fast.

ml_app = typer.Typer(help="Missions Locales et leur territoire.", no_args_is_help=True)
users_app = typer.Typer(help="Clés d'API des utilisateurs du service.", no_args_is_help=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the JSON document alone on standard output.")]

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
DEPARTEMENT_PATTERN = re.compile(r"\d{2}|2[AB]|97\d")
COMMUNE_PATTERN = re.compile(r"\d{5}|2[AB]\d{3}")
NAME_MAX = LABEL_MAX = 200
PURGE_BATCH = 500


# ----------------------------------------------------------------------------- helpers
def _cli():
    """The main CLI module, imported late: it imports this module to register the commands."""
    from service import cli

    return cli


def _fail(fr: str, en: str) -> NoReturn:
    """One error line ``passerelle: erreur: <fr> (en: <en>)`` on standard error, exit code 2."""
    _cli().fail(f"{fr} (en: {en})")
    raise AssertionError("unreachable")  # pragma: no cover


def _notice(message: str) -> None:
    _cli().notice(f"passerelle: {message}")


def _store_label() -> str:
    """The store's URL for messages (password masked), or a placeholder if it is malformed."""
    from sqlalchemy.exc import SQLAlchemyError

    from service.store_access import display_url

    try:
        return display_url(get_settings())
    except SQLAlchemyError:
        return "PASSERELLE_DATABASE_URL"


@contextmanager
def _store_errors() -> Iterator[None]:
    """Turn an unreachable, malformed or broken store into one error line."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except SQLAlchemyError as error:
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0][:300]
        store = _store_label()
        _fail(f"erreur de la base de données ({store}) : {reason}",
              f"store error ({store}): {reason}; check PASSERELLE_DATABASE_URL")
    except OSError as error:
        _fail(f"base de données inaccessible : {error.strerror or error}",
              f"cannot open the store: {error}")


def _migration_failed(error: RuntimeError) -> NoReturn:
    """Foreign-key violations after migrating (see :func:`service.store.db.upgrade`)."""
    _fail(f"migration impossible : {error}", f"migration failed: {error}")


@contextmanager
def open_store() -> Iterator[sessionmaker[Session]]:
    """Yield the session factory of the migrated store; errors become one line, exit code 2."""
    from service.store_access import store_sessions

    with _store_errors():
        try:
            engine, sessions = store_sessions()
        except RuntimeError as error:
            _migration_failed(error)
        try:
            yield sessions
        finally:
            engine.dispose()


def _split_codes(text: str) -> list[str]:
    """``"57, 54,,2a"`` -> ``["57", "54", "2A"]`` (upper case, duplicates dropped, order kept)."""
    codes = (part.strip().upper() for part in text.split(","))
    return list(dict.fromkeys(code for code in codes if code))


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if moment else ""


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment else None


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Left-aligned columns separated by two spaces."""
    cells = [[str(value) for value in row] for row in [headers, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in cells)


def months_before(moment: datetime, months: int) -> datetime:
    """Return ``moment`` minus ``months`` calendar months (31 March - 1 month = 28/29 February)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)




# ----------------------------------------------------------------------------- ml
def _check_territory(departements: list[str], communes: list[str]) -> None:
    """Fail on an empty territory, a malformed code, or (when the referential loads) an unknown one."""
    if not departements and not communes:
        _fail("territoire vide : indiquez --departements et/ou --communes",
              "empty territory: give --departements and/or --communes")
    for code in departements:
        if not DEPARTEMENT_PATTERN.fullmatch(code):
            _fail(f"code de département mal formé {code!r} : 2 chiffres, 2A, 2B ou 97x (ex. 57, 974)",
                  f"malformed département code {code!r}: 2 digits, 2A, 2B or 97x")
    for code in communes:
        if not COMMUNE_PATTERN.fullmatch(code):
            _fail(f"code commune INSEE mal formé {code!r} : 5 caractères (ex. 57463, 2A004)",
                  f"malformed INSEE commune code {code!r}: 5 characters such as 57463")
    try:
        known = _cli().workspace().referential().communes
    except (OSError, ValueError, ImportError) as error:
        _notice(f"avertissement : référentiel des communes illisible ({error}) ; codes non vérifiés")
        return
    known_departements = set(known["departement"])
    for code in departements:
        if code not in known_departements:
            _fail(f"département inconnu {code!r} (référentiel INSEE)", f"unknown département {code!r}")
    for code in communes:
        if code not in known.index:
            _fail(f"commune inconnue {code!r} (code INSEE, pas le code postal)",
                  f"unknown INSEE commune code {code!r} (not a postcode)")


@ml_app.command("create")
def ml_create(
    code: Annotated[str, typer.Argument(help="Code of the Mission Locale: letters, digits, - and _ (32 at most).")],
    name: Annotated[str, typer.Option(help="Full name, e.g. 'Mission Locale du Pays Messin'.")],
    departements: Annotated[str, typer.Option(help="Comma-separated département codes of the territory.")] = "",
    communes: Annotated[str, typer.Option(help="Comma-separated INSEE commune codes of the territory.")] = "",
):
    """Create a Mission Locale; its territory is départements and/or communes (INSEE codes).

    A youth or a vacancy is in the territory when its commune is listed or lies in a listed
    département.

    Example: passerelle ml create ML-METZ --name "Mission Locale de Metz" --departements 57 --communes 54395
    """
    from service.store.models import MissionLocale
    from service.store.youths import audit, create_mission_locale

    if not CODE_PATTERN.fullmatch(code):
        _fail(f"code mal formé {code!r} : lettres, chiffres, - et _ (32 au plus), ex. ML-METZ",
              f"malformed code {code!r}: letters, digits, - and _ (32 at most)")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        _fail(f"nom vide ou trop long ({NAME_MAX} caractères au plus)", f"empty or too long name (max {NAME_MAX})")
    departement_codes, commune_codes = _split_codes(departements), _split_codes(communes)
    _check_territory(departement_codes, commune_codes)
    with open_store() as sessions, sessions.begin() as session:
        if session.get(MissionLocale, code) is not None:
            _fail(f"la Mission Locale {code} existe déjà (voir `passerelle ml list`)",
                  f"Mission Locale {code} already exists")
        _cli().run_guarded(lambda: create_mission_locale(
            session, code, name, departements=departement_codes, communes=commune_codes))
        audit(session, None, "create", "mission_locale", code, mission_locale=code)
    _notice(f"Mission Locale {code} créée ({len(departement_codes)} département(s), "
            f"{len(commune_codes)} commune(s))")


@ml_app.command("list")
def ml_list(as_json: JsonOpt = False):
    """List the Missions Locales and their territories.

    Example: passerelle ml list --json
    """
    from sqlalchemy import select

    from service.store.models import MissionLocale

    with open_store() as sessions, sessions.begin() as session:
        missions = list(session.scalars(select(MissionLocale).order_by(MissionLocale.code)))
    document = [
        {
            "code": m.code,
            "name": m.name,
            "departements": list(m.territory.get("departements", [])),
            "communes": list(m.territory.get("communes", [])),
            "synthetic": m.synthetic,
            "created_at": _iso(m.created_at),
        }
        for m in missions
    ]
    _cli().emit(document, as_json, _render_missions)


def _render_missions(document: list[dict]) -> str:
    if not document:
        return "Aucune Mission Locale (créez-en une avec `passerelle ml create`)."
    rows = []
    for m in document:
        territory = "; ".join(part for part in (
            f"départements {', '.join(m['departements'])}" if m["departements"] else "",
            f"communes {', '.join(m['communes'])}" if m["communes"] else "",
        ) if part)
        rows.append([m["code"], m["name"] + (" (synthétique)" if m["synthetic"] else ""), territory])
    return _table(["CODE", "NOM", "TERRITOIRE"], rows)


# ----------------------------------------------------------------------------- users
@users_app.command("create")
def users_create(
    role: Annotated[str, typer.Option(help="adviser, employer_relations, batch or admin.")],
    mission_locale: Annotated[str | None, typer.Option(
        help="Code of the key's Mission Locale; required for adviser and employer_relations.")] = None,
    label: Annotated[str | None, typer.Option(help="Who or what holds the key (200 characters at most).")] = None,
):
    """Create an API key and print it alone on the last line of standard output, once.

    Only a hash is stored: copy the key now, it cannot be shown again (revoke it and create
    another if it is lost). Keys of advisers and employer relations see one Mission Locale.

    Example: passerelle users create --role adviser --mission-locale ML-METZ --label "Camille D."
    """
    from service.store.keys import create_api_key
    from service.store.models import ROLES, SCOPED_ROLES, MissionLocale
    from service.store.youths import audit

    if role not in ROLES:
        _fail(f"rôle inconnu {role!r} : {', '.join(ROLES)}", f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role in SCOPED_ROLES and not mission_locale:
        _fail(f"le rôle {role} demande une Mission Locale : ajoutez --mission-locale CODE",
              f"role {role} needs a Mission Locale: add --mission-locale CODE")
    if label is not None:
        label = label.strip() or None
        if label and len(label) > LABEL_MAX:
            _fail(f"libellé trop long ({LABEL_MAX} caractères au plus)", f"label too long (max {LABEL_MAX})")
    with open_store() as sessions, sessions.begin() as session:
        if mission_locale and session.get(MissionLocale, mission_locale) is None:
            _fail(f"Mission Locale inconnue {mission_locale!r} (voir `passerelle ml list`, "
                  "ou créez-la avec `passerelle ml create`)", f"unknown Mission Locale {mission_locale!r}")
        row, clear_key = create_api_key(session, role, mission_locale, label=label)
        audit(session, None, "create", "api_key", str(row.id), mission_locale=mission_locale)
    scope = f", Mission Locale {mission_locale}" if mission_locale else ""
    _notice(f"clé n° {row.id} créée (rôle {role}{scope}). Copiez-la maintenant : "
            "elle ne sera plus jamais affichée.")
    typer.echo(clear_key)


@users_app.command("list")
def users_list(as_json: JsonOpt = False):
    """List the API keys, revoked ones included (never the keys themselves).

    Example: passerelle users list --json
    """
    from service.store.keys import list_api_keys

    with open_store() as sessions, sessions.begin() as session:
        keys = list_api_keys(session)
    document = [
        {
            "id": k.id,
            "prefix": k.prefix,
            "role": k.role,
            "mission_locale": k.mission_locale,
            "label": k.label,
            "created_at": _iso(k.created_at),
            "revoked_at": _iso(k.revoked_at),
        }
        for k in keys
    ]
    _cli().emit(document, as_json, _render_keys)


def _render_keys(document: list[dict]) -> str:
    if not document:
        return "Aucune clé (créez-en une avec `passerelle users create`)."
    rows = [
        [k["id"], k["prefix"] + "…", k["role"], k["mission_locale"] or "", k["label"] or "",
         _when(datetime.fromisoformat(k["created_at"])),
         _when(datetime.fromisoformat(k["revoked_at"])) if k["revoked_at"] else ""]
        for k in document
    ]
    return _table(["ID", "DÉBUT", "RÔLE", "MISSION LOCALE", "LIBELLÉ", "CRÉÉE (UTC)", "RÉVOQUÉE (UTC)"], rows)


@users_app.command("revoke")
def users_revoke(
    key_id: Annotated[int, typer.Argument(metavar="ID", help="Key id (see `passerelle users list`).")],
):
    """Revoke an API key now: it stops working at once. Revoking it again changes nothing.

    Example: passerelle users revoke 3
    """
    from service.store.keys import revoke_api_key
    from service.store.models import ApiKey
    from service.store.youths import audit

    with open_store() as sessions, sessions.begin() as session:
        row = session.get(ApiKey, key_id)
        if row is None:
            _fail(f"clé inconnue : {key_id} (voir `passerelle users list`)", f"unknown key id {key_id}")
        already = row.revoked_at is not None
        if not already:
            revoke_api_key(session, key_id)
            audit(session, None, "revoke", "api_key", str(key_id), mission_locale=row.mission_locale)
    if already:
        _notice(f"clé n° {key_id} déjà révoquée le {_when(row.revoked_at)} UTC")
    else:
        _notice(f"clé n° {key_id} révoquée")


# ----------------------------------------------------------------------------- purge
def purge(
    inactive_months: Annotated[int, typer.Option(
        "--inactive-months", min=1, max=120, help="Erase youths with no activity for this many months (1 to 120).")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only count them; change nothing.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Youths erased per transaction.")] = PURGE_BATCH,
):
    """Erase the youths whose file has had no activity for N months (retention period).

    Each youth goes with its suggestions and outcomes; the indicators keep anonymous counts and
    the audit log keeps its lines under a pseudonym. Batches are committed one by one: an
    interrupted purge can simply be run again. The vector indexes catch up by themselves.

    Example: passerelle purge --inactive-months 24 --dry-run
    """
    from sqlalchemy import func, select

    from service.progress import progress_bars
    from service.store.erasure import erase_youth
    from service.store.errors import UnknownId
    from service.store.models import Youth
    from service.store.youths import inactive_youth_ids

    cutoff = months_before(datetime.now(UTC), inactive_months)
    since = cutoff.strftime("%d/%m/%Y")
    with open_store() as sessions:
        with sessions.begin() as session:
            inactive = select(func.count()).select_from(Youth).where(Youth.last_activity_at < cutoff)
            total = int(session.scalar(inactive) or 0)
        if dry_run:
            _notice("simulation : rien n'a été effacé")
            typer.echo(f"{total} jeune(s) sans activité depuis le {since} seraient effacé(s).")
            return
        erased = 0
        with progress_bars() if total > batch_size else nullcontext(None) as progress:
            while True:
                with sessions.begin() as session:
                    ids = inactive_youth_ids(session, cutoff, limit=batch_size)
                    for youth_id in ids:
                        try:
                            erase_youth(session, youth_id, action="purge")
                        except UnknownId:  # erased meanwhile by someone else
                            continue
                        erased += 1
                if progress:
                    progress("Effacement des jeunes inactifs", erased, max(total, erased))
                if len(ids) < batch_size:
                    break
    typer.echo(f"{erased} jeune(s) sans activité depuis le {since} effacé(s).")


# ----------------------------------------------------------------------------- serve
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
):
    """Run the HTTP API (uvicorn) after migrating the store once.

    Put a TLS reverse proxy in front of it before exposing it beyond this machine.

    Example: passerelle serve --host 0.0.0.0 --port 8000 --workers 4
    """
    try:
        import uvicorn
    except ImportError:
        _fail("uvicorn n'est pas installé : pip install uvicorn", "uvicorn is not installed: pip install uvicorn")
    with open_store():
        pass  # migrations run once here, not in every worker
    _notice(f"API sur http://{host}:{port} ({workers} processus, base {_store_label()})")
    uvicorn.run("service.api.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level="info")


def register(app: typer.Typer) -> None:
    """Add the ``db``, ``ml`` and ``users`` groups and the ``purge`` and ``serve`` commands to ``app``."""
    from service.cli_db import db_app

    app.add_typer(db_app, name="db")
    app.add_typer(ml_app, name="ml")
    app.add_typer(users_app, name="users")
    app.command("purge")(purge)
    app.command("serve")(serve)
