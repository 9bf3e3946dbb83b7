"""The client's own reference of a vacancy (``external_id``): the service assigns vacancy ids.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("vacancies") as batch:
        batch.add_column(
            sa.Column("external_id", sa.String(length=64), nullable=True,
                      comment="the client's own reference")
        )


def downgrade() -> None:
    with op.batch_alter_table("vacancies") as batch:
        batch.drop_column("external_id")
