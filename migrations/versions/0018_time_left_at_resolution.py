"""What a resolved ticket's SLA clocks had left.

- The working seconds each clock still running (not met, not breached) had left when the ticket was
  resolved or closed, in the calendar it counted in then; a category change while it is resolved adds
  the SLA difference. Reopened, the ticket starts the clock again with them, in the calendar of the
  category it has then. Its old deadline, moved by the time the ticket stayed resolved as the new
  calendar counts it, mixed two calendars: a ticket moved from a category around the clock to one on
  business hours breached as it reopened. NULL on tickets resolved before: their deadlines move by the
  time they stayed resolved, as before.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE tickets ADD COLUMN response_left_seconds BIGINT,"
        " ADD COLUMN resolution_left_seconds BIGINT"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN response_left_seconds, DROP COLUMN resolution_left_seconds")
