"""The customer portal: customers open tickets and follow their own public conversations."""

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import text

from supportdesk.db import system_session
from tests.factories import add_category, add_user, bearer, open_ticket, sign_up, unique_email


async def portal_ticket(client, org, email: str | None = None, **fields) -> tuple[dict, dict[str, str]]:
    """A ticket opened through the portal and the headers of its customer's token."""
    body = {
        "email": email or unique_email("customer"),
        "title": "Broken",
        "description": "It broke",
        **fields,
    }
    response = await client.post(f"/portal/{org.id}/tickets", json=body)
    assert response.status_code == 201, response.text
    return response.json()["ticket"], bearer(response.json()["access_token"])


async def test_a_customer_logout_while_the_organization_is_inactive_still_revokes_the_token(client):
    org = await sign_up(client)
    ticket, leaving = await portal_ticket(client, org)
    await set_organization_active(org, False)

    logout = await client.post("/portal/logout", headers=leaving)
    await set_organization_active(org, True)

    assert logout.status_code == 204
    assert (await client.get(f"/portal/tickets/{ticket['id']}", headers=leaving)).status_code == 401


async def set_organization_active(org, is_active: bool) -> None:
    async with system_session() as session:  # an operator's switch; there is no endpoint for it
        await session.execute(
            text("UPDATE organizations SET is_active = :active WHERE id = :id"),
            {"active": is_active, "id": org.id},
        )


async def set_status(client, org, ticket_id: str, status: str) -> None:
    response = await client.patch(f"/tickets/{ticket_id}", headers=org.headers, json={"status": status})
    assert response.status_code == 200, response.text


async def test_a_customer_logs_out_and_only_that_token_stops_working(client):
    org = await sign_up(client)
    email = unique_email("customer")
    ticket, leaving = await portal_ticket(client, org, email)
    _, staying = await portal_ticket(client, org, email)

    assert (await client.post("/portal/logout", headers=leaving)).status_code == 204
    assert (await client.get(f"/portal/tickets/{ticket['id']}", headers=leaving)).status_code == 401
    assert (await client.post("/portal/logout", headers=leaving)).status_code == 401
    assert (await client.get(f"/portal/tickets/{ticket['id']}", headers=staying)).status_code == 200


async def test_a_customer_opens_a_ticket_without_a_staff_token(client):
    org = await sign_up(client)

    response = await client.post(
        f"/portal/{org.id}/tickets",
        json={
            "email": unique_email("customer"),
            "name": "Cleo",
            "title": "Broken",
            "description": "It broke",
        },
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"ticket", "access_token"}
    assert set(body["ticket"]) >= {"id", "title", "status", "created_at", "updated_at", "resolved_at"}
    assert body["ticket"]["status"] == "new"
    staff_view = await client.get(f"/tickets/{body['ticket']['id']}", headers=org.headers)
    assert staff_view.status_code == 200 and staff_view.json()["title"] == "Broken"


