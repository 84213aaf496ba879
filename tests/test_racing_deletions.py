"""Changes and deletions of one object racing on real connections: each request finds the object as the
one before it left it (deleted: 404), never a 500, and one deletion is audited once."""

import asyncio

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.tickets import service as ticket_service
from supportdesk.users import service as user_service
from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.waiting import until_a_lock_is_waited_for

CREATE = {
    "categories": {"name": "Billing"},
    "documents": {"title": "Refunds", "content": "Refunds take five days."},
    "webhooks": {"url": "https://hooks.example.com/x", "events": ["ticket.created"]},
}
CHANGE = {"categories": "name", "documents": "title", "webhooks": None}  # webhooks are not changed
ENTITY = {"categories": "category", "documents": "document", "webhooks": "webhook"}
ROUNDS, RACERS = 3, 4


@pytest.mark.parametrize("kind", sorted(CREATE))
async def test_racing_changes_and_deletions_end_in_one_deletion(client, kind):
    org = await sign_up(client, plan="pro")
    for _ in range(ROUNDS):
        created = await client.post(f"/{kind}", headers=org.headers, json=CREATE[kind])
        assert created.status_code == 201, created.text
        path = f"/{kind}/{created.json()['id']}"
        changes = [
            client.patch(path, headers=org.headers, json={CHANGE[kind]: f"Renamed {i}"})
            for i in range(RACERS if CHANGE[kind] else 0)
        ]
        deletions = [client.delete(path, headers=org.headers) for _ in range(RACERS)]
        responses = await asyncio.gather(*changes, *deletions)
        assert {r.status_code for r in responses[: len(changes)]} <= {200, 404}, [r.text for r in responses]
        assert sorted(r.status_code for r in responses[len(changes) :]) == [204] + [404] * (RACERS - 1)
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_type": ENTITY[kind]})
    actions = [entry["action"] for entry in audit.json()["data"]]
    assert actions.count(f"{ENTITY[kind]}.deleted") == ROUNDS


async def test_a_category_deleted_while_documents_are_linked_to_it_comes_first_or_second(client):
    org = await sign_up(client, plan="pro")
    for _ in range(ROUNDS):
        categories = [
            (await client.post("/categories", headers=org.headers, json={"name": f"C{i}"})).json()["id"]
            for i in range(2)
        ]
        body = {**CREATE["documents"], "category_ids": categories}
        *created, deleted = await asyncio.gather(
            *(client.post("/documents", headers=org.headers, json=body) for _ in range(RACERS)),
            client.delete(f"/categories/{categories[0]}", headers=org.headers),
        )
        assert deleted.status_code == 204
        assert {r.status_code for r in created} <= {201, 422}, [r.text for r in created]
        await client.delete(f"/categories/{categories[1]}", headers=org.headers)


async def test_a_category_on_business_hours_deleted_while_its_tickets_document_is_deleted_or_moved(client):
    """The deletion rewrites its open tickets' clocks: one write each, or PostgreSQL checked their
    document again and waited on the document's own deletion, which waited on the deletion (a deadlock:
    409 in 5 of 6 rounds)."""
    org = await sign_up(client, plan="pro")
    hours = {str(day): [["09:00", "17:00"]] for day in range(1, 8)}
    response = await client.put(
        "/business-hours", headers=org.headers, json={"timezone": "UTC", "weekly_hours": hours}
    )
    assert response.status_code == 200, response.text
    for document_change in ("delete", "patch"):
        category = await client.post(
            "/categories", headers=org.headers, json={"name": "Office", "uses_business_hours": True}
        )
        document = await client.post("/documents", headers=org.headers, json=CREATE["documents"])
        category_id, document_id = category.json()["id"], document.json()["id"]
        for _ in range(20):
            ticket = await open_ticket(client, org, category_id=category_id)
            marked = await client.patch(
                f"/tickets/{ticket['id']}", headers=org.headers, json={"answer_document_id": document_id}
            )
            assert marked.status_code == 200, marked.text
        change = (
            client.delete(f"/documents/{document_id}", headers=org.headers)
            if document_change == "delete"
            else client.patch(
                f"/documents/{document_id}", headers=org.headers, json={"category_ids": [category_id]}
            )
        )
        deleted, changed = await asyncio.gather(
            client.delete(f"/categories/{category_id}", headers=org.headers), change
        )
        assert deleted.status_code == 204, deleted.text
        assert changed.status_code in (200, 204, 422), changed.text


