"""Outcomes gain the status ``applied``; anonymous counts gain ``applied`` and declines by reason.

The web page of issue #14 records "candidature envoyée" (``applied``) and declines with a
reason code (``service.store.outcome_codes.DECLINE_REASONS``). Erased youths must keep those
figures, so ``indicator_counts`` gets a column for ``applied`` and one per reason code (0 for the
rows already there: nothing erased before had either). Reasons already stored stay as written.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-14
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Spelled out, not imported: this revision must stay valid when the codes move on.
OLD_STATUSES = "'proposed', 'contacted', 'immersion', 'hired', 'in_post_6_months', 'declined'"
NEW_STATUSES = (
    "'proposed', 'contacted', 'applied', 'immersion', 'hired', 'in_post_6_months', 'declined'"
)
NEW_COUNTS = (
    "applied",
    "declined_employer_no_reply",
    "declined_employer_declined",
    "declined_youth_declined",
    "declined_transport_distance",
    "declined_hours_conditions",
    "declined_qualification_missing",
    "declined_position_filled",
    "declined_other",
)


def _status_check(statuses: str) -> None:
    # SQLite: batch mode copies the table with the new constraint (it reflects named CHECKs)
    with op.batch_alter_table("outcomes") as batch:
        batch.drop_constraint(op.f("ck_outcomes_status"), type_="check")
        batch.create_check_constraint(op.f("ck_outcomes_status"), sa.text(f"status IN ({statuses})"))


def upgrade() -> None:
    _status_check(NEW_STATUSES)
    with op.batch_alter_table("indicator_counts") as batch:
        for name in NEW_COUNTS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    # Rows the old constraint refuses cannot stay: ``applied`` steps become ``contacted``
    # (the nearest older status) so that a downgrade keeps every take-up it can.
    op.execute("UPDATE outcomes SET status = 'contacted' WHERE status = 'applied'")
    op.execute("UPDATE indicator_counts SET contacted = contacted + applied")
    _status_check(OLD_STATUSES)
    with op.batch_alter_table("indicator_counts") as batch:
        for name in NEW_COUNTS:
            batch.drop_column(name)