async def test_a_portal_ticket_for_an_unknown_organization_is_not_found(client):
    response = await client.post(
        f"/portal/{uuid.uuid4()}/tickets", json={"email": unique_email(), "title": "t", "description": "d"}
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


async def test_an_inactive_organization_takes_no_portal_tickets(client):
    org = await sign_up(client)
    async with system_session() as session:
        await session.execute(
            text("UPDATE organizations SET is_active = false WHERE id = :id"), {"id": org.id}
        )

    response = await client.post(
        f"/portal/{org.id}/tickets", json={"email": unique_email(), "title": "t", "description": "d"}
    )

    assert response.status_code == 403
    assert response.json()["code"] == "organization_inactive"


async def test_an_organization_whose_is_active_is_null_is_active_in_the_portal_as_for_staff(client):
    org = await sign_up(client)
    async with system_session() as session:  # the seed's column allows it; no API writes it
        await session.execute(
            text("UPDATE organizations SET is_active = NULL WHERE id = :id"), {"id": org.id}
        )

    response = await client.post(
        f"/portal/{org.id}/tickets", json={"email": unique_email(), "title": "t", "description": "d"}
    )

    assert response.status_code == 201, response.text


async def test_portal_tickets_count_against_the_monthly_limit(client):
    org = await sign_up(client)
    await portal_ticket(client, org)
    usage = (await client.get("/organization", headers=org.headers)).json()["usage"]
    assert usage["tickets_this_month"] == 1
    # Shrink the plan rather than open fifty tickets: the rule is the same.
    async with system_session() as session:
        await session.execute(
            text("UPDATE organizations SET monthly_ticket_limit = 2 WHERE id = :id"), {"id": org.id}
        )
    await portal_ticket(client, org)

    refused = await client.post(
        f"/portal/{org.id}/tickets", json={"email": unique_email(), "title": "t", "description": "d"}
    )

    assert refused.status_code == 403
    assert refused.json()["code"] == "monthly_ticket_limit_reached"
    tickets = (await client.get("/tickets", headers=org.headers)).json()["data"]
    assert len(tickets) == 2


async def test_a_customer_token_lists_only_that_customers_tickets(client):
    org = await sign_up(client)
    email = unique_email("customer")
    first, headers = await portal_ticket(client, org, email)
    second, later_headers = await portal_ticket(client, org, email.upper())
    await portal_ticket(client, org)  # another customer
    await open_ticket(client, org, customer={"email": unique_email("other")})

    for token in (headers, later_headers):
        listed = await client.get("/portal/tickets", headers=token)
        assert listed.status_code == 200
        assert {ticket["id"] for ticket in listed.json()["data"]} == {first["id"], second["id"]}


async def test_a_customer_sees_public_messages_only(client):
    org = await sign_up(client)
    ticket, customer = await portal_ticket(client, org)
    path = f"/tickets/{ticket['id']}/messages"
    await client.post(path, headers=org.headers, json={"content": "We are looking into it"})
    await client.post(path, headers=org.headers, json={"content": "SECRET note", "is_internal": True})

    response = await client.get(f"/portal/tickets/{ticket['id']}", headers=customer)

    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [message["content"] for message in messages] == ["We are looking into it"]
    assert "SECRET" not in response.text
    paged = await client.get(f"/portal/tickets/{ticket['id']}/messages", headers=customer)
    assert [message["content"] for message in paged.json()["data"]] == ["We are looking into it"]


async def test_a_portal_message_does_not_reveal_staff_identities(client):
    org = await sign_up(client)
    ticket, customer = await portal_ticket(client, org)
    await client.post(f"/tickets/{ticket['id']}/messages", headers=org.headers, json={"content": "Hi"})

    messages = (await client.get(f"/portal/tickets/{ticket['id']}", headers=customer)).json()["messages"]

    assert org.admin_id not in str(messages)
    assert not {"sender_id", "is_internal"} & set(messages[0])


async def test_another_customers_ticket_is_not_found(client):
    org = await sign_up(client)
    mine, customer = await portal_ticket(client, org)
    theirs, _ = await portal_ticket(client, org)
    staff_ticket = await open_ticket(client, org, customer={"email": unique_email("other")})

    for ticket_id in (theirs["id"], staff_ticket["id"], str(uuid.uuid4())):
        fetched = await client.get(f"/portal/tickets/{ticket_id}", headers=customer)
        replied = await client.post(
            f"/portal/tickets/{ticket_id}/messages", headers=customer, json={"content": "hello"}
        )
        assert fetched.status_code == replied.status_code == 404


async def test_a_customer_token_reaches_no_other_organization(client):
    org, other = await sign_up(client), await sign_up(client)
    _, customer = await portal_ticket(client, org)
    theirs, _ = await portal_ticket(client, other)

    assert (await client.get(f"/portal/tickets/{theirs['id']}", headers=customer)).status_code == 404


async def test_a_customer_reply_moves_a_pending_ticket_back_to_open(client):
    org = await sign_up(client)
    await add_user(client, org, "agent")
    ticket, customer = await portal_ticket(client, org)
    await set_status(client, org, ticket["id"], "pending")

    response = await client.post(
        f"/portal/tickets/{ticket['id']}/messages", headers=customer, json={"content": "Here is the info"}
    )

    assert response.status_code == 201, response.text
    assert response.json()["content"] == "Here is the info" and response.json()["from_customer"] is True
    assert (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()["status"] == "open"


async def test_a_customer_reply_reopens_a_resolved_ticket(client):
    org = await sign_up(client)
    ticket, customer = await portal_ticket(client, org)
    await set_status(client, org, ticket["id"], "resolved")

    await client.post(f"/portal/tickets/{ticket['id']}/messages", headers=customer, json={"content": "Still"})

    reopened = (await client.get(f"/portal/tickets/{ticket['id']}", headers=customer)).json()
    assert reopened["status"] == "open" and reopened["resolved_at"] is None
    log = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    [reopening] = [entry for entry in log.json()["data"] if entry["after"].get("status") == "open"]
    staff = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()
    assert reopening["actor_id"] is None and reopening["actor_customer_id"] == staff["customer_id"]


async def test_a_customer_reply_reopens_a_ticket_with_its_time_left_in_the_calendar_of_its_category(client):
    org = await sign_up(client)
    # open on one day of the week, three days from now: closed from now until then
    opens = datetime.combine(datetime.now(UTC).date() + timedelta(days=3), time(), tzinfo=UTC)
    hours = {"timezone": "UTC", "weekly_hours": {str(opens.isoweekday()): [["00:00", "24:00"]]}}
    assert (await client.put("/business-hours", headers=org.headers, json=hours)).status_code == 200
    office = await add_category(client, org, uses_business_hours=True)
    ticket, customer = await portal_ticket(client, org)
    resolved = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"status": "resolved"}
    )
    assert resolved.status_code == 200, resolved.text
    moved = await client.patch(
        f"/tickets/{ticket['id']}", headers=org.headers, json={"category_id": office["id"]}
    )
    assert moved.status_code == 200, moved.text

    await client.post(f"/portal/tickets/{ticket['id']}/messages", headers=customer, json={"content": "Still"})

    reopened = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()
    assert reopened["status"] == "open"
    resolved_at = datetime.fromisoformat(resolved.json()["resolved_at"])
    for clock in ("response_due_at", "resolution_due_at"):
        left = datetime.fromisoformat(resolved.json()["sla"][clock]) - resolved_at  # in a second
        resumed = datetime.fromisoformat(reopened["sla"][clock])
        assert timedelta(0) <= resumed - (opens + left) < timedelta(seconds=1), clock


