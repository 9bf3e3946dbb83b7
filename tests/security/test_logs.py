"""The log holds no personal data: route templates and request ids, never a path with an id,
SQL parameters, request bodies or exception messages.

The filter (:mod:`service.logs`) is checked on records built by hand; then a real ``passerelle
serve`` is driven through a youth's whole life (create, read, suggest, update, a 409, a 422, a
404, erase) with a marker planted in the profile, and its standard error must name neither the
marker nor the youth id. tests/conftest.py checks the same over the log of the whole test run.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import sys

import httpx
from served import MARKER, Serve, marked_profile, small_home

from service.logs import PersonalDataFilter, install_log_filter, scrub


def record(name: str, message: str, *args, level: int = logging.ERROR, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, message, args or None, exc_info)


def formatted(item: logging.LogRecord) -> str | None:
    """The line a handler would write for ``item`` after the filter, or None when dropped."""
    if not PersonalDataFilter().filter(item):
        return None
    return logging.Formatter("%(name)s: %(message)s").format(item)


def test_the_filter_drops_access_and_parameter_lines():
    access = record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', "127.0.0.1", "DELETE",
                    f"/v1/youths/{MARKER}", "1.1", 204, level=logging.INFO)
    assert formatted(access) is None
    parameters = record("sqlalchemy.engine.Engine", "[%s] %r", "generated in 0.0001s", (MARKER, 3),
                        level=logging.INFO)
    assert formatted(parameters) is None
    statement = record("sqlalchemy.engine.Engine", "UPDATE youths SET profile=? WHERE youths.id = ?",
                       level=logging.INFO)
    assert formatted(statement) == "sqlalchemy.engine.Engine: UPDATE youths SET profile=? WHERE youths.id = ?"
    trace = record("uvicorn.error", "ASGI [1] Started scope=%s", {"path": f"/v1/youths/{MARKER}"}, level=5)
    assert formatted(trace) is None


def test_the_filter_withholds_messages_of_exceptions_and_sql_parameters():
    try:
        try:
            raise sqlite3.IntegrityError(f"NOT NULL constraint failed: {MARKER}")
        except sqlite3.IntegrityError as error:
            raise RuntimeError(f"wrapped {MARKER}") from error
    except RuntimeError:
        item = record("uvicorn.error", "Exception in ASGI application", exc_info=sys.exc_info())
    line = formatted(item)
    assert MARKER not in line and "sqlite3.IntegrityError: (message withheld" in line
    assert "RuntimeError: (message withheld" in line and "Exception in ASGI application" in line
    assert formatted(item) == line  # idempotent: a second handler writes the same line
    message = ("(psycopg.errors.UniqueViolation) duplicate key\nDETAIL:  Key (id)=(Y-1) already exists.\n"
               f"[SQL: INSERT INTO youths (id) VALUES (%(id)s)]\n[parameters: {{'id': '{MARKER}]'}}]\n"
               "(Background on this error at: https://sqlalche.me/e/20/gkpj)")
    clean = scrub(message)
    assert MARKER not in clean and "Y-1" not in clean and "[SQL: INSERT INTO youths" in clean
    assert formatted(record("passerelle.api", "failed: %s", message)) == f"passerelle.api: failed: {clean}"


def test_install_puts_the_filter_on_handlers_and_loggers():
    handler = logging.NullHandler()
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        install_log_filter()
        install_log_filter()  # idempotent
        assert sum(isinstance(f, PersonalDataFilter) for f in handler.filters) == 1
        assert any(isinstance(f, PersonalDataFilter) for f in logging.getLogger("uvicorn.access").filters)
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)


def test_a_youths_whole_life_leaves_no_id_and_no_content_in_the_server_log(tmp_path, referential_cache_dir,
                                                                           hashing_trades):
    home = small_home(tmp_path / "home", referential_cache_dir, hashing_trades)
    server = Serve(home.env(PASSERELLE_LOG_LEVEL="DEBUG"), tmp_path / "server.log")
    headers = {"Authorization": f"Bearer {home.adviser_key}"}
    statuses = []
    try:
        server.wait_healthy()
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
            def call(method: str, path: str, **kwargs) -> httpx.Response:
                response = client.request(method, path, **kwargs)
                statuses.append((method, response.status_code))
                return response

            created = call("POST", "/v1/youths", json=marked_profile())
            assert created.status_code == 201, created.text
            youth_id, version = created.json()["id"], created.json()["version"]
            assert call("GET", f"/v1/youths/{youth_id}").status_code == 200
            assert call("GET", f"/v1/youths/{youth_id}/suggestions").status_code == 200
            update = {"version": version, "interests": f"J'aime la pâtisserie {MARKER}"}
            assert call("PATCH", f"/v1/youths/{youth_id}", json=update).status_code == 200
            assert call("PATCH", f"/v1/youths/{youth_id}", json=update).status_code == 409  # stale version
            assert call("POST", "/v1/youths", json={**marked_profile(), "age": MARKER}).status_code == 422
            assert call("POST", "/v1/youths", content=f'{{"interests": "{MARKER}"'.encode(),
                        headers={"Content-Type": "application/json"}).status_code in (400, 422)
            assert call("DELETE", f"/v1/youths/{youth_id}").status_code == 204
            assert call("GET", f"/v1/youths/{youth_id}").status_code == 404
            assert call("GET", f"/v1/youths/{MARKER}/export").status_code == 404
            assert call("GET", f"/v1/nowhere/{MARKER}").status_code == 404
    finally:
        server.stop()
    log = server.text()
    assert MARKER not in log and youth_id not in log, log[-3000:]
    access = re.findall(r"passerelle\.access: (\w+) (\S+) (\d{3}) [\d.]+ms request_id=[0-9a-f]{32}", log)
    assert ("DELETE", "/v1/youths/{youth_id}", "204") in access, log[-3000:]
    assert ("GET", "unmatched", "404") in access
    assert sorted((m, int(s)) for m, _, s in access if _ != "/health") == sorted(statuses)


def test_a_500_quoting_request_data_logs_neither_the_data_nor_the_parameters(tmp_path, referential_cache_dir,
                                                                             hashing_trades, session_log):
    """In-process: the app's filter is on the session's handler, as it would be on uvicorn's."""
    from fastapi.testclient import TestClient
    from sqlalchemy.exc import IntegrityError

    from service.api.app import create_app

    def boom():  # what a NOT NULL violation raises, parameters and all
        raise IntegrityError("UPDATE employers SET name=? WHERE siret=?", (None, MARKER),
                             sqlite3.IntegrityError(f"NOT NULL constraint failed: {MARKER}"))

    home = small_home(tmp_path / "home", referential_cache_dir, hashing_trades)
    app = create_app(home.settings.__class__(home=home.path, model="hashing", rate_limit_per_s=0,
                                             snapshot_interval_s=3600))
    app.add_api_route("/v1/boom", boom)
    app.add_api_route("/jeunes-boom", boom)  # a page's path
    with TestClient(app, raise_server_exceptions=False) as client:
        youth = client.post("/v1/youths", json=marked_profile(),
                            headers={"Authorization": f"Bearer {home.adviser_key}"})
        assert youth.status_code == 201, youth.text
        response = client.get("/v1/boom", headers={"X-Request-ID": "boom-1"})
        page = client.get("/jeunes-boom")
    assert response.status_code == 500 and MARKER not in response.text
    assert "Content-Security-Policy" not in response.headers  # the API's JSON: no page headers
    # a page's 500 leaves through Starlette's outermost handler, outside the headers middleware
    assert page.status_code == 500 and MARKER not in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert page.headers["X-Frame-Options"] == "DENY" and page.headers["Cache-Control"] == "no-store"
    log = session_log.read_text(errors="replace")
    assert "internal error on GET /v1/boom, request_id=boom-1" in log
    assert "sqlalchemy.exc.IntegrityError: (message withheld" in log
    assert "GET /v1/boom 500" in log and "POST /v1/youths 201" in log
    assert MARKER not in log and youth.json()["id"] not in log
