"""The store: SQLAlchemy models, Alembic migrations and small CRUD functions.

The store is the source of truth. Functions in :mod:`service.store.crud` flush but never commit:
the caller owns the transaction (``with sessions.begin() as session: ...``) so a write, its
index change record and its audit line commit together or not at all.
"""
