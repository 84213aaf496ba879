"""Failed logins, counted per email (supportdesk.auth.throttle): a guessed password is throttled.

Not a tenant table: a login does not know its organization until the password is right. The email is
kept as its SHA-256 only, and the rows are readable in system mode only (the login runs in it).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        """
        CREATE TABLE login_failures (
            email_hash TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failed_at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX idx_login_failures_last_failed_at ON login_failures (last_failed_at);
        ALTER TABLE login_failures ENABLE ROW LEVEL SECURITY;
        ALTER TABLE login_failures FORCE ROW LEVEL SECURITY;
        CREATE POLICY system_access ON login_failures
            USING (current_setting('supportdesk.system', true) = 'on');
        """
    )


def downgrade() -> None:
    op.execute("DROP TABLE login_failures")
