"""Changes and deletions of one object racing on real connections: each request finds the object as the
one before it left it (deleted: 404), never a 500, and one deletion is audited once."""

import asyncio

import pytest

from tests.factories import sign_up

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
