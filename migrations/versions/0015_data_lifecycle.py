"""The data lifecycle: an archive of deleted records (kept 30 days, restorable by an operator; see
supportdesk.lifecycle.archive).

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

ARCHIVE = """
-- What a deletion removed: the rows of each table, as JSON, in the order a restore inserts them.
CREATE TABLE archived_records (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    entity_type VARCHAR(30) NOT NULL,
    entity_id UUID NOT NULL,
    reason VARCHAR(30) NOT NULL,
    contents JSONB NOT NULL,
    archived_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_archived_records_archived_at ON archived_records(archived_at);
CREATE INDEX idx_archived_records_organization ON archived_records(organization_id, archived_at DESC);

ALTER TABLE archived_records ENABLE ROW LEVEL SECURITY;
ALTER TABLE archived_records FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON archived_records
    USING (organization_id = NULLIF(current_setting('supportdesk.organization_id', true), '')::uuid);
CREATE POLICY system_access ON archived_records
    USING (current_setting('supportdesk.system', true) = 'on');
"""


def upgrade() -> None:
    op.execute(ARCHIVE)


def downgrade() -> None:
    op.execute("DROP TABLE archived_records")