async def test_a_ticket_opened_on_the_portal_is_audited_as_its_customers(client):
    org = await sign_up(client)
    ticket, _ = await portal_ticket(client, org)
    log = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    [created] = [entry for entry in log.json()["data"] if entry["action"] == "ticket.created"]
    staff = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()
    assert created["actor_id"] is None and created["actor_customer_id"] == staff["customer_id"]


async def test_a_customer_reply_leaves_a_new_ticket_new(client):
    org = await sign_up(client)
    ticket, customer = await portal_ticket(client, org)

    await client.post(f"/portal/tickets/{ticket['id']}/messages", headers=customer, json={"content": "More"})

    assert (await client.get(f"/portal/tickets/{ticket['id']}", headers=customer)).json()["status"] == "new"


async def test_a_customer_cannot_reply_to_a_closed_ticket(client):
    org = await sign_up(client)
    ticket, customer = await portal_ticket(client, org)
    await set_status(client, org, ticket["id"], "closed")

    response = await client.post(
        f"/portal/tickets/{ticket['id']}/messages", headers=customer, json={"content": "Hello?"}
    )

    assert response.status_code == 409
    assert response.json()["code"] == "ticket_closed"
    messages = (await client.get(f"/portal/tickets/{ticket['id']}", headers=customer)).json()["messages"]
    assert messages == []


async def test_the_portal_needs_a_customer_token(client):
    org = await sign_up(client)
    ticket, _ = await portal_ticket(client, org)

    for headers in ({}, org.headers, bearer("sdc_forged")):
        assert (await client.get("/portal/tickets", headers=headers)).status_code == 401
        assert (await client.get(f"/portal/tickets/{ticket['id']}", headers=headers)).status_code == 401


async def test_bad_portal_input_is_a_validation_error(client):
    org = await sign_up(client)

    for body in (
        {"email": "nope", "title": "t", "description": "d"},
        {"email": unique_email(), "title": "", "description": "d"},
        {"email": unique_email(), "title": "t"},
    ):
        response = await client.post(f"/portal/{org.id}/tickets", json=body)
        assert response.status_code == 422, body
    assert (await client.post("/portal/not-a-uuid/tickets", json={})).status_code == 422
