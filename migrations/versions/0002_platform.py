"""What the platform adds beside the seed: customers, tokens, usage counters, SLA fields, settings,
the audit log, webhooks, the agent-load trigger and row-level security on every tenant table.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TENANT_TABLES = [
    "users",
    "categories",
    "tickets",
    "messages",
    "documents",
    "document_categories",
    "customers",
    "api_tokens",
    "usage_counters",
    "audit_logs",
    "webhooks",
    "webhook_deliveries",
]

PLATFORM = """
ALTER TABLE organizations
    ADD COLUMN auto_response_threshold DOUBLE PRECISION NOT NULL DEFAULT 0.8
        CHECK (auto_response_threshold BETWEEN 0 AND 1),
    ADD COLUMN max_open_tickets_per_agent INTEGER CHECK (max_open_tickets_per_agent > 0),
    ADD COLUMN auto_close_after_days INTEGER CHECK (auto_close_after_days > 0);

ALTER TABLE users ADD COLUMN password_hash TEXT;

CREATE TABLE customers (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email VARCHAR(255) NOT NULL,
    name VARCHAR(255),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    UNIQUE (organization_id, email)
);

ALTER TABLE tickets
    ADD CONSTRAINT tickets_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers(id),
    ADD COLUMN response_due_at TIMESTAMPTZ,
    ADD COLUMN resolution_due_at TIMESTAMPTZ,
    ADD COLUMN first_response_at TIMESTAMPTZ,
    ADD COLUMN resolution_paused_at TIMESTAMPTZ,
    ADD COLUMN response_breached BOOLEAN NOT NULL DEFAULT false,
    ADD COLUMN resolution_breached BOOLEAN NOT NULL DEFAULT false;
CREATE INDEX idx_tickets_organization_created ON tickets(organization_id, created_at DESC, id DESC);
CREATE INDEX idx_tickets_customer_created ON tickets(customer_id, created_at DESC, id DESC);
CREATE INDEX idx_tickets_category ON tickets(category_id) WHERE category_id IS NOT NULL;
-- The queue of tickets waiting for an agent: small, whatever the history.
CREATE INDEX idx_tickets_waiting ON tickets(organization_id, priority, created_at)
    WHERE assigned_agent_id IS NULL AND status NOT IN ('resolved', 'closed');
-- GET /tickets?q=: full-text match on title and description.
CREATE INDEX idx_tickets_search ON tickets
    USING gin (to_tsvector('simple', title || ' ' || description));

ALTER TABLE messages
    ADD COLUMN organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE,
    ADD COLUMN customer_id UUID REFERENCES customers(id) ON DELETE SET NULL;
CREATE INDEX idx_messages_organization ON messages(organization_id);

ALTER TABLE document_categories
    ADD COLUMN organization_id UUID REFERENCES organizations(id) ON DELETE CASCADE;
CREATE INDEX idx_document_categories_category ON document_categories(category_id);
CREATE INDEX idx_documents_organization_created ON documents(organization_id, created_at DESC, id DESC);
CREATE INDEX idx_categories_organization ON categories(organization_id, created_at, id);

-- Bearer tokens, stored as SHA-256 of a 256-bit random secret; a staff token names a user,
-- a customer token (the portal) names a customer, never both.
CREATE TABLE api_tokens (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id UUID REFERENCES users(id) ON DELETE CASCADE,
    customer_id UUID REFERENCES customers(id) ON DELETE CASCADE,
    token_hash CHAR(64) NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    CHECK ((user_id IS NULL) <> (customer_id IS NULL))
);
CREATE INDEX idx_api_tokens_organization ON api_tokens(organization_id);

-- Who a bearer token speaks for. The token is what names the tenant, so this lookup must see every
-- organization: system mode is on for the lookup only. A caller learns nothing without the secret
-- whose hash it passes.
CREATE FUNCTION supportdesk_token_owner(hash TEXT)
RETURNS TABLE (
    organization_id UUID, user_id UUID, customer_id UUID, role VARCHAR, status VARCHAR,
    organization_active BOOLEAN
)
LANGUAGE plpgsql
AS $$
DECLARE
    previous TEXT := coalesce(current_setting('supportdesk.system', true), 'off');
BEGIN
    PERFORM set_config('supportdesk.system', 'on', true);
    RETURN QUERY
        SELECT token.organization_id, token.user_id, token.customer_id,
               users.role, users.status, org.is_active
        FROM api_tokens AS token
        JOIN organizations AS org ON org.id = token.organization_id
        LEFT JOIN users ON users.id = token.user_id
        WHERE token.token_hash = hash AND token.revoked_at IS NULL AND token.expires_at > now();
    PERFORM set_config('supportdesk.system', previous, true);
