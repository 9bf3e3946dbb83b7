"""Helpers of the browser tests: sign in, accessibility check with axe-core, screenshots.

axe-core is vendored (``vendor/axe-core``, see its PROVENANCE.md) and evaluated in the page
through the DevTools protocol: ``page.add_script_tag`` would add an inline script, which the
app's Content-Security-Policy rightly refuses, and the tests keep that policy in force.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE_SOURCE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING_IMPACTS = ("serious", "critical")
WIDTHS = (1280, 360)
"""Viewport widths every page is checked at: a desktop and a small phone."""
SCREENSHOTS_ENV = "PASSERELLE_SCREENSHOTS"
SCREENSHOTS = ROOT / "docs" / "screenshots"
HOME_OF_ROLE = {"adviser": "/jeunes", "employer_relations": "/offres", "admin": "/indicateurs"}


def page_routes() -> set[str]:
    """The pages' GET route templates, parameters blanked: ``/jeunes/{}/suggestions``."""
    from service.web.app import ROUTERS

    return {re.sub(r"\{[^}]*\}", "{}", route.path) for router in ROUTERS for route in router.routes
            if "GET" in getattr(route, "methods", ())}


def require_pages(*paths: str) -> None:
    """xfail the test when a page it drives has no route yet (issue #14 is built in parts).

    A page whose route exists runs the whole test, so a page that breaks fails it.
    """
    missing = [path for path in paths if re.sub(r"\{[^}]*\}", "{}", path) not in page_routes()]
    if missing:
        pytest.xfail(f"page not built yet: {', '.join(missing)}")


def sign_in(page: Page, key: str) -> None:
    """Sign in through ``/connexion`` with ``key`` and wait for the page it leads to."""
    page.goto("/connexion")
    page.locator("input[name=api_key]").fill(key)
    with page.expect_navigation():
        page.locator("form:has(input[name=api_key]) [type=submit]").click()


def sign_in_as(page: Page, key: str, role: str) -> None:
    """:func:`sign_in`, then check the browser landed on the home page of ``role``."""
    sign_in(page, key)
    expect(page).to_have_url(re.compile(re.escape(HOME_OF_ROLE[role]) + r"(\?.*)?$"))


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core (every rule, none disabled) on the page as shown; return its violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE.read_text(encoding="utf-8"))
    return page.evaluate("async () => (await axe.run(document, {resultTypes: ['violations']})).violations")


def describe(violations: list[dict]) -> str:
    """One line per violation: rule, impact, help and the first offending elements."""
    lines = []
    for violation in violations:
        targets = [" ".join(map(str, node["target"])) for node in violation["nodes"][:3]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"[{len(violation['nodes'])} element(s), e.g. {targets}]")
    return "\n".join(lines)


def axe_check(page: Page, *, widths: tuple[int, ...] = WIDTHS) -> None:
    """Fail on any serious or critical axe violation of the page at each of ``widths``."""
    size = page.viewport_size or {"width": WIDTHS[0], "height": 800}
    found = []
    try:
        for width in widths:
            page.set_viewport_size({"width": width, "height": size["height"]})
            blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING_IMPACTS]
            if blocking:
                found.append(f"at {width} px on {page.url}:\n{describe(blocking)}")
    finally:
        page.set_viewport_size(size)
    assert not found, "axe-core: serious or critical violations\n" + "\n".join(found)


def screenshot(page: Page, name: str, *, width: int | None = None, full_page: bool = False) -> Path | None:
    """Write ``docs/screenshots/<name>.png`` (the first screen, or the ``full_page``) when
    ``PASSERELLE_SCREENSHOTS=1``.

    The screenshots are documentation, committed and shown in the README; ordinary runs and CI
    leave them alone.
    """
    if os.environ.get(SCREENSHOTS_ENV) != "1":
        return None
    size = page.viewport_size
    if width and size:
        page.set_viewport_size({"width": width, "height": size["height"]})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    if width and size:
        page.set_viewport_size(size)
    return path


def no_console_errors(page: Page) -> None:
    """Fail when the page logged an error (a script or style refused by the CSP shows there)."""
    # The browser asks for /favicon.ico by itself; the app has none yet (reported, not a page's fault).
    errors = [e for e in getattr(page, "console_errors", []) if not e.endswith("/favicon.ico)")]
    assert not errors, f"console errors on {page.url}: {errors[:5]}; answers >= 400: {page.failed_responses}"
