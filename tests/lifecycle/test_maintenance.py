"""Maintenance runs against the real database, as its owner, without a transaction."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

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
    # An interrupted REINDEX CONCURRENTLY leaves an invalid "…_ccnew" index; a failed concurrent build
    # leaves the same kind of index.
    async with db.engine().connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text("DROP INDEX IF EXISTS idx_users_role_ccnew"))
        with pytest.raises(IntegrityError):  # users share roles: the build fails, its index stays invalid
            await connection.execute(
                text("CREATE UNIQUE INDEX CONCURRENTLY idx_users_role_ccnew ON users(role)")
            )

    await maintenance.run(Task.REINDEX)

    async with db.system_session() as session:
        invalid = await session.scalars(
            text(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " WHERE NOT i.indisvalid"
            )
        )
        assert list(invalid) == []