END $$;

-- Tickets created per organization per calendar month: the plan limit is checked against this
-- row, not by counting tickets.
CREATE TABLE usage_counters (
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    month DATE NOT NULL,
    tickets_created INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (organization_id, month)
);

CREATE TABLE audit_logs (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    actor_id UUID,
    action VARCHAR(50) NOT NULL,
    entity_type VARCHAR(50) NOT NULL,
    entity_id UUID,
    before JSONB,
    after JSONB,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_audit_logs_organization_created ON audit_logs(organization_id, created_at DESC, id DESC);
CREATE INDEX idx_audit_logs_entity ON audit_logs(organization_id, entity_type, entity_id, created_at DESC);

CREATE TABLE webhooks (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    url VARCHAR(2048) NOT NULL,
    events VARCHAR(40)[] NOT NULL,
    secret VARCHAR(128) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_webhooks_organization ON webhooks(organization_id, created_at DESC, id DESC);

CREATE TABLE webhook_deliveries (
    id UUID PRIMARY KEY,
    organization_id UUID NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    webhook_id UUID NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event VARCHAR(40) NOT NULL,
    payload JSONB NOT NULL,
    status_code INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    delivered_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX idx_webhook_deliveries_webhook ON webhook_deliveries(webhook_id, created_at DESC, id DESC);

-- current_ticket_count is the number of an agent's tickets that are not resolved or closed. One
-- trigger keeps it so through every path that writes tickets (API, jobs, operators' SQL, deletes).
CREATE FUNCTION supportdesk_track_agent_load() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_agent UUID;
    new_agent UUID;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status NOT IN ('resolved', 'closed') THEN
        old_agent := OLD.assigned_agent_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status NOT IN ('resolved', 'closed') THEN
        new_agent := NEW.assigned_agent_id;
    END IF;
    IF old_agent IS NOT DISTINCT FROM new_agent THEN
        RETURN NULL;
    END IF;
    IF old_agent IS NOT NULL THEN
        UPDATE users SET current_ticket_count = current_ticket_count - 1 WHERE id = old_agent;
    END IF;
    IF new_agent IS NOT NULL THEN
        UPDATE users SET current_ticket_count = current_ticket_count + 1 WHERE id = new_agent;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tickets_agent_load
    AFTER INSERT OR DELETE OR UPDATE OF status, assigned_agent_id ON tickets
    FOR EACH ROW EXECUTE FUNCTION supportdesk_track_agent_load();
"""

TENANT_POLICY = """
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON {table}
    USING ({column} = NULLIF(current_setting('supportdesk.organization_id', true), '')::uuid);
CREATE POLICY system_access ON {table}
    USING (current_setting('supportdesk.system', true) = 'on');
"""


def upgrade() -> None:
    op.execute(PLATFORM)
    op.execute(TENANT_POLICY.format(table="organizations", column="id"))
    for table in TENANT_TABLES:
        op.execute(TENANT_POLICY.format(table=table, column="organization_id"))


def downgrade() -> None:
    for table in ["organizations", *TENANT_TABLES]:
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
        op.execute(f"DROP POLICY tenant_isolation ON {table}; DROP POLICY system_access ON {table}")
    op.execute(
        "DROP TRIGGER tickets_agent_load ON tickets; DROP FUNCTION supportdesk_track_agent_load();"
        "DROP FUNCTION supportdesk_token_owner(TEXT);"
        "DROP TABLE webhook_deliveries, webhooks, audit_logs, usage_counters, api_tokens;"
        "ALTER TABLE document_categories DROP COLUMN organization_id;"
        "ALTER TABLE messages DROP COLUMN organization_id, DROP COLUMN customer_id;"
        "ALTER TABLE tickets DROP CONSTRAINT tickets_customer_id_fkey, DROP COLUMN response_due_at,"
        " DROP COLUMN resolution_due_at, DROP COLUMN first_response_at, DROP COLUMN resolution_paused_at,"
        " DROP COLUMN response_breached, DROP COLUMN resolution_breached;"
        "DROP TABLE customers; ALTER TABLE users DROP COLUMN password_hash;"
        "ALTER TABLE organizations DROP COLUMN auto_response_threshold,"
        " DROP COLUMN max_open_tickets_per_agent, DROP COLUMN auto_close_after_days;"
    )
