"""The operator's commands under signals: SIGTERM stops their work as Ctrl-C does, and lets its cleanup
finish (an evaluation deletes its scratch organizations there)."""

import os
import subprocess
import sys

SIGTERM_TWICE = """
import asyncio, os, signal
from supportdesk.cli import _run

async def work():
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.sleep(30)
    finally:
        os.kill(os.getpid(), signal.SIGTERM)  # again, while it cleans up
        await asyncio.sleep(0.2)
        print("cleaned up", flush=True)

try:
    _run(work())
except KeyboardInterrupt:
    print("stopped", flush=True)
"""


def test_a_second_sigterm_lets_the_cleanup_the_first_one_started_finish():
    """The verifier's two SIGTERMs 20 ms apart cancelled an evaluation's cleanup: a scratch organization
    was left, and a traceback."""
    done = subprocess.run([sys.executable, "-c", SIGTERM_TWICE], capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines() == ["cleaned up", "stopped"], done.stderr


SIGTERM_AFTER_DATABASE_WORK = """
import asyncio, os, signal, time
from supportdesk.cli import STOP_SIGNALS, _run, _stop_as_ctrl_c

async def work():
    return "done"

for number in STOP_SIGNALS:  # as the command line's callback sets them
    signal.signal(number, _stop_as_ctrl_c)
print(_run(work()), flush=True)  # its loop, closing, set SIGTERM back to its default: killed at once
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(30)
finally:
    print("cleaned up", flush=True)
"""


def test_sigterm_stops_a_command_as_ctrl_c_does_after_its_database_work_too():
    """`retention`, `maintenance` and `demo` left the embedded PostgreSQL running when SIGTERM came
    outside the work itself (migrating before it, exiting after it): nothing ran their cleanup."""
    done = subprocess.run(
        [sys.executable, "-c", SIGTERM_AFTER_DATABASE_WORK], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.splitlines() == ["done", "cleaned up"], done.stderr
    assert "KeyboardInterrupt" in done.stderr


A_WORKER_STOPPED_IN_A_JOB = """
import asyncio, os, signal
from supportdesk import cli, db, jobs

@jobs.app.task(name="tests.stop_the_worker")
async def stop_the_worker():
    os.kill(os.getpid(), signal.SIGTERM)  # a service manager stops the worker while this job runs
    await asyncio.sleep(60)

async def defer_it():
    async with jobs.app.open_async(), db.system_session() as session:
        await jobs.defer(session, stop_the_worker)
    await db.dispose()

cli._migrate()
asyncio.run(defer_it())
cli.worker(concurrency=1)
print("stopped", flush=True)
"""


def test_sigterm_stops_a_worker_while_it_runs_a_job(tmp_path):
    """Raised as an exit in the job that ran, it was that job's failure: retried, and the worker went on."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env |= {"SUPPORTDESK_DATA_DIR": str(tmp_path / "data"), "SUPPORTDESK_BACKUPS": "0"}
    done = subprocess.run(
        [sys.executable, "-c", A_WORKER_STOPPED_IN_A_JOB],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.stdout.splitlines() == ["stopped"], done.stderr
