"""Run as `python -m tests.lifecycle.probe write|switch|read …` against the embedded server of
SUPPORTDESK_DATA_DIR: what the backup tests do to a database between the operator's commands."""

import sys
import time

import psycopg

from supportdesk import db
from supportdesk.lifecycle import backup


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
    with psycopg.connect(backup.embedded_server_uri(), autocommit=True) as connection:
        connection.execute("SELECT pg_switch_wal()")


def read() -> None:
    with psycopg.connect(db.database_url()) as connection:
        print(" ".join(row[0] for row in connection.execute("SELECT value FROM probe ORDER BY at")))


if __name__ == "__main__":
    {"write": write, "switch": switch, "read": read}[sys.argv[1]](*sys.argv[2:])
