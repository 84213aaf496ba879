"""A deletion keeps what it removed for 30 days; an operator can put it back."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.lifecycle import archive
from supportdesk.webhooks.limit import WEBHOOKS_PER_ORGANIZATION
from tests.factories import add_category, sign_up
from tests.knowledge.helpers import add_document, run_jobs, search
from tests.lifecycle.helpers import archived, restore
from tests.tickets.helpers import execute_as_system


async def test_a_deleted_document_comes_back_with_its_categories_and_is_searchable_again(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    document = await add_document(
        client,
        org,
        "Refund policy",
        "Refunds reach your card within five working days of the return.",
        is_public=True,
        category_ids=[category["id"]],
    )
    await run_jobs()
    assert (await client.delete(f"/documents/{document['id']}", headers=org.headers)).status_code == 204
    assert (await client.get(f"/documents/{document['id']}", headers=org.headers)).status_code == 404

    (entry,) = await archived(org)
    assert (entry.entity_type, str(entry.entity_id), entry.reason) == ("document", document["id"], "deleted")
    assert archive.summary(entry) == {"title": "Refund policy"}
    await restore(entry)
    await run_jobs()  # its passages are indexed again

    back = await client.get(f"/documents/{document['id']}", headers=org.headers)
    assert back.status_code == 200
    assert back.json() == document
    assert [hit["document"]["id"] for hit in await search(client, org, "refunds card")] == [document["id"]]
    assert await archived(org) == []
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": document["id"]})
    actions = [(e["action"], e["actor_id"]) for e in audit.json()["data"]]
    assert actions[0] == ("document.restored", None)  # the newest: the system's, an operator's command


async def test_a_restore_leaves_out_the_links_to_categories_deleted_since(client):
    org = await sign_up(client)
    kept, deleted = await add_category(client, org), await add_category(client, org)
    document = await add_document(
        client, org, "Shipping", "We ship within two days.", category_ids=[kept["id"], deleted["id"]]
    )
    await client.delete(f"/documents/{document['id']}", headers=org.headers)
    await client.delete(f"/categories/{deleted['id']}", headers=org.headers)

    (entry,) = [entry for entry in await archived(org) if entry.entity_type == "document"]
    await restore(entry)

    back = await client.get(f"/documents/{document['id']}", headers=org.headers)
    assert back.json()["category_ids"] == [kept["id"]]


async def test_a_category_and_a_webhook_come_back_and_a_list_never_shows_the_secret(client):
    org = await sign_up(client)
    category = await add_category(client, org, description="Orders and deliveries")
    document = await add_document(client, org, "Tracking", "Track your order.", category_ids=[category["id"]])
    webhook = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://hooks.example.com/x", "events": ["ticket.created"]},
    )
    await client.delete(f"/categories/{category['id']}", headers=org.headers)
    await client.delete(f"/webhooks/{webhook.json()['id']}", headers=org.headers)

    entries = {entry.entity_type: entry for entry in await archived(org)}
    assert archive.summary(entries["webhook"]) == {"url": "https://hooks.example.com/x"}
    for entry in entries.values():
        await restore(entry)

    assert (await client.get(f"/categories/{category['id']}", headers=org.headers)).json() == category
    linked = await client.get(f"/documents/{document['id']}", headers=org.headers)
    assert linked.json()["category_ids"] == [category["id"]]
    hooks = await client.get("/webhooks", headers=org.headers)
    assert [hook["id"] for hook in hooks.json()["data"]] == [webhook.json()["id"]]


async def test_an_entry_restores_once_and_a_clash_is_a_clear_error_that_changes_nothing(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    document = await add_document(client, org, "Returns", "Send it back.", category_ids=[category["id"]])
    await client.delete(f"/documents/{document['id']}", headers=org.headers)
    (entry,) = await archived(org)
    async with db.system_session() as session:  # the same document archived twice over
        await session.execute(
            text(
                "INSERT INTO archived_records SELECT gen_random_uuid(), organization_id, entity_type,"
                " entity_id, reason, contents, archived_at FROM archived_records WHERE id = :id"
            ),
            {"id": entry.id},
        )
    await restore(entry)

    (twin,) = await archived(org)
    with pytest.raises(archive.RestoreError, match="cannot be restored: duplicate key"):
        await restore(twin)
    assert [e.id for e in await archived(org)] == [twin.id]  # kept for another try
    with pytest.raises(archive.RestoreError, match="restored already"):
        await restore(entry)


async def test_entries_older_than_thirty_days_are_purged(client):
    org = await sign_up(client)
    old, recent = await add_category(client, org), await add_category(client, org)
    for category in (old, recent):
        await client.delete(f"/categories/{category['id']}", headers=org.headers)
    await execute_as_system(
        "UPDATE archived_records SET archived_at = now() - interval '31 days' WHERE entity_id = :id",
        id=old["id"],
    )
    async with db.system_session() as session:
        assert await archive.purge(session, datetime.now(UTC)) >= 1
    assert [str(entry.entity_id) for entry in await archived(org)] == [recent["id"]]


async def test_only_a_deletion_is_archived_not_an_edit(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    document = await add_document(client, org, "Returns", "Send it back.")
    await client.patch(f"/documents/{document['id']}", headers=org.headers, json={"title": "Returns v2"})
    await client.patch(f"/categories/{category['id']}", headers=org.headers, json={"name": "Renamed"})

    assert await archived(org) == []


async def test_a_webhook_is_not_restored_past_the_organization_s_limit(client):
    org = await sign_up(client)
    body = {"url": "https://hooks.example.com/x", "events": ["ticket.created"]}
    first = await client.post("/webhooks", headers=org.headers, json=body)
    await client.delete(f"/webhooks/{first.json()['id']}", headers=org.headers)
    for _ in range(WEBHOOKS_PER_ORGANIZATION):
        assert (await client.post("/webhooks", headers=org.headers, json=body)).status_code == 201

    (entry,) = await archived(org)
    with pytest.raises(archive.RestoreError, match="at most 25 webhooks"):
        await restore(entry)
