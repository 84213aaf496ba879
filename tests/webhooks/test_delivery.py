"""Deliveries reach a real HTTP receiver, signed, recorded, retried with backoff, and sent once."""

import asyncio
import contextlib
import hashlib
import hmac
import inspect
import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

from sqlalchemy import text

from supportdesk import db, jobs
from supportdesk.config import get_settings
from supportdesk.sla.jobs import check_ticket_counts
from supportdesk.webhooks import jobs as webhook_jobs
from supportdesk.webhooks.events import emit_event
from supportdesk.webhooks.jobs import DELIVERY_RETRY, deliver_webhook
from tests.factories import free_port, open_ticket, sign_up
from tests.webhooks.helpers import add_webhook, deliveries_of, discard_jobs, jobs_of, make_retries_due


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def emit(org, event: str, data: dict) -> None:
    async with db.tenant_session(uuid.UUID(org.id)) as session:
        await emit_event(session, uuid.UUID(org.id), event, data)


async def test_a_public_message_is_delivered_signed_and_recorded(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["message.created"])
    ticket = await open_ticket(client, org)

    response = await client.post(
        f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": "We are on it."}
    )
    assert response.status_code == 201, response.text
    assert receiver.requests == []  # the request only enqueued it

    await jobs.run_worker(wait=False)

    [request] = receiver.requests
    [delivery] = await deliveries_of(webhook["id"])
    assert request.path == "/hooks"
    assert request.headers["X-Supportdesk-Signature"] == signature(webhook["secret"], request.body)
    assert request.headers["X-Supportdesk-Event"] == "message.created"
    assert request.headers["X-Supportdesk-Delivery"] == str(delivery["id"])
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.body)
    assert set(body) == {"event", "created_at", "data"}
    assert body["event"] == "message.created"
    assert datetime.fromisoformat(body["created_at"]).tzinfo is not None
    assert body["created_at"].endswith("+00:00")  # as the API and the data write a timestamp
    assert body["data"] == response.json()
    assert delivery["status_code"] == 200
    assert delivery["attempts"] == 1
    assert delivery["delivered_at"] is not None
    assert delivery["last_error"] is None


async def test_an_internal_note_never_leaves(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["message.created"])
    ticket = await open_ticket(client, org)

    response = await client.post(
        f"/tickets/{ticket['id']}/messages",
        headers=org.headers,
        json={"content": "Customer seems upset", "is_internal": True},
    )
    assert response.status_code == 201, response.text
    await jobs.run_worker(wait=False)

    assert await deliveries_of(webhook["id"]) == []
    assert receiver.requests == []


async def test_an_unsubscribed_event_is_not_delivered(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["sla.breached"])
    ticket = await open_ticket(client, org)

    await client.post(f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": "Hello"})
    await emit(org, "ticket.updated", {"id": ticket["id"]})
    await jobs.run_worker(wait=False)

    assert await deliveries_of(webhook["id"]) == []
    assert receiver.requests == []


async def test_a_failed_delivery_is_retried_and_each_attempt_recorded(client, receiver, job_app, caplog):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["sla.breached"])
    receiver.answers = [500]

    await emit(org, "sla.breached", {"ticket_id": str(uuid.uuid4())})
    with caplog.at_level(logging.INFO, logger="procrastinate.worker"):
        await jobs.run_worker(wait=False)
    [delivery] = await deliveries_of(webhook["id"])
    # this delivery's line (another test's retry may fall due and fail in the same run)
    [failed] = [
        record
        for record in caplog.records
        if "ended with status: Error" in record.getMessage() and str(delivery["id"]) in record.getMessage()
    ]
    assert failed.getMessage().endswith(": HTTP 500") and failed.exc_info is None  # a line, no traceback

    assert (delivery["status_code"], delivery["attempts"], delivery["delivered_at"]) == (500, 1, None)
    assert delivery["last_error"] == "HTTP 500"
    [job] = await jobs_of([delivery["id"]])
    assert job["status"] == "todo"
    assert job["scheduled_at"] > datetime.now(UTC)  # backoff: not now
    await jobs.run_worker(wait=False)
    assert len(receiver.requests) == 1  # not due yet

    await make_retries_due([delivery["id"]])
    await jobs.run_worker(wait=False)

    [delivery] = await deliveries_of(webhook["id"])
    assert (delivery["status_code"], delivery["attempts"]) == (200, 2)
    assert delivery["delivered_at"] is not None and delivery["last_error"] is None
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["X-Supportdesk-Delivery"] == second.headers["X-Supportdesk-Delivery"]
    assert second.headers["X-Supportdesk-Signature"] == signature(webhook["secret"], second.body)
    assert await jobs_of([delivery["id"]]) == []  # succeeded, and deleted as successful jobs are


