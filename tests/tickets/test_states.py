"""The ticket state machine through PATCH /tickets/{id}."""

import pytest

from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.tickets.helpers import get_ticket, patch_ticket

ALL = ("new", "open", "pending", "on_hold", "resolved", "closed")
ALLOWED = {
    "new": {"open", "pending", "on_hold", "resolved", "closed"},
    "open": {"pending", "on_hold", "resolved", "closed"},
    "pending": {"open", "on_hold", "resolved", "closed"},
    "on_hold": {"open", "pending", "resolved", "closed"},
    "resolved": {"open", "closed"},
    "closed": set(),
}
INVALID = [
    (current, target)
    for current in ALL
    for target in ALL
    if target != current and target not in ALLOWED[current]
]


async def ticket_in(client, org, status: str) -> dict:
    ticket = await open_ticket(client, org)
    if status != "new":  # every status is one step from new
        response = await patch_ticket(client, org, ticket["id"], status=status)
        assert response.status_code == 200, response.text
    return await get_ticket(client, org, ticket["id"])


@pytest.mark.parametrize(("current", "target"), INVALID)
async def test_an_invalid_transition_is_refused_and_changes_nothing(client, current, target):
    org = await sign_up(client)
    ticket = await ticket_in(client, org, current)
    response = await patch_ticket(
        client, org, ticket["id"], status=target, priority=1 if ticket["priority"] != 1 else 2
    )
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_transition"
    assert await get_ticket(client, org, ticket["id"]) == ticket


@pytest.mark.parametrize(
    ("current", "target"), [(current, target) for current in ALL for target in sorted(ALLOWED[current])]
)
async def test_every_allowed_transition_is_accepted(client, current, target):
    org = await sign_up(client)
    ticket = await ticket_in(client, org, current)
    response = await patch_ticket(client, org, ticket["id"], status=target)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == target


async def test_resolving_sets_resolved_at_and_reopening_clears_it(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    assert ticket["resolved_at"] is None
    resolved = (await patch_ticket(client, org, ticket["id"], status="resolved")).json()
    assert resolved["resolved_at"] is not None
    reopened = (await patch_ticket(client, org, ticket["id"], status="open")).json()
    assert reopened["status"] == "open"
    assert reopened["resolved_at"] is None


async def test_closing_stamps_resolved_at_once_and_closed_is_terminal(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    resolved = (await patch_ticket(client, org, ticket["id"], status="resolved")).json()
    closed = (await patch_ticket(client, org, ticket["id"], status="closed")).json()
    assert closed["resolved_at"] == resolved["resolved_at"]
    for target in ("new", "open", "pending", "on_hold", "resolved"):
        response = await patch_ticket(client, org, ticket["id"], status=target)
        assert response.json()["code"] == "invalid_transition"
    assert (await get_ticket(client, org, ticket["id"]))["status"] == "closed"


async def test_a_closed_tickets_work_is_over_but_its_labels_stay_correctable(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    category = await add_category(client, org)
    ticket = await open_ticket(client, org)
    await patch_ticket(client, org, ticket["id"], status="closed")
    closed = await get_ticket(client, org, ticket["id"])
    changes = {"priority": 1 if closed["priority"] != 1 else 2, "criticality": "critical"}
    changes["assigned_agent_id"] = None if closed["assigned_agent_id"] else agent["id"]
    for name, value in changes.items():
        response = await patch_ticket(client, org, ticket["id"], **{name: value})
        assert response.status_code == 409, name
        assert response.json()["code"] == "ticket_closed"
    assert await get_ticket(client, org, ticket["id"]) == closed
    unchanged = {name: closed[name] for name in ("status", "priority", "criticality")}
    again = await patch_ticket(client, org, ticket["id"], **unchanged)
    assert again.status_code == 200, (unchanged, again.text)
    relabelled = await patch_ticket(client, org, ticket["id"], category_id=category["id"])
    assert relabelled.status_code == 200, relabelled.text
    assert relabelled.json()["category_id"] == category["id"]
    assert relabelled.json()["priority"] == closed["priority"]


async def test_an_analyst_cannot_change_a_ticket(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    _, analyst = await add_user(client, org, role="analyst")
    response = await client.patch(f"/tickets/{ticket['id']}", headers=analyst, json={"status": "open"})
    assert response.status_code == 403
    assert (await get_ticket(client, org, ticket["id"]))["status"] == "new"
