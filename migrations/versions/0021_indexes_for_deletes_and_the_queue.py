"""Indexes for what deletes look up, and for the waiting queue's order.

Deleting a message (retention, a customer's erasure) looks for the automatic answers that reference it
(two foreign keys), and deleting a customer for their messages and portal tokens: without an index
each looked through the whole table, every organization's rows (a customer of 10 tickets took 1.4 s
beside another organization's 450,000 messages; 50 tickets past retention, 39 s).

The queue hands out the open ticket without an agent that is due first (tickets/assignment.py); the
index it had was in priority order, so each change that moved an agent's load read and sorted every
waiting ticket (20,000: 33 ms under the assignment lock). Its predicate is the query's, written out.

Revision ID: 0021
Revises: 0020
Create Date: 2026-11-27
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

INDEXES = {
    "idx_auto_answers_message": "auto_answers (message_id) WHERE message_id IS NOT NULL",
    "idx_auto_answers_source_message": "auto_answers (source_message_id) WHERE source_message_id IS NOT NULL",
    "idx_messages_customer": "messages (customer_id) WHERE customer_id IS NOT NULL",
    "idx_api_tokens_customer": "api_tokens (customer_id) WHERE customer_id IS NOT NULL",
    "idx_tickets_waiting_due": "tickets (organization_id, response_due_at, priority, created_at, id)"
    " WHERE assigned_agent_id IS NULL AND status NOT IN ('resolved', 'closed')",
}


def upgrade() -> None:
    for name, definition in INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    for name in INDEXES:
        op.execute(f"DROP INDEX {name}")
