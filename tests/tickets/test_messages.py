"""A ticket's conversation: GET/POST /tickets/{id}/messages."""

from tests.factories import add_user, open_ticket, sign_up


async def post(client, headers, ticket_id: str, content: str, **fields):
    return await client.post(
        f"/tickets/{ticket_id}/messages", headers=headers, json={"content": content, **fields}
    )


async def test_messages_are_listed_oldest_first_and_pages_walk_them_all_once(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    posted = []
    for number in range(7):
        response = await post(client, org.headers, ticket["id"], f"message {number}", is_internal=number == 3)
        assert response.status_code == 201, response.text
        posted.append(response.json()["id"])

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (
            await client.get(f"/tickets/{ticket['id']}/messages", headers=org.headers, params=params)
        ).json()
        seen += [message["id"] for message in page["data"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == posted
    assert pages == 3


async def test_a_full_last_page_has_no_next_cursor(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    for number in range(2):
        await post(client, org.headers, ticket["id"], f"message {number}")
    page = (
        await client.get(f"/tickets/{ticket['id']}/messages", headers=org.headers, params={"limit": 2})
    ).json()
    assert len(page["data"]) == 2 and page["next_cursor"] is None


async def test_an_analyst_reads_messages_but_cannot_post_one(client):
    org = await sign_up(client)
    ticket = await open_ticket(client, org)
    await post(client, org.headers, ticket["id"], "hello")
    _, analyst = await add_user(client, org, role="analyst")
    refused = await post(client, analyst, ticket["id"], "let me help")
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    listed = await client.get(f"/tickets/{ticket['id']}/messages", headers=analyst)
    assert listed.status_code == 200
    assert [m["content"] for m in listed.json()["data"]] == ["hello"]


async def test_a_staff_message_records_its_author_and_kind(client):
    org = await sign_up(client)
    agent, headers = await add_user(client, org)
    ticket = await open_ticket(client, org)
    message = (await post(client, headers, ticket["id"], "internal", is_internal=True)).json()
    assert message["sender_id"] == agent["id"]
    assert message["customer_id"] is None
    assert message["is_internal"] is True and message["is_auto_response"] is False


async def test_another_organizations_ticket_has_no_messages_to_read_or_write(client):
    org = await sign_up(client)
    other = await sign_up(client)
    ticket = await open_ticket(client, org)
    assert (await client.get(f"/tickets/{ticket['id']}/messages", headers=other.headers)).status_code == 404
    assert (await post(client, other.headers, ticket["id"], "hi")).status_code == 404


async def test_a_reply_on_a_closed_ticket_is_refused(client):
    org = await sign_up(client)
    portal = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": "pat@customer.test", "title": "Help", "description": "Broken"},
    )
    ticket_id = portal.json()["ticket"]["id"]
    customer = {"Authorization": f"Bearer {portal.json()['access_token']}"}
    await client.patch(f"/tickets/{ticket_id}", headers=org.headers, json={"status": "closed"})
    reply = await client.post(
        f"/portal/tickets/{ticket_id}/messages", headers=customer, json={"content": "hello?"}
    )
    assert reply.status_code == 409
    assert reply.json()["code"] == "ticket_closed"


async def test_a_customer_reply_moves_a_pending_ticket_back_to_open(client):
    org = await sign_up(client)
    portal = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": "pat@customer.test", "title": "Help", "description": "Broken"},
    )
    ticket_id = portal.json()["ticket"]["id"]
    customer = {"Authorization": f"Bearer {portal.json()['access_token']}"}
    await client.patch(f"/tickets/{ticket_id}", headers=org.headers, json={"status": "pending"})
    reply = await client.post(
        f"/portal/tickets/{ticket_id}/messages", headers=customer, json={"content": "here"}
    )
    assert reply.status_code == 201
    ticket = (await client.get(f"/tickets/{ticket_id}", headers=org.headers)).json()
    assert ticket["status"] == "open"
    assert ticket["sla"]["resolution_paused"] is False


async def test_an_agents_public_reply_opens_a_new_ticket_and_a_note_does_not(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org)
    ticket = await open_ticket(client, org)
    await post(client, agent, ticket["id"], "looking into it", is_internal=True)
    noted = (await client.get(f"/tickets/{ticket['id']}", headers=agent)).json()
    assert noted["status"] == "new" and noted["sla"]["first_response_at"] is None
    await post(client, agent, ticket["id"], "We are on it.")
    replied = (await client.get(f"/tickets/{ticket['id']}", headers=agent)).json()
    assert replied["status"] == "open"
    assert replied["sla"]["first_response_at"] is not None
    audit = await client.get("/audit-logs", headers=org.headers, params={"entity_id": ticket["id"]})
    [change] = [row for row in audit.json()["data"] if row["action"] == "ticket.updated"]
    assert change["before"]["status"] == "new" and change["after"]["status"] == "open"