async def between_two_writes(change, deletion, first_write: asyncio.Event, go_on: asyncio.Event):
    """Start `change`; once it has written the first time (`first_write`), start `deletion`, and when that
    waits for a lock, let the change go on (`go_on`); both answers."""
    changing = asyncio.create_task(change)
    await first_write.wait()
    deleting = asyncio.create_task(deletion)
    await until_a_lock_is_waited_for(deleting)
    go_on.set()
    return await asyncio.gather(changing, deleting)


async def test_a_ticket_written_twice_waits_for_its_categorys_deletion_instead_of_deadlocking(
    client, monkeypatch
):
    """A change that records a due breach writes the ticket twice, and PostgreSQL checks its category
    again at the second write: after the ticket's lock, the reverse of a deletion's order. The deletion
    comes between the two writes here, and must wait for the change (a deadlock: a 409 for one)."""
    org = await sign_up(client, plan="pro")
    category = await add_category(client, org, response_sla_minutes=1)
    ticket = await open_ticket(client, org, category_id=category["id"])
    async with db.system_session() as session:  # the response deadline has come, unrecorded
        await session.execute(
            text("UPDATE tickets SET response_due_at = now() - interval '1 minute' WHERE id = :id"),
            {"id": ticket["id"]},
        )
    first_write, go_on = asyncio.Event(), asyncio.Event()
    record_due_breaches = ticket_service.record_due_breaches

    async def pausing_after_the_first_write(session, locked, now):
        recorded = await record_due_breaches(session, locked, now)
        if recorded and not first_write.is_set():
            first_write.set()
            await go_on.wait()
        return recorded

    monkeypatch.setattr(ticket_service, "record_due_breaches", pausing_after_the_first_write)
    change = client.patch(f"/tickets/{ticket['id']}", headers=org.headers, json={"status": "pending"})
    deletion = client.delete(f"/categories/{category['id']}", headers=org.headers)
    changed, deleted = await between_two_writes(change, deletion, first_write, go_on)
    assert (changed.status_code, deleted.status_code) == (200, 204), (changed.text, deleted.text)


async def test_an_agent_leaving_waits_for_their_tickets_categorys_deletion_instead_of_deadlocking(
    client, monkeypatch
):
    """An agent who leaves gives their tickets back to the queue, which hands them out again: each is
    written twice, and PostgreSQL checks its category again at the second write. The deletion comes
    between the two writes here (a deadlock: a 409 every time for an outside tester)."""
    org = await sign_up(client, plan="pro")
    leaving, _ = await add_user(client, org)
    category = await add_category(client, org)
    for _ in range(3):
        await open_ticket(client, org, category_id=category["id"])
    await add_user(client, org)  # who takes them over
    first_write, go_on = asyncio.Event(), asyncio.Event()
    unassign_open_tickets = user_service.unassign_open_tickets

    async def pausing_after_the_first_write(session, actor, agent_id):
        await unassign_open_tickets(session, actor, agent_id)
        first_write.set()
        await go_on.wait()

    monkeypatch.setattr(user_service, "unassign_open_tickets", pausing_after_the_first_write)
    change = client.patch(f"/users/{leaving['id']}", headers=org.headers, json={"status": "inactive"})
    deletion = client.delete(f"/categories/{category['id']}", headers=org.headers)
    changed, deleted = await between_two_writes(change, deletion, first_write, go_on)
    assert (changed.status_code, deleted.status_code) == (200, 204), (changed.text, deleted.text)
