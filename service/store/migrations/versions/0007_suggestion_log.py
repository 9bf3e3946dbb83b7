"""Suggestions become the training log of the learned ranker; simulated rows are flagged.

Issue #15: every list served for a stored youth is logged per item with the list it belongs to
(``list_id``), the features that scored it (``features``, JSON ``{name: value}``), the learned
ranker's version (``model_version``, NULL for the untrained fusion), the probability it was shown
when exploration is on (``propensity``, NULL when off) and ``simulated`` (rows written by
``passerelle outcomes simulate``, left out of the indicators). Rows logged before have no list,
no features and ``simulated`` false. The index serves the exposure count (vacancies shown since a
date, grouped by id).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-20
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOC = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
EXPOSURE_INDEX = "ix_suggestions_item_kind_created_at_item_id"


def upgrade() -> None:
    with op.batch_alter_table("suggestions") as batch:
        batch.add_column(sa.Column("list_id", sa.String(36), nullable=True, comment="one per served list"))
        batch.add_column(sa.Column("features", JSON_DOC, nullable=True, comment="{feature name: value}"))
        batch.add_column(sa.Column("model_version", sa.String(64), nullable=True,
                                   comment="learned ranker; NULL: untrained fusion"))
        batch.add_column(sa.Column("propensity", sa.Float(), nullable=True,
                                   comment="probability of being shown; NULL: exploration off"))
        batch.add_column(sa.Column("simulated", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index(EXPOSURE_INDEX, "suggestions", ["item_kind", "created_at", "item_id"])
    op.create_index("ix_suggestions_list_id", "suggestions", ["list_id"])


def downgrade() -> None:
    op.drop_index("ix_suggestions_list_id", table_name="suggestions")
    op.drop_index(EXPOSURE_INDEX, table_name="suggestions")
    with op.batch_alter_table("suggestions") as batch:
        for name in ("simulated", "propensity", "model_version", "features", "list_id"):
            batch.drop_column(name)
