"""The audit log: who changed what, from what, to what — and nothing for changes that failed."""

from tests.factories import PASSWORD, add_category, add_user, open_ticket, sign_up, unique_email


async def entries(client, org, **params) -> list[dict]:
    response = await client.get("/audit-logs", headers=org.headers, params={"limit": 100, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def only_entry(client, org, entity_type: str, entity_id: str, action: str) -> dict:
    matching = [
        entry
        for entry in await entries(client, org, entity_type=entity_type, entity_id=entity_id)
        if entry["action"] == action
    ]
    assert len(matching) == 1, matching
    return matching[0]


async def test_an_entry_has_the_documented_shape(client):
    org = await sign_up(client)
    category = await add_category(client, org)

    entry = await only_entry(client, org, "category", category["id"], "category.created")

    assert set(entry) >= {
        "id",
        "actor_id",
        "action",
        "entity_type",
        "entity_id",
        "before",
        "after",
        "created_at",
    }
    assert entry["actor_id"] == org.admin_id
    assert entry["before"] is None
    assert entry["after"]["name"] == category["name"]


async def test_user_changes_are_audited_with_before_and_after(client):
    org = await sign_up(client)
    user, _ = await add_user(client, org, "agent")
    await client.patch(
        f"/users/{user['id']}", headers=org.headers, json={"name": "Renamed", "role": "analyst"}
    )

    created = await only_entry(client, org, "user", user["id"], "user.created")
    updated = await only_entry(client, org, "user", user["id"], "user.updated")

    assert created["after"]["email"] == user["email"]
    assert "password_hash" not in created["after"]
    assert updated["before"] == {"name": user["name"], "role": "agent"}
    assert updated["after"] == {"name": "Renamed", "role": "analyst"}
    assert updated["actor_id"] == org.admin_id


async def test_category_changes_are_audited(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    await client.patch(f"/categories/{category['id']}", headers=org.headers, json={"priority_level": 1})
    await client.delete(f"/categories/{category['id']}", headers=org.headers)

    updated = await only_entry(client, org, "category", category["id"], "category.updated")
    deleted = await only_entry(client, org, "category", category["id"], "category.deleted")

    assert (updated["before"], updated["after"]) == ({"priority_level": 3}, {"priority_level": 1})
    assert deleted["before"]["name"] == category["name"] and deleted["after"] is None


async def test_document_changes_are_audited(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    document = (
        await client.post("/documents", headers=org.headers, json={"title": "FAQ", "content": "Answers"})
    ).json()
    path = f"/documents/{document['id']}"
    await client.patch(path, headers=org.headers, json={"is_public": True, "category_ids": [category["id"]]})
    await client.delete(path, headers=org.headers)

    created = await only_entry(client, org, "document", document["id"], "document.created")
    updated = await only_entry(client, org, "document", document["id"], "document.updated")
    deleted = await only_entry(client, org, "document", document["id"], "document.deleted")

    assert created["after"]["title"] == "FAQ"
    assert updated["before"] == {"is_public": False, "category_ids": []}
    assert updated["after"] == {"is_public": True, "category_ids": [category["id"]]}
    assert deleted["before"]["title"] == "FAQ"


async def test_plan_and_settings_changes_are_audited(client):
    org = await sign_up(client)
    await client.patch("/organization", headers=org.headers, json={"plan": "pro", "auto_close_after_days": 5})

    updated = await only_entry(client, org, "organization", org.id, "organization.updated")

    assert updated["before"]["plan"] == "free" and updated["after"]["plan"] == "pro"
    assert updated["before"]["agent_limit"] == 3 and updated["after"]["agent_limit"] > 3
    assert (
        updated["before"]["auto_close_after_days"] is None and updated["after"]["auto_close_after_days"] == 5
    )


async def test_ticket_changes_are_audited(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    await client.patch(f"/tickets/{ticket['id']}", headers=org.headers, json={"priority": 1})

    created = await only_entry(client, org, "ticket", ticket["id"], "ticket.created")
    updated = await only_entry(client, org, "ticket", ticket["id"], "ticket.updated")

    assert created["after"]["title"] == ticket["title"]
    assert (updated["before"]["priority"], updated["after"]["priority"]) == (ticket["priority"], 1)


async def test_deleting_a_category_audits_each_ticket_it_uncategorizes(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    tickets = [await open_ticket(client, org, category_id=category["id"]) for _ in range(2)]

    await client.delete(f"/categories/{category['id']}", headers=org.headers)

    for ticket in tickets:
        updated = await only_entry(client, org, "ticket", ticket["id"], "ticket.updated")
        assert updated["before"] == {"category_id": category["id"]}
        assert updated["after"] == {"category_id": None}
        assert updated["actor_id"] == org.admin_id


async def test_a_change_that_changes_nothing_writes_no_entry(client):
    org = await sign_up(client)
    category = await add_category(client, org)

    await client.patch(f"/categories/{category['id']}", headers=org.headers, json={"name": category["name"]})
    await client.patch("/organization", headers=org.headers, json={"plan": "free"})
    await client.patch(f"/users/{org.admin_id}", headers=org.headers, json={"role": "admin"})

    actions = [entry["action"] for entry in await entries(client, org)]
    assert "category.updated" not in actions
    assert "organization.updated" not in actions
    assert "user.updated" not in actions


async def test_a_failed_change_writes_no_entry(client):
    org = await sign_up(client)
    for _ in range(3):
        await add_user(client, org, "agent")
    before = await entries(client, org)
    body = {"email": unique_email(), "name": "Fourth", "role": "agent", "password": PASSWORD}

    refused = await client.post("/users", headers=org.headers, json=body)
    invalid = await client.post(
        "/documents", headers=org.headers, json={"title": "t", "content": "c", "category_ids": [org.id]}
    )

    assert refused.status_code == 403 and invalid.status_code == 422
    assert await entries(client, org) == before


async def test_the_log_filters_by_entity(client):
    org = await sign_up(client)
    first, second = await add_category(client, org), await add_category(client, org)
    await add_user(client, org, "agent")

    categories = await entries(client, org, entity_type="category")
    one = await entries(client, org, entity_type="category", entity_id=first["id"])
    by_id = await entries(client, org, entity_id=second["id"])

    assert {entry["entity_id"] for entry in categories} == {first["id"], second["id"]}
    assert [entry["entity_id"] for entry in one] == [first["id"]]
    assert [entry["entity_id"] for entry in by_id] == [second["id"]]


async def test_the_log_is_newest_first_and_pages_through_a_cursor(client):
    org = await sign_up(client)
    categories = [await add_category(client, org) for _ in range(3)]
    everything = await entries(client, org, entity_type="category")

    first = await client.get(
        "/audit-logs", headers=org.headers, params={"entity_type": "category", "limit": 2}
    )
    cursor = first.json()["next_cursor"]
    second = await client.get(
        "/audit-logs", headers=org.headers, params={"entity_type": "category", "limit": 2, "cursor": cursor}
    )

    assert [entry["entity_id"] for entry in everything] == [
        category["id"] for category in reversed(categories)
    ]
    assert cursor and second.json()["next_cursor"] is None
    assert first.json()["data"] + second.json()["data"] == everything


async def test_a_bad_cursor_is_refused(client):
    org = await sign_up(client)

    response = await client.get("/audit-logs", headers=org.headers, params={"cursor": "not-a-cursor"})

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


async def test_only_admins_read_the_log(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org, "agent")
    _, analyst = await add_user(client, org, "analyst")

    for headers in (agent, analyst):
        response = await client.get("/audit-logs", headers=headers)
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"


async def test_an_organization_sees_only_its_own_log(client):
    mine, theirs = await sign_up(client), await sign_up(client)
    category = await add_category(client, theirs)

    assert await entries(client, mine, entity_id=category["id"]) == []
    assert {entry["entity_id"] for entry in await entries(client, mine)} <= {mine.id, mine.admin_id}
