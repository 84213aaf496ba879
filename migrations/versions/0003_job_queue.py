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
    # The job table swings from empty to thousands of rows in seconds; with the statistics of an
    # empty table the planner fetches jobs by sorting every waiting one (4-6x slower, bench/jobs.py).
    # Analyze it after every few hundred changed rows instead of a fifth of the table.
    op.execute(
        "ALTER TABLE procrastinate_jobs SET"
        " (autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 500,"
        " autovacuum_vacuum_scale_factor = 0.05)"
    )


def downgrade() -> None:
    op.execute(
        "DROP TABLE IF EXISTS procrastinate_events, procrastinate_periodic_defers, procrastinate_jobs,"
        " procrastinate_workers CASCADE"
    )
