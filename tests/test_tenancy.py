"""Nobody ever sees or changes another organization's data: its objects answer 404, its rows never
appear in a list, and a request naming them changes nothing on either side."""

import uuid
from dataclasses import dataclass

import pytest

from tests.factories import Org, add_category, add_user, bearer, open_ticket, sign_up
from tests.fingerprint import fingerprint


@dataclass
class World:
    """Organization A (the caller) and B (the target), each with one of everything."""

    a: Org
    b: Org
    a_ticket: dict
    a_document: dict
    a_customer_headers: dict[str, str]
    b_ids: dict[str, str]


async def _one_of_everything(client, org: Org) -> tuple[dict[str, str], dict, dict, dict[str, str]]:
    agent, _ = await add_user(client, org, "agent")
    category = await add_category(client, org)
    ticket = await open_ticket(client, org, category_id=category["id"])
    message = await client.post(
        f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": "Hi"}
    )
    document = await client.post(
        "/documents",
        headers=org.headers,
        json={"title": "Reset", "content": "How to reset", "category_ids": [category["id"]]},
    )
    webhook = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://hooks.example.com/x", "events": ["ticket.created"]},
    )
    portal = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": "paula@customer.test", "title": "Where is my order", "description": "It is late."},
    )
    for response in (message, document, webhook, portal):
        assert response.status_code == 201, response.text
    ids = {
        "organization": org.id,
        "admin": org.admin_id,
        "user": agent["id"],
        "category": category["id"],
        "ticket": ticket["id"],
        "customer": ticket["customer_id"],
        "message": message.json()["id"],
        "document": document.json()["id"],
        "webhook": webhook.json()["id"],
        "portal_ticket": portal.json()["ticket"]["id"],
    }
    return ids, ticket, document.json(), bearer(portal.json()["access_token"])


@pytest.fixture(scope="module")
async def world(client) -> World:
    """Made once: every request the tests below make with A's tokens against B is refused."""
    a, b = await sign_up(client, name="A"), await sign_up(client, name="B")
    _, a_ticket, a_document, a_customer = await _one_of_everything(client, a)
    b_ids, *_ = await _one_of_everything(client, b)
    return World(a, b, a_ticket, a_document, a_customer, b_ids)


# (method, path, body): every endpoint that takes an id, pointed at B's object.
STAFF_REQUESTS = [
    ("GET", "/users/{user}", None),
    ("PATCH", "/users/{user}", {"name": "Taken over"}),
    ("PATCH", "/users/{user}", {"status": "inactive"}),
    ("PATCH", "/users/{admin}", {"role": "analyst"}),
    ("GET", "/categories/{category}", None),
    ("PATCH", "/categories/{category}", {"name": "Taken over"}),
    ("DELETE", "/categories/{category}", None),
    ("GET", "/tickets/{ticket}", None),
    ("PATCH", "/tickets/{ticket}", {"status": "open"}),
    ("PATCH", "/tickets/{ticket}", {"priority": 1}),
    ("GET", "/tickets/{ticket}/messages", None),
    ("POST", "/tickets/{ticket}/messages", {"content": "Injected"}),
    ("POST", "/tickets/{ticket}/messages", {"content": "Injected", "is_internal": True}),
    ("GET", "/tickets/{portal_ticket}", None),
    ("GET", "/documents/{document}", None),
    ("PATCH", "/documents/{document}", {"title": "Taken over"}),
    ("DELETE", "/documents/{document}", None),
    ("DELETE", "/webhooks/{webhook}", None),
    ("GET", "/webhooks/{webhook}/deliveries", None),
    ("GET", "/customers/{customer}", None),
    ("DELETE", "/customers/{customer}", None),
]

PORTAL_REQUESTS = [
    ("GET", "/portal/tickets/{portal_ticket}", None),
    ("GET", "/portal/tickets/{portal_ticket}/messages", None),
    ("POST", "/portal/tickets/{portal_ticket}/messages", {"content": "Injected"}),
    ("GET", "/portal/tickets/{ticket}", None),
    ("POST", "/portal/tickets/{ticket}/messages", {"content": "Injected"}),
]

