"""The ticket rules under real parallel requests: each request is its own transaction on its own
database connection (the pool holds SUPPORTDESK_DB_POOL_SIZE, 20 by default, plus as many overflow)."""

import asyncio
from collections import Counter

from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.tickets.helpers import all_tickets, assert_counts_are_true, patch_ticket, set_cap, set_user_status


def create(client, org, number: int, customer: str | None = None, **fields):
    return client.post(
        "/tickets",
        headers=org.headers,
        json={
            "title": f"Ticket {number}",
            "description": "parallel",
            "customer": {"email": customer or f"c{number}@x.test"},
            **fields,
        },
    )


def assert_no_server_errors(responses) -> None:
    assert [r.text for r in responses if r.status_code >= 500] == []


async def test_the_monthly_limit_holds_under_parallel_creates(client):
    org = await sign_up(client)
    responses = await asyncio.gather(*(create(client, org, n) for n in range(80)))
    statuses = Counter(r.status_code for r in responses)
    assert statuses == {201: 50, 403: 30}
    assert {r.json()["code"] for r in responses if r.status_code == 403} == {"monthly_ticket_limit_reached"}
    organization = (await client.get("/organization", headers=org.headers)).json()
    assert organization["usage"]["tickets_this_month"] == 50
    assert len(await all_tickets(client, org)) == 50


async def test_parallel_creates_spread_evenly_over_the_agents(client):
    org = await sign_up(client, plan="starter")
    agents = [(await add_user(client, org))[0]["id"] for _ in range(3)]
    responses = await asyncio.gather(*(create(client, org, n) for n in range(60)))
    assert [r.status_code for r in responses] == [201] * 60
    assert Counter(r.json()["assigned_agent_id"] for r in responses) == dict.fromkeys(agents, 20)
    await assert_counts_are_true(client, org)


async def test_parallel_resolves_and_reassignments_keep_every_count_true(client):
    org = await sign_up(client, plan="starter")
    agents = [(await add_user(client, org))[0]["id"] for _ in range(3)]
    tickets = list(await asyncio.gather(*(open_ticket(client, org) for _ in range(30))))

    changes = []
    for number, ticket in enumerate(tickets):
        if number % 3 == 0:
            changes.append(patch_ticket(client, org, ticket["id"], status="resolved"))
        elif number % 3 == 1:
            changes.append(patch_ticket(client, org, ticket["id"], assigned_agent_id=agents[number % 2]))
        else:
            changes.append(patch_ticket(client, org, ticket["id"], assigned_agent_id=None))
        # The same ticket changed twice at once, from both sides.
        changes.append(patch_ticket(client, org, ticket["id"], status="pending"))
    responses = await asyncio.gather(*changes)
    assert_no_server_errors(responses)
    assert {r.status_code for r in responses} <= {200, 409}
    assert {r.json()["code"] for r in responses if r.status_code == 409} <= {"invalid_transition"}
    await assert_counts_are_true(client, org)


async def test_creates_beside_staffing_and_cap_changes_never_deadlock(client):
    org = await sign_up(client, plan="starter")
    await add_user(client, org)
    reserve, _ = await add_user(client, org)
    tickets = list(await asyncio.gather(*(open_ticket(client, org) for _ in range(10))))

    # One returning customer: their row exists, so a create takes no lock on the organization
    # before it takes the assignment lock.
    work = [create(client, org, n, customer="carla@customer.test") for n in range(20)]
    work += [patch_ticket(client, org, t["id"], status="resolved") for t in tickets[:5]]
    work += [
        client.patch(f"/users/{reserve['id']}", headers=org.headers, json={"status": "inactive"}),
        client.patch("/organization", headers=org.headers, json={"max_open_tickets_per_agent": 8}),
        client.post(
            "/users",
            headers=org.headers,
            json={
                "email": f"late-{org.id}@x.test",
                "name": "Late",
                "role": "agent",
                "password": "a long password",
            },
        ),
        client.patch("/organization", headers=org.headers, json={"max_open_tickets_per_agent": None}),
    ]
    responses = await asyncio.gather(*work)
    assert [(r.status_code, r.text) for r in responses if r.status_code >= 300] == []
    await assert_counts_are_true(client, org)
    # Whichever cap landed last, no ticket waits while an active agent is under it.
    cap = (await client.get("/organization", headers=org.headers)).json()["max_open_tickets_per_agent"]
    agents = (
        await client.get("/users", headers=org.headers, params={"role": "agent", "status": "active"})
    ).json()
    waiting = [t for t in await all_tickets(client, org) if t["assigned_agent_id"] is None]
    if waiting:
        assert cap is not None
        assert all(agent["current_ticket_count"] >= cap for agent in agents["data"])


async def test_a_category_deleted_while_tickets_are_given_it_answers_as_if_one_came_first(client):
    """Each create either came first (201, then uncategorized by the deletion) or after (422): never a
    deletion or a create broken by the other (409)."""
    org = await sign_up(client, plan="starter")
    for _ in range(4):
        category = await add_category(client, org)
        creates = [create(client, org, n, category_id=category["id"]) for n in range(4)]
        deletion, *created = await asyncio.gather(
            client.delete(f"/categories/{category['id']}", headers=org.headers), *creates
        )
        assert deletion.status_code == 204, deletion.text
        assert {response.status_code for response in created} <= {201, 422}
        for response in created:
            if response.status_code == 201:
                ticket = await client.get(f"/tickets/{response.json()['id']}", headers=org.headers)
                assert ticket.json()["category_id"] is None


