"""The customer directory, and deleting a customer with their tickets (a person who asks to be forgotten)."""

import asyncio

from tests.factories import add_user, bearer, open_ticket, sign_up
from tests.lifecycle.helpers import archived, restore
from tests.tickets.helpers import assert_counts_are_true, patch_ticket
from tests.webhooks.helpers import add_webhook


async def portal_ticket(client, org, email: str) -> dict:
    response = await client.post(
        f"/portal/{org.id}/tickets", json={"email": email, "title": "Invoice", "description": "Wrong amount."}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_customers_are_listed_newest_first_found_by_address_and_kept_to_their_organization(client):
    org, other = await sign_up(client), await sign_up(client)
    for name in ("ann", "bob", "cid"):
        await open_ticket(client, org, customer={"email": f"{name}@customer.test", "name": name.title()})
    await open_ticket(client, other, customer={"email": "ann@customer.test"})
    _, agent = await add_user(client, org)

    first = await client.get("/customers", headers=agent, params={"limit": 2})
    assert [c["email"] for c in first.json()["data"]] == ["cid@customer.test", "bob@customer.test"]
    rest = await client.get("/customers", headers=org.headers, params={"cursor": first.json()["next_cursor"]})
    assert [c["name"] for c in rest.json()["data"]] == ["Ann"] and rest.json()["next_cursor"] is None

    found = await client.get("/customers", headers=org.headers, params={"email": " ANN@Customer.test "})
    (ann,) = found.json()["data"]
    assert ann["organization_id"] == org.id
    assert (await client.get(f"/customers/{ann['id']}", headers=org.headers)).json() == ann
    assert (await client.get(f"/customers/{ann['id']}", headers=other.headers)).status_code == 404
    assert (await client.delete(f"/customers/{ann['id']}", headers=other.headers)).status_code == 404
    assert (await client.get("/customers", headers=org.headers, params={"email": "nope"})).status_code == 422


async def test_a_later_ticket_gives_a_customer_a_name_but_never_replaces_it(client):
    org = await sign_up(client)
    await open_ticket(client, org, customer={"email": "ann@customer.test"})
    [nameless] = (await client.get("/customers", headers=org.headers)).json()["data"]

    await open_ticket(client, org, customer={"email": "ann@customer.test", "name": "Ann"})
    named = (await client.get(f"/customers/{nameless['id']}", headers=org.headers)).json()
    assert named["name"] == "Ann" and named["updated_at"] > nameless["updated_at"]
    # anyone may open a portal ticket with Ann's address, and call themselves anything
    response = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": "ann@customer.test", "name": "Mallory", "title": "Hi", "description": "Hello"},
    )
    assert response.status_code == 201, response.text
    assert (await client.get(f"/customers/{nameless['id']}", headers=org.headers)).json() == named


async def test_a_customer_with_a_ticket_in_progress_is_not_deleted(client):
    org = await sign_up(client)
    await add_user(client, org)
    ticket = await open_ticket(client, org)

    response = await client.delete(f"/customers/{ticket['customer_id']}", headers=org.headers)

    assert response.status_code == 409
    assert response.json()["code"] == "customer_has_open_tickets"
    assert response.json()["ticket_ids"] == [ticket["id"]]
    assert (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).status_code == 200


async def test_deleting_a_customer_takes_their_tickets_tokens_and_quoting_audit_entries_and_archives_them(
    client,
):
    org = await sign_up(client)
    _, agent_headers = await add_user(client, org)
    mine = await portal_ticket(client, org, "forget.me@customer.test")
    other = await open_ticket(client, org, customer={"email": "stay@customer.test"})
    ticket_id, customer_token = mine["ticket"]["id"], bearer(mine["access_token"])
    await client.post(f"/tickets/{ticket_id}/messages", headers=org.headers, json={"content": "Fixed."})
    assert (await patch_ticket(client, org, ticket_id, status="resolved")).status_code == 200
    customer_id = (await client.get(f"/tickets/{ticket_id}", headers=org.headers)).json()["customer_id"]

    assert (await client.delete(f"/customers/{customer_id}", headers=agent_headers)).status_code == 403
    assert (await client.delete(f"/customers/{customer_id}", headers=org.headers)).status_code == 204

    assert (await client.get(f"/customers/{customer_id}", headers=org.headers)).status_code == 404
    assert (await client.get(f"/tickets/{ticket_id}", headers=org.headers)).status_code == 404
    assert (await client.get("/portal/tickets", headers=customer_token)).status_code == 401
    assert (await client.get(f"/tickets/{other['id']}", headers=org.headers)).status_code == 200
    await assert_counts_are_true(client, org)
    audit = (await client.get("/audit-logs", headers=org.headers)).json()["data"]
    assert not [e for e in audit if e["entity_id"] == ticket_id]
    (deleted,) = [e for e in audit if e["action"] == "customer.deleted"]
    assert deleted["entity_id"] == customer_id and deleted["before"] == {"tickets": 1}
    assert "forget.me" not in str(audit)

    # Kept 30 days, like any deletion: the ticket brings its customer back.
    (entry,) = [e for e in await archived(org) if e.entity_type == "ticket"]
    await restore(entry)
    messages = await client.get(f"/tickets/{ticket_id}/messages", headers=org.headers)
    assert "Fixed." in [m["content"] for m in messages.json()["data"]]
    assert (await client.get(f"/customers/{customer_id}", headers=org.headers)).status_code == 200
    await assert_counts_are_true(client, org)