@contextlib.contextmanager
def dripping_receiver(seconds: float) -> Iterator[tuple[str, threading.Event]]:
    """A receiver that answers a header byte every tenth of a second for `seconds`: never too slow for
    a read, too slow in all. Its event is set when the sender hangs up before it is done."""
    listener = socket.create_server(("127.0.0.1", 0))
    cut_off = threading.Event()

    def drip() -> None:
        connection, _ = listener.accept()
        with connection:
            connection.recv(65536)
            try:
                connection.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(int(seconds * 10)):
                    time.sleep(0.1)
                    connection.sendall(b"x")
            except OSError:
                cut_off.set()

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hooks", cut_off
    finally:
        thread.join()
        listener.close()


async def test_an_attempt_has_a_deadline_however_steadily_the_receiver_drips(client, job_app, monkeypatch):
    monkeypatch.setattr(webhook_jobs, "ATTEMPT_SECONDS", 1.0)
    org = await sign_up(client)
    with dripping_receiver(seconds=20) as (url, cut_off):
        webhook = await add_webhook(client, org, url, events=["ticket.created"])
        await emit(org, "ticket.created", {"id": "t"})
        await jobs.run_worker(wait=False)
        [delivery] = await deliveries_of(webhook["id"])
        assert (delivery["status_code"], delivery["last_error"]) == (None, "no answer within 1 s")
        assert await asyncio.to_thread(cut_off.wait, 5)  # hung up, not waited for
    await discard_jobs([delivery["id"]])


