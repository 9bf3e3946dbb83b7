"""Browser tests: the real app served by ``passerelle serve`` in a child process, driven by
Debian's Chromium through Playwright.

One server per session, over a small data home (hashing model, SQLite store, synthetic youths
and vacancies of six Missions Locales, see ``tests/security/served.py``) with keys for an
adviser, an employer-relations officer of ``ML-METZ`` and of ``ML-NANCY``, and an admin. Each
test gets a fresh browser context (no cookie of another test). Tests change the store (youths
created, outcomes recorded): a test must only rely on rows it made itself or on counts it read
before acting.

Chromium: ``PASSERELLE_TEST_CHROMIUM`` (what ``.ci/run`` exports from ``scripts/chromium.sh``)
or ``chromium`` on the path. Without it the browser tests skip, except under ``CI=true`` where
they fail: CI must run them. Helpers for the tests are in ``browsing.py``.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from api_fixtures import PROFILE_MARKER
from security.served import EXAMPLE, MARKER, Serve, marked_profile

from matching.synthetic import dataset as synthetic
from service.config import Settings
from service.store import crud
from service.workspace import Workspace, model_slug

CHROMIUM_ENV = "PASSERELLE_TEST_CHROMIUM"
ML = "ML-METZ"
OTHER_ML = "ML-NANCY"
ROLES = {"adviser": ("adviser", ML), "er": ("employer_relations", ML),
         "adviser_other": ("adviser", OTHER_ML), "er_other": ("employer_relations", OTHER_ML),
         "admin": ("admin", None), "batch": ("batch", None)}
"""Key name: (role, Mission Locale)."""
WEB_MARKER = "browser"
"""Label of the marker planted in every stored profile's interests (``MARQUEUR-PROFIL-browser-N``;
not in the dossier reference, which the screenshots show)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder is a browser test (``-m browser`` / ``-m 'not browser'``)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable; skips (fails under ``CI=true``) when there is none."""
    path = os.environ.get(CHROMIUM_ENV) or shutil.which("chromium") or shutil.which("chromium-browser")
    reason = None
    if not path or not Path(path).exists():
        reason = ("Chromium is not installed: `bash scripts/chromium.sh` (as root) installs Debian's "
                  f"package, or set {CHROMIUM_ENV} to a Chromium executable")
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = 'Playwright is not installed: pip install -e ".[dev]"'
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run under CI=true: {reason}")
        pytest.skip(reason)
    return str(path)


@dataclass
class WebServer:
    """The served app: its address, a key per name of :data:`ROLES`, and its log."""

    url: str
    keys: dict[str, str]
    serve: Serve
    home: Path

    def api(self, method: str, path: str, key: str = "adviser", **kwargs) -> httpx.Response:
        """Call the JSON API as the key named ``key`` (to prepare or check what a page shows)."""
        headers = {"Authorization": f"Bearer {self.keys[key]}"}
        return httpx.request(method, f"{self.url}{path}", headers=headers, timeout=60, **kwargs)

    def new_youth(self, key: str = "adviser", *, marked: bool = True, **changes) -> str:
        """Store the example profile with ``changes``; its id. ``marked``: with a marker in its
        free texts that the server's log must never show (False: as shown in screenshots)."""
        profile = marked_profile() if marked else {k: v for k, v in EXAMPLE.items() if k != "mission_locale"}
        answer = self.api("POST", "/v1/youths", key, json={**profile, **changes})
        assert answer.status_code == 201, answer.text
        return answer.json()["id"]


def web_home(path: Path, referential_cache: Path, trades: Path) -> tuple[Settings, dict[str, str]]:
    """A data home at ``path`` with synthetic data of every Mission Locale and one key per role."""
    shutil.copytree(referential_cache, path / "cache" / "referential")
    shutil.copytree(trades, path / "models" / model_slug("hashing") / "trades")
    settings = Settings(home=path, model="hashing")
    workspace = Workspace(settings)
    keys = {}
    try:
        data = synthetic.generate(workspace.referential(), n_youths=120, n_vacancies=400, seed=14)
        for number, profile in enumerate(data.youths):  # in a free text, not in the dossier
            profile["interests"] = f"{profile.get('interests') or ''} {PROFILE_MARKER}{WEB_MARKER}-{number}"
        workspace.load_demo_into_store(data)
        _, sessions, _ = workspace.store()
        with sessions.begin() as session:
            for name, (role, mission_locale) in ROLES.items():
                _, keys[name] = crud.create_api_key(session, role, mission_locale, label=f"browser {name}")
    finally:
        workspace.store()[0].dispose()
    return settings, keys


@pytest.fixture(scope="session")
def web_server(chromium_path, tmp_path_factory, referential_cache_dir, referential, hashing_trades
               ) -> Iterator[WebServer]:
    """``passerelle serve`` on a fresh :func:`web_home`, for the whole session."""
    del chromium_path, referential  # no server without a browser to drive it; cache filled
    root = tmp_path_factory.mktemp("web")
    settings, keys = web_home(root / "home", referential_cache_dir, hashing_trades)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PASSERELLE_")}
    env.update(PASSERELLE_HOME=str(settings.home), PASSERELLE_MODEL="hashing", PASSERELLE_RATE_LIMIT="0",
               PASSERELLE_AUTH_FAILURES_PER_MIN="0")
    serve = Serve(env, root / "server.log")
    try:
        serve.wait_healthy()
        yield WebServer(serve.url, keys, serve, settings.home)
    finally:
        serve.stop()
    leaks = [line for line in serve.text().splitlines() if PROFILE_MARKER in line or MARKER in line]
    assert not leaks, f"the server logged personal data: {leaks[:3]}"


@pytest.fixture(scope="session")
def browser(chromium_path):
    """One headless Chromium for the session (Debian's build, never a downloaded one)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, headless=True)
        yield launched
        launched.close()


@pytest.fixture()
def page(browser, web_server):
    """A page in a fresh context (no cookie), French, 1280 x 800, based at the server's address.

    ``page.console_errors`` collects the console's error messages (a CSP violation shows there),
    ``page.failed_responses`` the status and address of every answer >= 400.
    """
    context = browser.new_context(base_url=web_server.url, locale="fr-FR",
                                  viewport={"width": 1280, "height": 800})
    context.set_default_timeout(20_000)  # a shared 2-core machine; a missing element fails anyway
    opened = context.new_page()
    opened.console_errors = []
    opened.failed_responses = []
    opened.on("console", lambda message: message.type == "error" and opened.console_errors.append(
        f"{message.text} ({message.location.get('url')})"))
    opened.on("response", lambda answer: answer.status >= 400 and opened.failed_responses.append(
        f"{answer.status} {answer.request.method} {answer.url}"))
    yield opened
    context.close()
