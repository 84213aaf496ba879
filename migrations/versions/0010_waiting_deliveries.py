"""Webhook deliveries still waiting, per organization: each new delivery is queued behind its
organization's waiting ones (supportdesk.webhooks.events), which this index counts without reading the
organization's delivered history.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idx_webhook_deliveries_waiting ON webhook_deliveries (organization_id, created_at)"
        " WHERE delivered_at IS NULL"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_webhook_deliveries_waiting")
