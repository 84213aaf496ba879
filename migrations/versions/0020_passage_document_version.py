"""document_passages.document_version: the document's updated_at that a passage was split from.

An automatic answer quoted a public document's passages as the indexing job had last split them, so an
edit saved before the ticket even arrived (a wrong or sensitive sentence removed) was still sent to
customers until the job ran (32 s for a 190,000-character document). The responder now quotes only
passages of the document's current version.

Existing passages take their document's current updated_at: only those whose re-indexing job is still
queued are older than that, and the job rewrites them when it runs.

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-28
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE document_passages ADD COLUMN document_version TIMESTAMPTZ")
    op.execute(
        "UPDATE document_passages p SET document_version = d.updated_at FROM documents d"
        " WHERE d.id = p.document_id"
    )
    op.execute("ALTER TABLE document_passages ALTER COLUMN document_version SET NOT NULL")


def downgrade() -> None:
    op.execute("ALTER TABLE document_passages DROP COLUMN document_version")
