"""The workflow engine's schema: business hours, SLA events, automation settings, delivery errors,
and the partial indexes that keep the periodic scans off resolved history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

WORKFLOW = """
-- One calendar per organization: its time zone, its weekly opening hours and its holidays.
-- weekly_hours maps ISO weekday (1 = Monday … 7 = Sunday, as text) to [["09:00", "17:00"], …].
CREATE TABLE business_hours (
    organization_id UUID PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
    timezone VARCHAR(64) NOT NULL DEFAULT 'UTC',
    weekly_hours JSONB NOT NULL,
    holidays DATE[] NOT NULL DEFAULT '{}',
    updated_at TIMESTAMPTZ NOT NULL
);

ALTER TABLE categories ADD COLUMN uses_business_hours BOOLEAN NOT NULL DEFAULT false;

-- Each breach of each clock of each ticket, recorded once.
CREATE TABLE sla_events (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    ticket_id UUID NOT NULL REFERENCES tickets(id) ON DELETE CASCADE,
    kind VARCHAR(30) NOT NULL CHECK (kind IN ('response_breached', 'resolution_breached')),
    due_at TIMESTAMPTZ NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    UNIQUE (ticket_id, kind)
);
CREATE INDEX idx_sla_events_organization ON sla_events(organization_id, occurred_at DESC);

-- The breach scan reads only tickets whose clock still runs, however long the history grows.
CREATE INDEX idx_tickets_response_clock ON tickets(response_due_at)
    WHERE first_response_at IS NULL AND NOT response_breached AND status NOT IN ('resolved', 'closed');
CREATE INDEX idx_tickets_resolution_clock ON tickets(resolution_due_at)
    WHERE resolution_paused_at IS NULL AND NOT resolution_breached AND status NOT IN ('resolved', 'closed');

-- Automations: a pending ticket gets a reminder, then resolves itself; a resolved one closes.
ALTER TABLE organizations
    ADD COLUMN pending_reminder_after_hours INTEGER CHECK (pending_reminder_after_hours > 0),
    ADD COLUMN pending_auto_resolve_after_days INTEGER CHECK (pending_auto_resolve_after_days > 0);
ALTER TABLE tickets ADD COLUMN pending_reminder_sent_at TIMESTAMPTZ;
CREATE INDEX idx_tickets_waiting_on_customer ON tickets(organization_id, resolution_paused_at)
    WHERE status = 'pending';
CREATE INDEX idx_tickets_resolved_at ON tickets(organization_id, resolved_at) WHERE status = 'resolved';

ALTER TABLE webhook_deliveries ADD COLUMN last_error TEXT;

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
    op.execute(WORKFLOW)
    for table in ("business_hours", "sla_events"):
        op.execute(TENANT_POLICY.format(table=table))


def downgrade() -> None:
    op.execute(
        "DROP TABLE sla_events, business_hours;"
        "DROP INDEX idx_tickets_response_clock, idx_tickets_resolution_clock,"
        " idx_tickets_waiting_on_customer, idx_tickets_resolved_at;"
        "ALTER TABLE categories DROP COLUMN uses_business_hours;"
        "ALTER TABLE organizations DROP COLUMN pending_reminder_after_hours,"
        " DROP COLUMN pending_auto_resolve_after_days;"
        "ALTER TABLE tickets DROP COLUMN pending_reminder_sent_at;"
        "ALTER TABLE webhook_deliveries DROP COLUMN last_error;"
    )
