"""GET /tickets?assigned_agent_id= and ?category_id= read in the list's keyset order.

The list is newest first (created_at, id). Filtered by an agent or a category whose tickets are all old
(an agent who left, a retired category), it walked the organization's index from the newest ticket and
dropped every other one: 89,126 rows read for a page in an organization of 100,000 tickets, 71 ms against
0.13 ms with an index in that order. The category's new index also serves what its old one did (a
category's deletion finding its tickets), so that one goes.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-27
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE INDEX idx_tickets_agent_created ON tickets(assigned_agent_id, created_at DESC, id DESC)"
        " WHERE assigned_agent_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX idx_tickets_category_created ON tickets(category_id, created_at DESC, id DESC)"
        " WHERE category_id IS NOT NULL"
    )
    op.execute("DROP INDEX idx_tickets_category")


def downgrade() -> None:
    op.execute("CREATE INDEX idx_tickets_category ON tickets(category_id) WHERE category_id IS NOT NULL")
    op.execute("DROP INDEX idx_tickets_category_created")
    op.execute("DROP INDEX idx_tickets_agent_created")
