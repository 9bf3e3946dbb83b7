"""Share requests: employer-relations staff ask a youth's adviser to share a shortlisted profile.

Issue #14: "Demander le partage" on a shortlist card stores a request (vacancy, youth, the key
that asked, the youth's Mission Locale, status ``pending``, ``granted`` or ``dismissed``); the
youth's advisers see the pending ones on the youth's page. Erased with the youth
(``ON DELETE CASCADE``), as shares are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Spelled out, not imported: this revision must stay valid when the statuses move on.
STATUSES = "'pending', 'granted', 'dismissed'"


def upgrade() -> None:
    op.create_table(
        "share_requests",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("vacancy_id", sa.String(length=64), nullable=False, comment="no FK: history stays"),
        sa.Column("youth_id", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False, comment="who asked"),
        sa.Column("mission_locale", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(f"status IN ({STATUSES})", name=op.f("ck_share_requests_status")),
        sa.ForeignKeyConstraint(
            ["key_id"], ["api_keys.id"], name=op.f("fk_share_requests_key_id_api_keys"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["youth_id"], ["youths.id"], name=op.f("fk_share_requests_youth_id_youths"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_requests")),
    )
    op.create_index(op.f("ix_share_requests_youth_id_status"), "share_requests", ["youth_id", "status"])


def downgrade() -> None:
    op.drop_table("share_requests")
