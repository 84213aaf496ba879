"""The job queue's own tables and functions (procrastinate's schema, as its version ships it).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Later procrastinate releases ship migration files (procrastinate/sql/migrations/); a version
    # bump of the dependency comes with a revision here that applies them.
    op.execute(SchemaManager.get_schema())


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,"
        " procrastinate_workers CASCADE"
    )
