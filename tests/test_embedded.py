"""The embedded PostgreSQL's start, as an operator meets it: the `supportdesk` program on a data
directory a previous server left behind."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.config import get_settings
from supportdesk.lifecycle.postgres import server_user
from tests.markers import embedded_only

SUPPORTDESK = str(Path(sys.executable).parent / "supportdesk")


@embedded_only
def test_a_postmaster_pid_left_by_a_crash_naming_another_process_is_stale(tmp_path):
    """After a power loss the pid in postmaster.pid may belong to anything: the server starts anew and
    that process is left alone (pgserver joined it, failed, and killed it at exit). So with the lock of
    its socket, which a data directory copied from a running server has too (PostgreSQL refused to start:
    "lock file already exists")."""
    data_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {"SUPPORTDESK_DATA_DIR": str(data_dir), "SUPPORTDESK_BACKUPS": "0"}
    _crash_a_server(data_dir, env)
    # The server's user's: PostgreSQL takes a lock naming a process it may not signal for stale.
    victim = subprocess.Popen(["sleep", "1000"], user=server_user())
    try:
        for lock_file in (data_dir / "postmaster.pid", data_dir / ".s.PGSQL.5432.lock"):
            lines = lock_file.read_text().splitlines()
            lock_file.write_text("\n".join([str(victim.pid), *lines[1:]]) + "\n")
        _migrate(env)
        assert victim.poll() is None
    finally:
        victim.kill()
    # The server it started stopped when it exited (pg_ctl waits for its postmaster.pid, removed just
    # before the process ends).
    assert psutil.wait_procs(_servers_of(data_dir), timeout=10)[1] == []


def test_a_data_directory_of_other_files_is_refused_in_one_line_and_left_as_it_was(tmp_path):
    """initdb failed on it, after pgserver had made it its server's user's: a traceback."""
    data_dir = tmp_path / "notes"
    data_dir.mkdir()
    (data_dir / "notes.txt").write_text("mine\n")
    owner = data_dir.stat().st_uid
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {"SUPPORTDESK_DATA_DIR": str(data_dir), "SUPPORTDESK_BACKUPS": "0"}

    refused = subprocess.run([SUPPORTDESK, "migrate"], env=env, capture_output=True, text=True, timeout=120)

    assert refused.returncode == 1
    assert refused.stderr.splitlines() == [
        f"error: {data_dir} (SUPPORTDESK_DATA_DIR) holds files but no PostgreSQL data: give the embedded"
        " PostgreSQL's data directory, or an empty or new one"
    ]
    assert [path.name for path in data_dir.iterdir()] == ["notes.txt"] and data_dir.stat().st_uid == owner


@embedded_only
@pytest.mark.skipif(os.geteuid() != 0, reason="the server has a user of its own only when root starts it")
def test_a_data_directory_the_server_cannot_write_is_refused_in_one_line_with_its_reason(tmp_path):
    """pgserver's own report of the failure came first, some thirty lines with the server's old log, and
    our line named a log the server could not write."""
    data_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {"SUPPORTDESK_DATA_DIR": str(data_dir), "SUPPORTDESK_BACKUPS": "0"}
    _migrate(env)
    for path in [data_dir, *data_dir.rglob("*")]:  # copied by root, say, and not given back
        os.chown(path, 0, 0)

    refused = subprocess.run([SUPPORTDESK, "migrate"], env=env, capture_output=True, text=True, timeout=120)

    assert refused.returncode == 1
    (line,) = refused.stderr.splitlines()
    assert line.startswith("error: the embedded PostgreSQL: pg_ctl failed: ") and "Permission denied" in line


@embedded_only
def test_a_stop_while_the_server_starts_stops_the_server_too(tmp_path):
    """pgserver counts a process among the server's users only once pg_ctl returns: SIGTERM as the
    server appeared left it running, 6 times in 6."""
    data_dir = tmp_path / "data"
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {"SUPPORTDESK_DATA_DIR": str(data_dir), "SUPPORTDESK_BACKUPS": "0"}
    migrating = subprocess.Popen(
        [SUPPORTDESK, "migrate"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    while not _servers_of(data_dir):
        assert migrating.poll() is None, migrating.communicate()
        time.sleep(0.01)
    migrating.send_signal(signal.SIGTERM)
    migrating.communicate(timeout=120)
    left_running = psutil.wait_procs(_servers_of(data_dir), timeout=10)[1]
    for server in left_running:  # not for the next tests to find
        server.terminate()
    assert left_running == []


@embedded_only
def test_a_second_process_joins_the_running_server():
    """A live server of the data directory (the suite's) is not taken for a stale one."""
    db.database_url()
    pid_file = get_settings().data_dir.resolve() / "postmaster.pid"
    before = pid_file.read_text()
    migrated = _migrate(dict(os.environ))
    assert pid_file.read_text() == before
    assert psutil.pid_exists(int(before.split()[0]))
    # Nothing under the output: psql printed `NOTICE: extension "vector" already exists, skipping`.
    assert migrated.stderr == ""


@embedded_only
async def test_the_embedded_server_plans_for_a_fast_disk(client):
    """An index in the list's order, not the organization's whole history, for an agent who left."""
    async with db.system_session() as session:
        assert await session.scalar(text("SELECT current_setting('random_page_cost')")) == "1.1"


def _migrate(env: dict[str, str]) -> subprocess.CompletedProcess:
    """`supportdesk migrate`, which starts (or joins) the server and stops it if it is the last user."""
    migrate = subprocess.run([SUPPORTDESK, "migrate"], env=env, capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    return migrate


def _crash_a_server(data_dir: Path, env: dict[str, str]) -> None:
    """Start a server in `data_dir` and kill it and the process that started it, leaving its files."""
    start_and_die = "from supportdesk import db; import os; db.database_url(); os.kill(os.getpid(), 9)"
    subprocess.run([sys.executable, "-c", start_and_die], env=env, timeout=120)
    (postmaster,) = _servers_of(data_dir)
    helpers = postmaster.children()
    postmaster.send_signal(signal.SIGKILL)
    # Its helpers exit once they notice; until then a new server would refuse their shared memory.
    assert psutil.wait_procs([postmaster, *helpers], timeout=30)[1] == []


def _servers_of(data_dir: Path) -> list[psutil.Process]:
    return [
        process
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres" and str(data_dir) in (process.info["cmdline"] or [])
    ]
