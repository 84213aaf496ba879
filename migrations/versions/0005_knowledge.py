"""The knowledge base's passages: documents split for search, with their full-text vectors and (once
a model computes them) their embeddings.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

KNOWLEDGE = """
-- A document's passages, recomputed by a background job whenever the document is written.
-- is_public is the document's, copied so that the public search filters without a join; the
-- document update sets it in the same transaction, so it is never stale.
CREATE TABLE document_passages (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    document_id UUID NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position INTEGER NOT NULL CHECK (position >= 0),
    heading TEXT NOT NULL,
    content TEXT NOT NULL,
    is_public BOOLEAN NOT NULL,
    -- The heading (document title and section) weighs A, the passage's text B.
    search_vector TSVECTOR NOT NULL GENERATED ALWAYS AS (
        setweight(to_tsvector('english', heading), 'A') || setweight(to_tsvector('english', content), 'B')
    ) STORED,
    embedding VECTOR(384),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (document_id, position)
);
CREATE INDEX idx_document_passages_organization ON document_passages(organization_id, is_public);
CREATE INDEX idx_document_passages_search ON document_passages USING gin (search_vector);
CREATE INDEX idx_document_passages_embedding ON document_passages USING hnsw (embedding vector_cosine_ops);
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
    op.execute(KNOWLEDGE)
    op.execute(TENANT_POLICY.format(table="document_passages"))


def downgrade() -> None:
    op.execute("DROP TABLE document_passages")
