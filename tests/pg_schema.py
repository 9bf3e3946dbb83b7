"""A fresh PostgreSQL schema for one test (or module), from ``PASSERELLE_TEST_POSTGRES_URL``."""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text

POSTGRES_ENV = "PASSERELLE_TEST_POSTGRES_URL"


@contextlib.contextmanager
def fresh_schema(prefix: str = "test_") -> Iterator[str]:
    """Yield a store URL whose ``search_path`` is a new schema; drop the schema afterwards.

    Skips the test when no PostgreSQL server is named by ``PASSERELLE_TEST_POSTGRES_URL``.
    """
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (bash scripts/postgres.sh start)")
    schema = prefix + secrets.token_hex(6)
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    scoped = make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()
