"""Categories: CRUD by admins, the seed's defaults, and deletion that keeps tickets."""

import uuid

from tests.factories import add_category, add_user, open_ticket, sign_up


async def test_a_new_category_takes_the_seed_defaults(client):
    org = await sign_up(client)

    response = await client.post("/categories", headers=org.headers, json={"name": "Billing"})

    assert response.status_code == 201, response.text
    category = response.json()
    assert category["name"] == "Billing" and category["organization_id"] == org.id
    assert category["is_active"] is True and category["description"] is None
    assert (
        category["response_sla_minutes"],
        category["resolution_sla_minutes"],
        category["priority_level"],
    ) == (60, 480, 3)


async def test_a_category_is_created_read_and_listed(client):
    org = await sign_up(client)
    fields = {
        "name": "Outages",
        "description": "Service is down",
        "response_sla_minutes": 15,
        "resolution_sla_minutes": 120,
        "priority_level": 1,
    }
    created = await add_category(client, org, **fields)

    fetched = (await client.get(f"/categories/{created['id']}", headers=org.headers)).json()
    listed = (await client.get("/categories", headers=org.headers)).json()

    assert {key: fetched[key] for key in fields} == fields
    assert [category["id"] for category in listed["data"]] == [created["id"]]
    assert listed["next_cursor"] is None


async def test_a_category_is_updated_and_its_description_cleared(client):
    org = await sign_up(client)
    category = await add_category(client, org, description="old")

    response = await client.patch(
        f"/categories/{category['id']}",
        headers=org.headers,
        json={"name": "Renamed", "priority_level": 5, "is_active": False, "description": None},
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["priority_level"], updated["is_active"]) == ("Renamed", 5, False)
    assert updated["description"] is None
    assert updated["response_sla_minutes"] == 60  # untouched


async def test_categories_filter_by_active(client):
    org = await sign_up(client)
    active = await add_category(client, org)
    inactive = await add_category(client, org, is_active=False)

    on = (await client.get("/categories", headers=org.headers, params={"is_active": "true"})).json()
    off = (await client.get("/categories", headers=org.headers, params={"is_active": "false"})).json()

    assert [category["id"] for category in on["data"]] == [active["id"]]
    assert [category["id"] for category in off["data"]] == [inactive["id"]]


async def test_deleting_a_category_keeps_its_tickets_uncategorized(client):
    org = await sign_up(client)
    await add_user(client, org, "agent")
    category = await add_category(client, org)
    ticket = await open_ticket(client, org, category_id=category["id"])
    await client.post(f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": "On it"})

    deleted = await client.delete(f"/categories/{category['id']}", headers=org.headers)

    assert deleted.status_code == 204
    assert (await client.get(f"/categories/{category['id']}", headers=org.headers)).status_code == 404
    kept = await client.get(f"/tickets/{ticket['id']}", headers=org.headers)
    assert kept.status_code == 200
    assert kept.json()["category_id"] is None
    assert kept.json()["sla"]["response_due_at"] == ticket["sla"]["response_due_at"]
    messages = (await client.get(f"/tickets/{ticket['id']}/messages", headers=org.headers)).json()["data"]
    assert [message["content"] for message in messages if not message["is_internal"]][-1] == "On it"


async def test_deleting_a_category_unlinks_its_documents_and_audits_each(client):
    org = await sign_up(client)
    category, other = await add_category(client, org), await add_category(client, org)
    document = await client.post(
        "/documents",
        headers=org.headers,
        json={
            "title": "Refunds",
            "content": "How refunds work",
            "category_ids": [category["id"], other["id"]],
        },
    )

    await client.delete(f"/categories/{category['id']}", headers=org.headers)

    kept = await client.get(f"/documents/{document.json()['id']}", headers=org.headers)
    assert kept.status_code == 200 and kept.json()["category_ids"] == [other["id"]]
    log = await client.get("/audit-logs", headers=org.headers, params={"entity_id": document.json()["id"]})
    [unlinked] = [entry for entry in log.json()["data"] if entry["action"] == "document.updated"]
    assert unlinked["actor_id"] == org.admin_id
    assert sorted(unlinked["before"]["category_ids"]) == sorted([category["id"], other["id"]])
    assert unlinked["after"] == {"category_ids": [other["id"]]}


async def test_only_admins_write_categories_but_everyone_reads_them(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    _, agent = await add_user(client, org, "agent")
    _, analyst = await add_user(client, org, "analyst")

    for headers in (agent, analyst):
        assert (await client.post("/categories", headers=headers, json={"name": "x"})).status_code == 403
        path = f"/categories/{category['id']}"
        assert (await client.patch(path, headers=headers, json={"name": "x"})).status_code == 403
        assert (await client.delete(path, headers=headers)).status_code == 403
        assert (await client.get(path, headers=headers)).status_code == 200


async def test_another_organizations_category_is_not_found(client):
    mine, theirs = await sign_up(client), await sign_up(client)
    category = await add_category(client, theirs)
    path = f"/categories/{category['id']}"

    for response in (
        await client.get(path, headers=mine.headers),
        await client.patch(path, headers=mine.headers, json={"name": "Mine now"}),
        await client.delete(path, headers=mine.headers),
        await client.get(f"/categories/{uuid.uuid4()}", headers=mine.headers),
    ):
        assert response.status_code == 404
    assert (await client.get("/categories", headers=mine.headers)).json()["data"] == []
    assert (await client.get(path, headers=theirs.headers)).json()["name"] == category["name"]


async def test_bad_category_input_is_a_validation_error(client):
    org = await sign_up(client)

    for body in (
        {"name": ""},
        {"name": "x", "priority_level": 6},
        {"name": "x", "priority_level": "1"},
        {"name": "x", "response_sla_minutes": 0},
        {"name": "x" * 256},
    ):
        response = await client.post("/categories", headers=org.headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
