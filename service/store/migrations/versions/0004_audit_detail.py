"""Audit lines get a ``detail``: what a line must say beyond its object (never profile content).

A batch run's line names its output file; an erasure's line lists the output files of the batch
runs made while the youth existed (outside the data home: an operator deletes or rewrites them).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(
            sa.Column("detail", sa.Text(), nullable=True,
                      comment="JSON: output files of a batch run, or those an erasure leaves behind")
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("detail")
