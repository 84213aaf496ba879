"""Auto-answers: one trained answer model per organization (the latest only), and every decision the
auto-responder took (answered, suggested to agents, or declined), one per ticket text it read.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ANSWERS = """
-- The organization's latest answer model (supportdesk.ai.answers): its public documents as classes.
-- `fingerprint` summarizes the public documents it was trained from, so a retrain can tell when they
-- changed; `documents` maps each class to its document's title.
CREATE TABLE answer_models (
    organization_id UUID PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    trained_at TIMESTAMPTZ NOT NULL,
    version INTEGER NOT NULL,
    model BYTEA NOT NULL,
    fingerprint TEXT NOT NULL,
    documents JSONB NOT NULL
);

-- What the auto-responder decided on a ticket's text (`source_message_id` NULL) or on a customer's
-- follow-up (that message). Unique per source, so a job run twice decides once. `document_ids` are the
-- best documents it found, best first (an answer cites the first); `message_id` the answer or suggestion
-- it posted.
CREATE TABLE auto_answers (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    ticket_id UUID NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    source_message_id UUID REFERENCES messages(id) ON DELETE CASCADE,
    outcome TEXT NOT NULL CHECK (outcome IN ('answered', 'suggested', 'declined')),
    reason TEXT NOT NULL,
    confidence DOUBLE PRECISION,
    threshold DOUBLE PRECISION NOT NULL,
    document_ids UUID[] NOT NULL DEFAULT '{}',
    message_id UUID REFERENCES messages(id) ON DELETE SET NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX idx_auto_answers_source
    ON auto_answers (ticket_id, coalesce(source_message_id, '00000000-0000-0000-0000-000000000000'));
CREATE INDEX idx_auto_answers_org_created ON auto_answers (organization_id, created_at);
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
    op.execute(ANSWERS)
    for table in ("answer_models", "auto_answers"):
        op.execute(TENANT_POLICY.format(table=table))


def downgrade() -> None:
    op.execute("DROP TABLE auto_answers")
    op.execute("DROP TABLE answer_models")
