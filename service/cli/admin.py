"""Administration commands: Missions Locales (``ml``), API keys (``users``), the retention purge
(``purge``) and the API server (``serve``); the store's own commands are in :mod:`service.cli.db`.

They work on the store named by ``PASSERELLE_DATABASE_URL`` (default: the SQLite file of the
data home), migrated on first use (:func:`service.store_access.store_sessions`).
:mod:`service.cli.app` registers them.

Conventions are those of :mod:`service.cli.common`: results on standard output (``--json``: the JSON
document alone), notices on standard error, bad input as one line on standard error with exit
code 2. ``users create`` prints the new key alone on the last line of standard output, once.
Every change made here writes an audit line with role ``cli``.
"""

from __future__ import annotations

import calendar
import re
from contextlib import nullcontext
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from service.cli.common import (
    JsonOpt,
    emit,
    fail_both,
    iso,
    notice_prefixed,
    open_store,
    run_guarded,
    run_server,
    split_codes,
    table,
    when,
    workspace,
)

if TYPE_CHECKING:
    pass

# SQLAlchemy and the store are imported inside the commands: `passerelle --help` stays fast.

ml_app = typer.Typer(help="Missions Locales et leur territoire.", no_args_is_help=True)
users_app = typer.Typer(help="Clés d'API des utilisateurs du service.", no_args_is_help=True)

CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
DEPARTEMENT_PATTERN = re.compile(r"(?!97)\d{2}|2[AB]|97\d")  # "97" alone is no département
COMMUNE_PATTERN = re.compile(r"\d{5}|2[AB]\d{3}")
NAME_MAX = LABEL_MAX = 200
PURGE_BATCH = 500


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
        fail_both("territoire vide : indiquez --departements et/ou --communes",
              "empty territory: give --departements and/or --communes")
    for code in departements:
        if not DEPARTEMENT_PATTERN.fullmatch(code):
            fail_both(f"code de département mal formé {code!r} : 2 chiffres, 2A, 2B ou 97x (ex. 57, 974)",
                  f"malformed département code {code!r}: 2 digits, 2A, 2B or 97x")
    for code in communes:
        if not COMMUNE_PATTERN.fullmatch(code):
            fail_both(f"code commune INSEE mal formé {code!r} : 5 caractères (ex. 57463, 2A004)",
                  f"malformed INSEE commune code {code!r}: 5 characters such as 57463")
    try:
        known = workspace().referential().communes
    except (OSError, ValueError, ImportError) as error:
        notice_prefixed(f"avertissement : référentiel des communes illisible ({error}) ; codes non vérifiés")
        return
    known_departements = set(known["departement"])
    for code in departements:
        if code not in known_departements:
            fail_both(f"département inconnu {code!r} (référentiel INSEE)", f"unknown département {code!r}")
    for code in communes:
        if code not in known.index:
            fail_both(f"commune inconnue {code!r} (code INSEE, pas le code postal)",
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
        fail_both(f"code mal formé {code!r} : lettres, chiffres, - et _ (32 au plus), ex. ML-METZ",
              f"malformed code {code!r}: letters, digits, - and _ (32 at most)")
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        fail_both(f"nom vide ou trop long ({NAME_MAX} caractères au plus)", f"empty or too long name (max {NAME_MAX})")
    departement_codes, commune_codes = split_codes(departements), split_codes(communes)
    _check_territory(departement_codes, commune_codes)
    with open_store() as sessions, sessions.begin() as session:
        if session.get(MissionLocale, code) is not None:
            fail_both(f"la Mission Locale {code} existe déjà (voir `passerelle ml list`)",
                  f"Mission Locale {code} already exists")
        run_guarded(lambda: create_mission_locale(
            session, code, name, departements=departement_codes, communes=commune_codes))
        audit(session, None, "create", "mission_locale", code, mission_locale=code)
    notice_prefixed(f"Mission Locale {code} créée ({len(departement_codes)} département(s), "
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
            "created_at": iso(m.created_at),
        }
        for m in missions
    ]
    emit(document, as_json, _render_missions)


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
    return table(["CODE", "NOM", "TERRITOIRE"], rows)


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
        fail_both(f"rôle inconnu {role!r} : {', '.join(ROLES)}", f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    if role in SCOPED_ROLES and not mission_locale:
        fail_both(f"le rôle {role} demande une Mission Locale : ajoutez --mission-locale CODE",
              f"role {role} needs a Mission Locale: add --mission-locale CODE")
    if label is not None:
        label = label.strip() or None
        if label and len(label) > LABEL_MAX:
            fail_both(f"libellé trop long ({LABEL_MAX} caractères au plus)", f"label too long (max {LABEL_MAX})")
    with open_store() as sessions, sessions.begin() as session:
        if mission_locale and session.get(MissionLocale, mission_locale) is None:
            fail_both(f"Mission Locale inconnue {mission_locale!r} (voir `passerelle ml list`, "
                  "ou créez-la avec `passerelle ml create`)", f"unknown Mission Locale {mission_locale!r}")
        row, clear_key = create_api_key(session, role, mission_locale, label=label)
        audit(session, None, "create", "api_key", str(row.id), mission_locale=mission_locale)
    scope = f", Mission Locale {mission_locale}" if mission_locale else ""
    notice_prefixed(f"clé n° {row.id} créée (rôle {role}{scope}). Copiez-la maintenant : "
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
            "created_at": iso(k.created_at),
            "revoked_at": iso(k.revoked_at),
        }
        for k in keys
    ]
    emit(document, as_json, _render_keys)


