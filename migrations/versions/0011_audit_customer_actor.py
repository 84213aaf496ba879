"""Audit entries name the customer who caused a change (a portal reply reopening a ticket): `actor_id`
names staff only, and such entries read as the system's. No foreign key, as `actor_id` has none: the
log outlives the people in it.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE audit_logs ADD COLUMN actor_customer_id UUID")


def downgrade() -> None:
    op.execute("ALTER TABLE audit_logs DROP COLUMN actor_customer_id")
