"""Which document answers a ticket, in a person's words (a PATCH of `answer_document_id`; null: no
document answers it): the answer model learns from such tickets how customers ask what each public
document answers, and what the knowledge base does not answer.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-26
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "ALTER TABLE tickets ADD COLUMN answer_document_id UUID REFERENCES documents(id) ON DELETE SET NULL"
    )
    op.execute("ALTER TABLE tickets ADD COLUMN no_document_answers BOOLEAN NOT NULL DEFAULT false")
    # The answer model's fingerprint and training read the few marked tickets, not the whole history.
    op.execute(
        "CREATE INDEX idx_tickets_answer_marks ON tickets(organization_id, updated_at DESC)"
        " INCLUDE (id, answer_document_id) WHERE answer_document_id IS NOT NULL OR no_document_answers"
    )
    # Deleting a document finds the tickets it answers without reading all of them, and so do
    # GET /tickets?answer_document_id= and ?no_document_answers=true, in the list's keyset order.
    op.execute(
        "CREATE INDEX idx_tickets_answer_document ON tickets(answer_document_id, created_at DESC, id DESC)"
        " WHERE answer_document_id IS NOT NULL"
    )
    op.execute(
        "CREATE INDEX idx_tickets_no_document_answers ON tickets(organization_id, created_at DESC, id DESC)"
        " WHERE no_document_answers"
    )


def downgrade() -> None:
    op.execute("ALTER TABLE tickets DROP COLUMN no_document_answers")
    op.execute("ALTER TABLE tickets DROP COLUMN answer_document_id")
