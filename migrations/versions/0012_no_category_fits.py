"""A ticket a person said fits none of the categories (a PATCH of `category_id` to null): triage learns
from such tickets what is out of scope, as it learns each category from the tickets people put in it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-26
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE tickets ADD COLUMN no_category_fits BOOLEAN NOT NULL DEFAULT false")
    # GET /tickets?no_category_fits=true pages through the few marked tickets, not the whole history.
    op.execute(
        "CREATE INDEX idx_tickets_no_category_fits ON tickets(organization_id, created_at DESC, id DESC)"
        " WHERE no_category_fits"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN no_category_fits")
