"""Errors the pages raise; :mod:`service.web.core.error_pages` renders them as French pages."""

from __future__ import annotations


class WebError(Exception):
    """A page-level error: ``status`` and a French message for the person at the screen."""

    def __init__(self, status: int, message_fr: str):
        super().__init__(message_fr)
        self.status, self.message_fr = status, message_fr


class SignInRequired(Exception):
    """No session, an expired one, or one whose key was revoked: back to ``/connexion``."""

    def __init__(self, *, clear: bool = False):
        super().__init__("sign-in required")
        self.clear = clear


NOT_FOUND_FR = "Cette page n'existe pas, ou vous n'y avez pas accès."
"""Another Mission Locale's youth reads exactly as an unknown one (existence does not leak)."""
