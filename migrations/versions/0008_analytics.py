"""Analytics: an index over every resolved ticket's `resolved_at`, closed ones included (the partial
`idx_tickets_resolved_at` of 0004 holds status 'resolved' only), so a summary over a window reads
that window's resolutions and not the organization's whole history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idx_tickets_organization_resolved ON tickets (organization_id, resolved_at)"
        " WHERE resolved_at IS NOT NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_tickets_organization_resolved")
