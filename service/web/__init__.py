"""Server-rendered French pages for advisers and employer-relations staff.

Served by the API's app (:func:`install`, called by :func:`service.api.app.create_app`), with
the same API keys, roles and Mission Locale scopes: a key signs in once (``/connexion``) and a
signed session cookie carries the session. ``core/`` holds what every page shares (session,
CSRF, sign-in, templates, error pages, security headers), ``pages/`` one module per group of
pages, ``templates/`` the Jinja2 templates and ``static/`` the stylesheet and vendored htmx.
"""

from service.web.app import install

__all__ = ["install"]
