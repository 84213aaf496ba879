"""The operator's commands under signals: SIGTERM stops their work as Ctrl-C does, and lets its cleanup
finish (an evaluation deletes its scratch organizations there)."""

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
from supportdesk.cli import _configuration, _run

async def work():
    return "done"

_configuration()
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
