import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import text

from supportdesk import db, embedded
from tests.factories import add_user, free_port, open_ticket, sign_up
from tests.markers import embedded_only


async def test_health_answers_when_the_database_does(client):
    response = await client.get("http://test/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_head_answers_as_get_without_the_body(client):
    org = await sign_up(client)
    for url, headers in (("http://test/healthz", {}), ("/tickets", org.headers)):
        get = await client.get(url, headers=headers)
        head = await client.head(url, headers=headers)
        assert head.status_code == get.status_code == 200
        assert head.headers["content-length"] == get.headers["content-length"]
        assert head.content == b""
    assert (await client.head("/tickets")).status_code == 401


async def test_a_new_ticket_goes_to_the_only_agent(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    ticket = await open_ticket(client, org)
    assert ticket["assigned_agent_id"] == agent["id"]
    assert ticket["status"] == "new"
    me = await client.get(f"/users/{agent['id']}", headers=org.headers)
    assert me.json()["current_ticket_count"] == 1


@embedded_only
async def test_the_embedded_server_gets_a_cache_sized_for_the_machine(client):
    async with db.system_session() as session:
        blocks = int(
            await session.scalar(text("SELECT setting FROM pg_settings WHERE name = 'shared_buffers'"))
        )
    assert blocks * 8 // 1024 == embedded.shared_buffers_mb() > 128


@embedded_only
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_a_new_embedded_server_stops_with_the_server_process_that_started_it(tmp_path, stop):
    """Its first start restarts it (the cache size): SIGTERM to `supportdesk serve` must still stop it,
    and so must SIGHUP (a closed terminal, a dropped SSH session), through the same clean exit."""
    data_dir = tmp_path / "data"
    port = free_port()
    env = {**os.environ, "SUPPORTDESK_DATA_DIR": str(data_dir), "PORT": str(port)}
    serve = subprocess.Popen(
        [str(Path(sys.executable).parent / "supportdesk"), "serve", "--no-worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not _answers(f"http://127.0.0.1:{port}/healthz"):
            assert serve.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
        serve.send_signal(stop)
        serve.wait(timeout=60)
    finally:
        serve.kill()
    servers = [
        process
        for process in psutil.process_iter(["name", "cmdline"])
        if process.info["name"] == "postgres" and str(data_dir) in " ".join(process.info["cmdline"] or [])
    ]
    for server in servers:
        server.send_signal(signal.SIGINT)  # a failing run leaves no server behind
    assert servers == []
    assert serve.returncode == 0  # through the exit hooks, not killed


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