LISTS = [
    "/users",
    "/categories",
    "/tickets",
    "/documents",
    "/webhooks",
    "/audit-logs",
    "/customers",
    "/customers?email=paula@customer.test",
    "/tickets?customer_id={customer}",
    "/tickets?category_id={category}",
    "/tickets?assigned_agent_id={user}",
    "/documents?category_id={category}",
    "/audit-logs?entity_id={ticket}",
    "/audit-logs?entity_type=ticket&entity_id={ticket}",
    "/organization",
    "/me",
]


def _assert_not_found(response) -> None:
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "not_found"


def _leaks(world: World, text: str) -> list[str]:
    return [name for name, value in world.b_ids.items() if value in text]


@pytest.mark.parametrize(("method", "path", "body"), STAFF_REQUESTS)
async def test_another_organizations_object_answers_404_and_stays_unchanged(
    client, world, method, path, body
):
    before = await fingerprint(world.b.id), await fingerprint(world.a.id)
    response = await client.request(method, path.format(**world.b_ids), headers=world.a.headers, json=body)
    _assert_not_found(response)
    assert _leaks(world, response.text) == []
    assert (await fingerprint(world.b.id), await fingerprint(world.a.id)) == before


@pytest.mark.parametrize(("method", "path", "body"), PORTAL_REQUESTS)
async def test_a_customer_cannot_reach_another_organizations_tickets(client, world, method, path, body):
    before = await fingerprint(world.b.id), await fingerprint(world.a.id)
    response = await client.request(
        method, path.format(**world.b_ids), headers=world.a_customer_headers, json=body
    )
    _assert_not_found(response)
    assert (await fingerprint(world.b.id), await fingerprint(world.a.id)) == before


@pytest.mark.parametrize("path", LISTS)
async def test_lists_never_show_another_organizations_rows(client, world, path):
    response = await client.get(path.format(**world.b_ids), headers=world.a.headers)
    assert response.status_code == 200, response.text
    assert _leaks(world, response.text) == []
    for row in response.json().get("data", []):
        assert row.get("organization_id", world.a.id) == world.a.id


async def test_the_portal_list_never_shows_another_organizations_tickets(client, world):
    response = await client.get("/portal/tickets", headers=world.a_customer_headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"]
    assert _leaks(world, response.text) == []


# Writes in A that name one of B's objects inside the body.
REFERENCES = [
    ("POST", "/tickets", lambda w: {**_new_ticket(), "category_id": w.b_ids["category"]}),
    ("PATCH", "/tickets/{a_ticket}", lambda w: {"category_id": w.b_ids["category"]}),
    ("PATCH", "/tickets/{a_ticket}", lambda w: {"assigned_agent_id": w.b_ids["user"]}),
    ("PATCH", "/tickets/{a_ticket}", lambda w: {"assigned_agent_id": w.b_ids["admin"]}),
    ("POST", "/documents", lambda w: {"title": "T", "content": "C", "category_ids": [w.b_ids["category"]]}),
    ("PATCH", "/documents/{a_document}", lambda w: {"category_ids": [w.b_ids["category"]]}),
]


def _new_ticket() -> dict:
    return {"title": "Help", "description": "Please", "customer": {"email": "x@customer.test"}}


@pytest.mark.parametrize(("method", "path", "body"), REFERENCES)
async def test_a_write_cannot_link_to_another_organizations_object(client, world, method, path, body):
    before = await fingerprint(world.b.id), await fingerprint(world.a.id)
    url = path.format(a_ticket=world.a_ticket["id"], a_document=world.a_document["id"])
    response = await client.request(method, url, headers=world.a.headers, json=body(world))
    assert response.status_code in (404, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert (await fingerprint(world.b.id), await fingerprint(world.a.id)) == before


async def test_the_portal_of_an_unknown_organization_answers_404(client):
    response = await client.post(
        f"/portal/{uuid.uuid4()}/tickets", json={"email": "p@customer.test", "title": "T", "description": "D"}
    )
    _assert_not_found(response)


async def test_the_fingerprint_notices_a_change(client, world):
    """The control for every "unchanged" above: B's own token does change B's ticket."""
    before = await fingerprint(world.b.id)
    response = await client.patch(
        f"/tickets/{world.b_ids['ticket']}", headers=world.b.headers, json={"priority": 2}
    )
    assert response.status_code == 200, response.text
    changed = {table for table, digest in (await fingerprint(world.b.id)).items() if before[table] != digest}
    assert "tickets" in changed
