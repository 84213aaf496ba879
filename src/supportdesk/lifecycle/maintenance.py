"""Database maintenance (PRODUCT.md): VACUUM ANALYZE weekly, an index rebuild monthly, the planner's
statistics quarterly; scheduled jobs, and `supportdesk maintenance TASK` by hand.

Each runs over the tables of the product's schema, as their owner (the app role), outside a transaction
as VACUUM and REINDEX CONCURRENTLY require. None blocks reads or writes: VACUUM and ANALYZE take only
locks that writes pass, and the indexes are rebuilt CONCURRENTLY, one at a time.
"""

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum

import psycopg
from psycopg.conninfo import conninfo_to_dict
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from supportdesk import db
from supportdesk.lifecycle.postgres import embedded_server_uri

log = logging.getLogger(__name__)


class Task(StrEnum):
    VACUUM = "vacuum"  # VACUUM (ANALYZE): weekly
    REINDEX = "reindex"  # REINDEX CONCURRENTLY: monthly
    ANALYZE = "analyze"  # the planner's statistics: quarterly


async def run(task: Task) -> list[str]:
    """Run one maintenance task over every table of the schema; returns the tables it went through."""
    started = time.monotonic()
    async with _autocommit() as connection:
        tables = list(
            await connection.scalars(
                text("SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema()")
            )
        )
        if task is Task.VACUUM:
            await connection.execute(text(f"VACUUM (ANALYZE) {', '.join(tables)}"))
        elif task is Task.ANALYZE:
            await connection.execute(text(f"ANALYZE {', '.join(tables)}"))
        else:
            await _drop_failed_rebuilds(connection)
            for table in tables:
                await connection.execute(text(f"REINDEX TABLE CONCURRENTLY {table}"))
    log.info("maintenance: %s of %d tables in %.1f s", task.value, len(tables), time.monotonic() - started)
    return tables


async def _drop_failed_rebuilds(connection: AsyncConnection) -> None:
    """A rebuild interrupted (a restart, a cancelled job) leaves an invalid copy of its index, named
    `…_ccnew`, that every write still maintains: dropped before rebuilding again. A table's TOAST index
    lives in the pg_toast schema, which only a superuser may change: the embedded server's drops it;
    with another server, the log says what its operator should run."""
    leftovers = await connection.execute(
        text(
            "SELECT n.nspname = 'pg_toast', quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
            " FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE NOT i.indisvalid AND c.relname ~ '_ccnew[0-9]*$' AND i.indrelid IN ("
            "   SELECT oid FROM pg_class WHERE relnamespace = current_schema()::regnamespace"
            "   UNION SELECT reltoastrelid FROM pg_class WHERE relnamespace = current_schema()::regnamespace)"
        )
    )
    for in_toast, index in leftovers.all():
        log.warning("maintenance: dropping %s, left by an interrupted index rebuild", index)
        if not in_toast:
            await connection.execute(text(f"DROP INDEX CONCURRENTLY {index}"))
            continue
        superuser = embedded_server_uri()
        if superuser is None:
            log.error(
                "maintenance: %s is left by an interrupted rebuild: as a superuser, DROP INDEX %s",
                index,
                index,
            )
            continue
        database = conninfo_to_dict(db.database_url())["dbname"]
        async with await psycopg.AsyncConnection.connect(
            superuser, dbname=database, autocommit=True
        ) as admin:
            await admin.execute(f"DROP INDEX {index}")


@asynccontextmanager
async def _autocommit() -> AsyncIterator[AsyncConnection]:
    async with db.engine().connect() as connection:
        yield await connection.execution_options(isolation_level="AUTOCOMMIT")
