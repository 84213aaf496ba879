"""Run as `python -m tests.lifecycle.probe write|switch|read|jobs|restore-failing-its-backup …` against
the embedded server of SUPPORTDESK_DATA_DIR: what the backup tests do to a database between the
operator's commands."""

import sys
import time

import psycopg

from supportdesk import db
from supportdesk.lifecycle import BackupError, backup, restore
from supportdesk.lifecycle.postgres import embedded_server_uri


def write(before: str, after: str) -> None:
    """Commit `before`, then `after` a second later; print a time between the two."""
    with psycopg.connect(db.database_url(), autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE IF NOT EXISTS probe (value text, at timestamptz DEFAULT clock_timestamp())"
        )
        connection.execute("INSERT INTO probe (value) VALUES (%s)", (before,))
        time.sleep(0.5)
        (between,) = connection.execute("SELECT clock_timestamp()").fetchone()
        time.sleep(0.5)
        connection.execute("INSERT INTO probe (value) VALUES (%s)", (after,))
    print(between.isoformat())


def switch() -> None:
    """Close the current WAL segment, so that the server archives it now rather than within 15 minutes."""
    db.database_url()  # starts the server
    with psycopg.connect(embedded_server_uri(), autocommit=True) as connection:
        connection.execute("SELECT pg_switch_wal()")


def read() -> None:
    with psycopg.connect(db.database_url()) as connection:
        print(" ".join(row[0] for row in connection.execute("SELECT value FROM probe ORDER BY at")))


def jobs(task: str) -> None:
    """Print how many jobs of `task` wait or run."""
    with psycopg.connect(db.database_url()) as connection:
        statement = (
            "SELECT count(*) FROM procrastinate_jobs WHERE task_name = %s AND status IN ('todo', 'doing')"
        )
        print(connection.execute(statement, (task,)).fetchone()[0])


def restore_failing_its_backup() -> None:
    """`supportdesk restore` whose backup of what it restored fails (a full disk, a stop at that moment):
    the new history is left without a full backup."""

    def fail(now: object) -> None:
        raise BackupError("no space left on device")

    restore.take = fail
    print(restore.restore(None, [backup.layout().identity]).backup_error)


if __name__ == "__main__":
    commands = {"write": write, "switch": switch, "read": read, "jobs": jobs}
    commands["restore-failing-its-backup"] = restore_failing_its_backup
    commands[sys.argv[1]](*sys.argv[2:])
