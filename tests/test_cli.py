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
