"""Maintenance runs against the real database, as its owner, without a transaction."""

import psycopg
import pytest
from sqlalchemy import text

from supportdesk import db, jobs
from supportdesk.lifecycle import jobs as lifecycle_jobs
from supportdesk.lifecycle import maintenance
from supportdesk.lifecycle.maintenance import Task


def test_the_lifecycle_runs_on_product_md_s_calendar():
    periodic = {task.task.name: task.cron for task in jobs.app.periodic_registry.periodic_tasks.values()}
    assert lifecycle_jobs.__name__ in jobs.TASK_MODULES  # what a worker imports

    assert periodic["seal_archived_wal"] == "* * * * *"  # the WAL the server archived, encrypted
    assert periodic["take_backup"] == "0 1 * * *"  # daily
    assert periodic["apply_retention"] == "30 2 * * *"  # daily
    assert periodic["vacuum_analyze"] == "0 3 * * 0"  # weekly
    assert periodic["reindex"] == "0 4 1 * *"  # monthly
    assert periodic["update_statistics"] == "0 5 1 1,4,7,10 *"  # quarterly


async def test_vacuum_and_analyze_go_through_every_table(app):
    for task in (Task.VACUUM, Task.ANALYZE):
        tables = await maintenance.run(task)
        assert {"tickets", "messages", "audit_logs", "document_passages", "archived_records"} <= set(tables)
    async with db.system_session() as session:
        analyzed = await session.scalar(
            text("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'tickets'")
        )
    assert analyzed


async def test_a_rebuild_drops_what_an_interrupted_one_left_and_leaves_every_index_valid(app):
    # A REINDEX CONCURRENTLY waits for older snapshots: cancelled while it waits, it leaves an invalid
    # "…_ccnew" copy of each index of the table, its TOAST table's included.
    # Connections of their own, not the pool's: the timeout must not outlive this test.
    url = db.database_url()
    async with (
        await psycopg.AsyncConnection.connect(url) as reader,
        await psycopg.AsyncConnection.connect(url, autocommit=True) as rebuilder,
    ):
        await reader.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        await reader.execute("SELECT count(*) FROM audit_logs")
        await rebuilder.execute("SET statement_timeout = '1s'")
        with pytest.raises(psycopg.errors.QueryCanceled):
            await rebuilder.execute("REINDEX TABLE CONCURRENTLY audit_logs")
    assert {"public", "pg_toast"} <= {schema for schema, _ in await invalid_indexes()}

    await maintenance.run(Task.REINDEX)

    assert await invalid_indexes() == []


async def invalid_indexes() -> list[tuple[str, str]]:
    async with db.system_session() as session:
        rows = await session.execute(
            text(
                "SELECT n.nspname, c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE NOT i.indisvalid"
            )
        )
        return [tuple(row) for row in rows]
