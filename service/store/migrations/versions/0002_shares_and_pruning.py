"""Shares of full youth profiles, and the tombstone pruning horizon of the index change log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("index_generation") as batch:
        batch.add_column(
            sa.Column("pruned_upto", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column(
                "instance", sa.String(length=32), server_default="", nullable=False,
                comment="random id of this store, for snapshots",
            )
        )
    # Index snapshots name the store they were taken from: a store rebuilt from scratch at the
    # same URL gets a new instance id, so stale vectors are never reused.
    op.execute(sa.text(f"UPDATE index_generation SET instance = '{uuid.uuid4().hex}'"))
    op.create_table(
        "shares",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("youth_id", sa.String(length=64), nullable=False),
        sa.Column("shared_with_key_id", sa.Integer(), nullable=True),
        sa.Column("vacancy_id", sa.String(length=64), nullable=True, comment="no FK: history stays"),
        sa.Column("by_key_id", sa.Integer(), nullable=True, comment="api_keys.id; NULL: CLI"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(shared_with_key_id IS NULL) <> (vacancy_id IS NULL)", name=op.f("ck_shares_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["shared_with_key_id"], ["api_keys.id"],
            name=op.f("fk_shares_shared_with_key_id_api_keys"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["youth_id"], ["youths.id"], name=op.f("fk_shares_youth_id_youths"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shares")),
    )
    op.create_index(op.f("ix_shares_youth_id"), "shares", ["youth_id"])
    op.create_index(op.f("ix_shares_vacancy_id"), "shares", ["vacancy_id"])


def downgrade() -> None:
    op.drop_table("shares")
    with op.batch_alter_table("index_generation") as batch:
        batch.drop_column("instance")
        batch.drop_column("pruned_upto")
