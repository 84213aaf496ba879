"""Alembic runs every revision in one transaction, holding an advisory lock so that two processes
starting at once (a server and a worker, say) never migrate concurrently."""

from alembic import context
from sqlalchemy import create_engine, text

from supportdesk.config import sqlalchemy_url
from supportdesk.db import database_url

MIGRATION_LOCK = 7_263_514


def run_migrations_online() -> None:
    url = context.config.attributes.get("database_url") or database_url()
    engine = create_engine(sqlalchemy_url(url))
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
        connection.commit()
        try:
            context.configure(connection=connection, transaction_per_migration=True)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
            connection.commit()
    engine.dispose()


run_migrations_online()
