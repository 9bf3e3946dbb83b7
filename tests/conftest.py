"""Shared fixtures. Expensive ones are session-scoped."""

from __future__ import annotations

import pytest

from matching.referential import Referential, load_referential


@pytest.fixture(scope="session")
def referential_cache_dir(tmp_path_factory: pytest.TempPathFactory):
    """A cache folder private to this test session."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def referential(referential_cache_dir) -> Referential:
    """The real referential from ``data/``, built once per session through a fresh cache."""
    return load_referential(cache_dir=referential_cache_dir)
