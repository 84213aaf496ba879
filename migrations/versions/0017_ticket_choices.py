"""What a ticket's later changes must know of its past.

- The SLA minutes its deadlines were computed with: moving it to another category moves them by the
  difference from these, not from what its old category says now (an SLA edited since is no part of the
  ticket's deadlines). NULL on tickets from before: their old category's current minutes are used.
- Whether a person chose its priority or its criticality (when opening it, or since): triage, which
  may come later, leaves their choice alone.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-26
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE tickets ADD COLUMN response_sla_minutes INTEGER,"
        " ADD COLUMN resolution_sla_minutes INTEGER,"
        " ADD COLUMN priority_chosen BOOLEAN NOT NULL DEFAULT false,"
        " ADD COLUMN criticality_chosen BOOLEAN NOT NULL DEFAULT false"
    )


def downgrade() -> None:
    op.execute(
        "ALTER TABLE tickets DROP COLUMN response_sla_minutes, DROP COLUMN resolution_sla_minutes,"
        " DROP COLUMN priority_chosen, DROP COLUMN criticality_chosen"
    )