async def test_a_redirect_is_not_followed(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.created"])
    receiver.answers = [302]

    await emit(org, "ticket.created", {"id": "t"})
    await jobs.run_worker(wait=False)

    [delivery] = await deliveries_of(webhook["id"])
    assert (delivery["status_code"], delivery["attempts"], delivery["last_error"]) == (302, 1, "HTTP 302")
    assert len(receiver.requests) == 1
    assert [job["status"] for job in await jobs_of([delivery["id"]])] == ["todo"]
    await discard_jobs([delivery["id"]])


async def test_an_unreachable_receiver_is_recorded_and_retried(client, job_app):
    port = free_port()
    org = await sign_up(client)
    webhook = await add_webhook(client, org, f"http://127.0.0.1:{port}/gone", events=["ticket.created"])

    await emit(org, "ticket.created", {"id": "t"})
    await jobs.run_worker(wait=False)

    [delivery] = await deliveries_of(webhook["id"])
    assert delivery["status_code"] is None and delivery["attempts"] == 1 and delivery["delivered_at"] is None
    assert delivery["last_error"].startswith("ConnectError")
    assert [job["status"] for job in await jobs_of([delivery["id"]])] == ["todo"]
    await discard_jobs([delivery["id"]])


async def test_attempts_are_capped(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.created"])
    receiver.answers = [503]
    await emit(org, "ticket.created", {"id": "t"})
    [delivery] = await deliveries_of(webhook["id"])
    async with db.system_session() as session:  # as if every earlier attempt had failed
        await session.execute(
            text("UPDATE procrastinate_jobs SET attempts = :n WHERE args->>'delivery_id' = :id"),
            {"n": DELIVERY_RETRY.max_attempts, "id": str(delivery["id"])},
        )

    await jobs.run_worker(wait=False)

    [delivery] = await deliveries_of(webhook["id"])
    assert (delivery["status_code"], delivery["delivered_at"]) == (503, None)
    assert [job["status"] for job in await jobs_of([delivery["id"]])] == ["failed"]
    await discard_jobs([delivery["id"]])


async def test_running_the_job_twice_delivers_once(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.updated"])
    await emit(org, "ticket.updated", {"id": "t"})
    await jobs.run_worker(wait=False)
    [delivery] = await deliveries_of(webhook["id"])

    async with db.system_session() as session:  # the same job again, as a retry after a lost worker would
        await jobs.defer(session, deliver_webhook, delivery_id=str(delivery["id"]))
    await jobs.run_worker(wait=False)

    assert len(receiver.requests) == 1
    assert await deliveries_of(webhook["id"]) == [delivery]


async def test_a_deleted_webhook_is_not_delivered(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.created"])
    await emit(org, "ticket.created", {"id": "t"})
    [delivery] = await deliveries_of(webhook["id"])

    assert (await client.delete(f"/webhooks/{webhook['id']}", headers=org.headers)).status_code == 204
    await jobs.run_worker(wait=False)

    assert receiver.requests == []
    assert await jobs_of([delivery["id"]]) == []  # ran, found nothing to do, succeeded


async def test_a_url_refused_at_delivery_time_is_recorded_not_retried(client, receiver, job_app, monkeypatch):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.created"])
    await emit(org, "ticket.created", {"id": "t"})
    # The operator withdrew the permission for private addresses (or the name now resolves to one).
    monkeypatch.setattr(get_settings(), "webhook_allow_private", False)

    await jobs.run_worker(wait=False)

    assert receiver.requests == []
    [delivery] = await deliveries_of(webhook["id"])
    assert delivery["attempts"] == 1 and delivery["delivered_at"] is None and delivery["status_code"] is None
    assert delivery["last_error"].startswith("refused: ")
    assert await jobs_of([delivery["id"]]) == []


async def test_deliveries_are_listed_newest_first(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.created", "ticket.updated"])
    for event in ("ticket.created", "ticket.updated", "ticket.updated"):
        await emit(org, event, {"id": "t"})
    receiver.answers = [200, 200, 500]
    await jobs.run_worker(wait=False, concurrency=1)
    stored = await deliveries_of(webhook["id"])

    response = await client.get(f"/webhooks/{webhook['id']}/deliveries", headers=org.headers)

    assert response.status_code == 200
    listed = response.json()["data"]
    assert [item["id"] for item in listed] == [str(row["id"]) for row in reversed(stored)]
    assert [item["event"] for item in listed] == ["ticket.updated", "ticket.updated", "ticket.created"]
    assert set(listed[0]) >= {"id", "event", "status_code", "attempts", "delivered_at", "created_at"}
    assert sorted(item["status_code"] for item in listed) == [200, 200, 500]
    assert all(item["attempts"] == 1 for item in listed)
    await discard_jobs([row["id"] for row in stored])


async def test_another_organization_cannot_list_the_deliveries(client, receiver):
    org, stranger = await sign_up(client), await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.created"])
    await emit(org, "ticket.created", {"id": "t"})

    response = await client.get(f"/webhooks/{webhook['id']}/deliveries", headers=stranger.headers)

    assert response.status_code == 404


async def test_a_host_name_is_resolved_once_and_the_checked_address_used(client, receiver, job_app):
    org = await sign_up(client)
    url = receiver.url.replace("127.0.0.1", "localhost")
    webhook = await add_webhook(client, org, url, events=["ticket.created"])

    await emit(org, "ticket.created", {"id": "t"})
    await jobs.run_worker(wait=False)

    [request] = receiver.requests
    assert request.headers["Host"] == url.split("/")[2]
    assert request.headers["X-Supportdesk-Signature"] == signature(webhook["secret"], request.body)
    [delivery] = await deliveries_of(webhook["id"])
    assert delivery["status_code"] == 200


def test_a_pinned_url_keeps_the_name_for_host_and_tls():
    from ipaddress import ip_address

    from supportdesk.webhooks.jobs import _pinned

    url, headers, extensions = _pinned("https://u:p@hooks.example.com:8443/in?x=1", ip_address("2001:db8::5"))
    assert url == "https://u:p@[2001:db8::5]:8443/in?x=1"
    assert headers == {"Host": "hooks.example.com:8443"}
    assert extensions == {"sni_hostname": "hooks.example.com"}
    assert _pinned("http://hooks.example.com/in", ip_address("93.184.216.34")) == (
        "http://93.184.216.34/in",
        {"Host": "hooks.example.com"},
        {},
    )


async def test_a_backlog_of_slow_deliveries_never_holds_back_other_jobs(client, receiver, job_app):
    org = await sign_up(client)
    webhook = await add_webhook(client, org, receiver.url, events=["ticket.updated"])
    receiver.open.clear()
    for n in range(6):
        await emit(org, "ticket.updated", {"n": n})
    worker = asyncio.create_task(jobs.run_worker(concurrency=2))
    try:
        await until(lambda: len(receiver.requests) == 2)  # both delivery slots wait on the receiver
        async with db.system_session() as session:
            await jobs.defer(session, check_ticket_counts, timestamp=0)
        done = await until(lambda: no_job_named("check_ticket_counts"))
        held = len(receiver.requests)
    finally:
        receiver.open.set()
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker
        await discard_jobs([delivery["id"] for delivery in await deliveries_of(webhook["id"])])

    assert done  # the default queue's job ran (and was deleted) while the deliveries were stuck
    assert held == 2


async def test_an_organization_with_deliveries_waiting_goes_behind_the_next_one(client, receiver, job_app):
    noisy, quiet = await sign_up(client), await sign_up(client)
    for org in (noisy, quiet):
        await add_webhook(client, org, receiver.url, events=["ticket.updated"])
    for n in range(4):
        await emit(noisy, "ticket.updated", {"org": "noisy", "n": n})
    await emit(quiet, "ticket.updated", {"org": "quiet", "n": 0})

    await jobs.run_worker(wait=False, concurrency=1)

    bodies = [json.loads(request.body)["data"] for request in receiver.requests]
    order = [(body["org"], body["n"]) for body in bodies]
    assert order == [("noisy", 0), ("quiet", 0), ("noisy", 1), ("noisy", 2), ("noisy", 3)]


async def until(check, seconds: float = 20) -> bool:
    """Whether `check()` (or what it awaits to) comes true within `seconds`, polled every 50 ms."""
    for _ in range(int(seconds / 0.05)):
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return True
        await asyncio.sleep(0.05)
    return False


async def no_job_named(task_name: str) -> bool:
    async with db.system_session() as session:
        return not await session.scalar(
            text("SELECT count(*) FROM procrastinate_jobs WHERE task_name = :name"), {"name": task_name}
        )