async def test_a_deletion_racing_new_tickets_of_the_same_customer_loses_nothing(client):
    org = await sign_up(client, plan="pro")
    first = await portal_ticket(client, org, "racer@customer.test")
    ticket_id = first["ticket"]["id"]
    assert (await patch_ticket(client, org, ticket_id, status="resolved")).status_code == 200
    customer_id = (await client.get(f"/tickets/{ticket_id}", headers=org.headers)).json()["customer_id"]

    responses = await asyncio.gather(
        client.delete(f"/customers/{customer_id}", headers=org.headers),
        *(
            client.post(
                f"/portal/{org.id}/tickets",
                json={"email": "racer@customer.test", "title": f"Again {i}", "description": "Still wrong."},
            )
            for i in range(4)
        ),
    )

    deletion, *created = responses
    assert deletion.status_code in (204, 409), deletion.text
    assert all(r.status_code == 201 for r in created), [r.text for r in created]
    # Every new ticket exists, with a customer that exists: the deletion came before them, or was refused.
    for response in created:
        ticket = await client.get(f"/tickets/{response.json()['ticket']['id']}", headers=org.headers)
        assert ticket.status_code == 200
        owner = await client.get(f"/customers/{ticket.json()['customer_id']}", headers=org.headers)
        assert owner.status_code == 200
    if deletion.status_code == 204:
        assert (await client.get(f"/tickets/{ticket_id}", headers=org.headers)).status_code == 404


async def test_nothing_that_quotes_a_deleted_customer_stays_behind(client):
    """Their tickets' webhook deliveries go (unsent ones are never sent), and a restore's audit entry,
    which names the customer, goes with the next deletion."""
    org = await sign_up(client)
    webhook = await add_webhook(
        client, org, "https://hooks.example.com/c", ["ticket.created", "ticket.updated"]
    )
    deliveries = f"/webhooks/{webhook['id']}/deliveries"
    await open_ticket(client, org, customer={"email": "stay@customer.test"})
    gone = await open_ticket(client, org, customer={"email": "quoted@customer.test", "name": "Quinn"})
    assert (await patch_ticket(client, org, gone["id"], status="resolved")).status_code == 200
    path = f"/customers/{gone['customer_id']}"
    assert (await client.delete(path, headers=org.headers)).status_code == 204
    (entry,) = [e for e in await archived(org) if e.entity_type == "ticket"]
    await restore(entry)  # the customer first, audited with their address
    assert (await client.delete(path, headers=org.headers)).status_code == 204

    audit = (await client.get("/audit-logs", headers=org.headers, params={"limit": 100})).json()["data"]
    assert "quoted@customer.test" not in str(audit) and "Quinn" not in str(audit)
    assert [e["action"] for e in audit if e["entity_id"] == gone["customer_id"]] == ["customer.deleted"] * 2
    # Only the other customer's ticket was ever sent about.
    assert len((await client.get(deliveries, headers=org.headers)).json()["data"]) == 1


async def test_a_restored_ticket_goes_to_whoever_has_its_customers_address_now(client):
    org = await sign_up(client)
    old = await open_ticket(client, org, customer={"email": "back@customer.test"})
    assert (await patch_ticket(client, org, old["id"], status="resolved")).status_code == 200
    assert (await client.delete(f"/customers/{old['customer_id']}", headers=org.headers)).status_code == 204
    new = await open_ticket(client, org, customer={"email": "back@customer.test"})  # they wrote in again
    assert new["customer_id"] != old["customer_id"]

    (entry,) = [e for e in await archived(org) if e.entity_type == "ticket"]
    await restore(entry)

    listed = await client.get("/tickets", headers=org.headers, params={"customer_id": new["customer_id"]})
    assert {t["id"] for t in listed.json()["data"]} == {old["id"], new["id"]}
    assert (await client.get(f"/customers/{old['customer_id']}", headers=org.headers)).status_code == 404
