"""The customer directory (`GET /customers`, newest first) pages through an index, not the whole list.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idx_customers_organization_created"
        " ON customers(organization_id, created_at DESC, id DESC)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX idx_customers_organization_created")