async def test_racing_changes_of_one_agent_leave_no_ticket_with_someone_who_may_not_hold_it(client):
    """Each change of the team reads the user as the change before left it: a deactivation never misses
    the tickets a reactivation racing it handed out, and one change is audited once."""
    org = await sign_up(client, plan="starter")
    agent, _ = await add_user(client, org)
    await set_user_status(client, org, agent["id"], "inactive")
    await asyncio.gather(*(open_ticket(client, org) for _ in range(5)))  # they wait: nobody is active
    path = f"/users/{agent['id']}"
    for _ in range(4):
        responses = await asyncio.gather(
            client.patch(path, headers=org.headers, json={"status": "active"}),
            client.patch(path, headers=org.headers, json={"status": "inactive"}),
            client.patch(path, headers=org.headers, json={"role": "analyst"}),
            client.patch(path, headers=org.headers, json={"role": "agent"}),
        )
        assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
        await assert_counts_are_true(client, org)
        user = (await client.get(path, headers=org.headers)).json()
        held = [t for t in await all_tickets(client, org) if t["assigned_agent_id"] == agent["id"]]
        assert held == [] or (user["role"], user["status"]) == ("agent", "active")
    await set_user_status(client, org, agent["id"], "active")
    deactivations = await asyncio.gather(
        *(client.patch(path, headers=org.headers, json={"status": "inactive"}) for _ in range(6))
    )
    assert {r.status_code for r in deactivations} == {200}
    audit = (await client.get("/audit-logs", headers=org.headers, params={"entity_id": agent["id"]})).json()
    statuses = [entry["after"]["status"] for entry in audit["data"] if "status" in entry["after"]]
    assert statuses[:2] == ["inactive", "active"]  # newest first: the six deactivations made one entry


async def test_deleting_what_tickets_are_being_given_never_deadlocks(client):
    """A category or a document deleted while tickets are moved to it (or marked with it) and off the
    other: each request answers as if it came first or second, never 409 (a deadlock broken)."""
    org = await sign_up(client, plan="starter")
    for _ in range(3):
        first, second = await add_category(client, org), await add_category(client, org)
        document = await client.post(
            "/documents", headers=org.headers, json={"title": "Refunds", "content": "Five days."}
        )
        tickets = [await open_ticket(client, org, category_id=c["id"]) for c in (first, second) * 3]
        for ticket in tickets:
            await patch_ticket(client, org, ticket["id"], answer_document_id=document.json()["id"])
        moves = [
            patch_ticket(
                client,
                org,
                ticket["id"],
                category_id=(second if ticket["category_id"] == first["id"] else first)["id"],
                answer_document_id=document.json()["id"],
                priority=2,
            )
            for ticket in tickets
        ]
        deletions = [
            client.delete(f"/categories/{first['id']}", headers=org.headers),
            client.delete(f"/categories/{second['id']}", headers=org.headers),
            client.delete(f"/documents/{document.json()['id']}", headers=org.headers),
        ]
        *moved, one, two, three = await asyncio.gather(*moves, *deletions)
        assert [r.status_code for r in (one, two, three)] == [204] * 3, [r.text for r in (one, two, three)]
        assert {r.status_code for r in moved} <= {200, 422}, [r.text for r in moved]
        for ticket in tickets:
            after = (await client.get(f"/tickets/{ticket['id']}", headers=org.headers)).json()
            assert after["category_id"] is None and after["answer_document_id"] is None


async def test_role_changes_of_an_agent_racing_changes_of_their_tickets_never_deadlock(client):
    """Making an agent an admin and back while their tickets are resolved and reopened: every request
    succeeds (a role change wrote the user's row before taking the assignment lock, while a ticket change
    holding that lock waited to update the same row's count: a deadlock, answered 409)."""
    org = await sign_up(client, plan="starter")
    agent, _ = await add_user(client, org)
    tickets = [(await open_ticket(client, org))["id"] for _ in range(8)]
    path = f"/users/{agent['id']}"
    for round_number, (status, role) in enumerate([("resolved", "admin"), ("open", "agent")] * 3):
        responses = await asyncio.gather(
            *(patch_ticket(client, org, ticket, status=status) for ticket in tickets[:4]),
            client.patch(path, headers=org.headers, json={"role": role}),
            *(patch_ticket(client, org, ticket, status=status) for ticket in tickets[4:]),
        )
        assert [r.status_code for r in responses] == [200] * 9, (round_number, [r.text for r in responses])
        await assert_counts_are_true(client, org)


async def test_deleting_a_category_while_its_waiting_tickets_are_handed_out_never_deadlocks(client):
    """Resolves hand the freed agents waiting tickets of the category being deleted, which clears the
    category of every ticket, the resolved ones too: both lock tickets under the assignment lock."""
    org = await sign_up(client, plan="starter")
    await set_cap(client, org, 1)
    agents = [(await add_user(client, org))[0] for _ in range(3)]
    other = await add_category(client, org)
    for round_number in range(3):
        category = await add_category(client, org)
        held = [await open_ticket(client, org, category_id=other["id"]) for _ in agents]
        waiting = [await open_ticket(client, org, category_id=category["id"]) for _ in range(6)]
        assert all(t["assigned_agent_id"] is None for t in waiting)
        for ticket in held:  # moved last: the deletion's update meets the waiting tickets first
            assert (
                await patch_ticket(client, org, ticket["id"], category_id=category["id"])
            ).status_code == 200
        *resolves, deletion = await asyncio.gather(
            *(patch_ticket(client, org, t["id"], status="resolved") for t in held),
            client.delete(f"/categories/{category['id']}", headers=org.headers),
        )
        assert [r.status_code for r in resolves] == [200] * 3, (round_number, [r.text for r in resolves])
        assert deletion.status_code == 204, (round_number, deletion.text)
        await assert_counts_are_true(client, org)