def _render_keys(document: list[dict]) -> str:
    if not document:
        return "Aucune clé (créez-en une avec `passerelle users create`)."
    rows = [
        [k["id"], k["prefix"] + "…", k["role"], k["mission_locale"] or "", k["label"] or "",
         when(datetime.fromisoformat(k["created_at"])),
         when(datetime.fromisoformat(k["revoked_at"])) if k["revoked_at"] else ""]
        for k in document
    ]
    return table(["ID", "DÉBUT", "RÔLE", "MISSION LOCALE", "LIBELLÉ", "CRÉÉE (UTC)", "RÉVOQUÉE (UTC)"], rows)


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
            fail_both(f"clé inconnue : {key_id} (voir `passerelle users list`)", f"unknown key id {key_id}")
        already = row.revoked_at is not None
        if not already:
            revoke_api_key(session, key_id)
            audit(session, None, "revoke", "api_key", str(key_id), mission_locale=row.mission_locale)
    if already:
        notice_prefixed(f"clé n° {key_id} déjà révoquée le {when(row.revoked_at)} UTC")
    else:
        notice_prefixed(f"clé n° {key_id} révoquée")


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
    interrupted purge can simply be run again. Then the rows are made physically gone: SQLite's
    write-ahead log is checkpointed, PostgreSQL's tables are vacuumed, and the index snapshots
    of the data home are rewritten without the erased youths.

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
            notice_prefixed("simulation : rien n'a été effacé")
            typer.echo(f"{total} jeune(s) sans activité depuis le {since} seraient effacé(s).")
            return
        erased: list[str] = []
        with progress_bars() if total > batch_size else nullcontext(None) as progress:
            while True:
                with sessions.begin() as session:
                    ids = inactive_youth_ids(session, cutoff, limit=batch_size)
                    for youth_id in ids:
                        try:
                            erase_youth(session, youth_id, action="purge")
                        except UnknownId:  # erased meanwhile by someone else
                            continue
                        erased.append(youth_id)
                if progress:
                    progress("Effacement des jeunes inactifs", len(erased), max(total, len(erased)))
                if len(ids) < batch_size:
                    break
        if erased:
            _scrub_files(sessions, erased)
    typer.echo(f"{len(erased)} jeune(s) sans activité depuis le {since} effacé(s).")


def _scrub_files(sessions, youth_ids: list[str]) -> None:
    """Reclaim the erased rows' space (WAL checkpoint, VACUUM) and drop them from the snapshots."""
    from service.live.snapshots import drop_youths
    from service.store.changes import log_state
    from service.store.erasure import reclaim

    reclaim(sessions.kw["bind"], vacuum=True)
    with sessions() as session:
        instance = log_state(session).instance
    for directory in sorted(workspace().home.glob(f"indexes/*/store-{instance}")):
        drop_youths(directory, youth_ids)


# ----------------------------------------------------------------------------- serve
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes.")] = 1,
):
    """Run the HTTP API and the web pages (uvicorn) after migrating the store once.

    Put a TLS reverse proxy in front of it before exposing it beyond this machine. The log goes
    to standard error: one line per request with the route template (never the path, which
    may hold an id) and the request id; no SQL parameters, no request content. Each of the N
    workers applies 1/N of the rate limits (PASSERELLE_RATE_LIMIT, PASSERELLE_RATE_BURST,
    PASSERELLE_AUTH_FAILURES_PER_MIN), so that together they hold the configured limits.

    Example: passerelle serve --host 0.0.0.0 --port 8000 --workers 4
    """
    run_server(host, port, workers)
