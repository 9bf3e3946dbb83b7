"""API fixtures: defined in ``tests/api_fixtures.py``, shared with ``tests/security``."""

from __future__ import annotations

from api_fixtures import api, bare_api, loaded_store, shared_api

__all__ = ["api", "bare_api", "loaded_store", "shared_api"]
