"""Ticket triage: one trained model per organization (the latest only), and what triage decided on
each ticket (the confidence of the category it chose, which category that was, and when it ran).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TRIAGE = """
-- The organization's latest triage model (supportdesk.ai.triage). `fingerprint` summarizes what it was
-- trained from (categories, linked documents, human-categorized tickets), so the periodic retrain can
-- tell when that changed.
CREATE TABLE triage_models (
    organization_id UUID PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    trained_at TIMESTAMPTZ NOT NULL,
    version INTEGER NOT NULL,
    model BYTEA NOT NULL,
    fingerprint TEXT NOT NULL,
    labels JSONB NOT NULL,
    metrics JSONB NOT NULL
);

-- The confidence of triage's best category (also when it abstained), the category it set (NULL when
-- none: a ticket whose category differs from it was categorized by a human), and when triage ran.
ALTER TABLE tickets
    ADD COLUMN ai_category_confidence REAL,
    ADD COLUMN ai_category_id UUID,
    ADD COLUMN triaged_at TIMESTAMPTZ;
"""


TENANT_POLICY = """
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table}
    USING (organization_id = NULLIF(current_setting('supportdesk.organization_id', true), '')::uuid);
CREATE POLICY system_access ON {table}
    USING (current_setting('supportdesk.system', true) = 'on');
"""


def upgrade() -> None:
    op.execute(TRIAGE)
    op.execute(TENANT_POLICY.format(table="triage_models"))


def downgrade() -> None:
    op.execute("DROP TABLE triage_models")
    op.execute(
        "ALTER TABLE tickets DROP COLUMN ai_category_confidence, DROP COLUMN ai_category_id,"
        " DROP COLUMN triaged_at"
    )
