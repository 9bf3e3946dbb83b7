"""Jinja2 templates (package data in ``service/web/templates``) and the page renderer.

Every page gets ``user`` (the signed-in :class:`~service.api.security.Principal` or None),
``nav`` (the links of the user's role, :data:`NAV`), ``csrf_token`` (for its forms) and
``static_url``. Autoescaping is on: profile texts are shown as text, never as markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import HTMLResponse

from service import __version__
from service.web.core.csrf import ensure_token, persist

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

ROLE_LABELS = {"adviser": "Conseiller·ère", "employer_relations": "Relations entreprises",
               "admin": "Administration", "batch": "Traitement par lots"}
"""French names of the roles, as the header shows them."""


@dataclass(frozen=True)
class NavItem:
    """A link of the main navigation, shown to ``roles``."""

    href: str
    label: str
    roles: tuple[str, ...]


NAV: list[NavItem] = [
    NavItem("/jeunes", "Jeunes", ("adviser",)),
    NavItem("/jeunes/nouveau", "Nouveau profil", ("adviser",)),
    NavItem("/offres", "Offres", ("employer_relations",)),
    NavItem("/indicateurs", "Indicateurs", ("adviser", "employer_relations", "admin")),
]
"""The main navigation; a new page group appends its entry here."""


def date_fr(value: Any) -> str:
    """A date (or datetime) as "07/03/2026"; "—" when absent."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        parts = value[:10].split("-")
        return "/".join(reversed(parts)) if len(parts) == 3 else value
    return value.strftime("%d/%m/%Y")


def static_url(path: str) -> str:
    """URL of a static file, with the version so that an upgrade reloads it."""
    return f"/static/{path}?v={__version__}"


templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
templates.env.globals.update(static_url=static_url, role_labels=ROLE_LABELS)
templates.env.filters["date_fr"] = date_fr
templates.env.trim_blocks = True
templates.env.lstrip_blocks = True


def nav_for(user: Any, path: str) -> list[dict[str, Any]]:
    """The navigation links of ``user``'s role, the current one marked."""
    if user is None:
        return []
    return [{"href": item.href, "label": item.label,
             "current": path == item.href or (item.href != "/jeunes/nouveau"
                                              and path.startswith(item.href + "/")
                                              and not path.startswith("/jeunes/nouveau"))}
            for item in NAV if user.role in item.roles]


def render(request: Request, name: str, context: dict[str, Any] | None = None, *,
           status_code: int = 200, user: Any = None) -> HTMLResponse:
    """Render template ``name`` as a page (or a fragment) for ``request``."""
    user = user if user is not None else getattr(request.state, "web_user", None)
    values = {"user": user, "nav": nav_for(user, request.url.path),
              "csrf_token": ensure_token(request), **(context or {})}
    response = templates.TemplateResponse(request, name, values, status_code=status_code)
    persist(request, response)
    return response
