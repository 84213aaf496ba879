"""GET /analytics/summary: exact figures over a known window (definitions in
supportdesk/analytics/service.py), its bounds, who may read it, and bad windows."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from supportdesk import db
from tests.factories import Org, add_category, add_user, open_ticket, sign_up

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 2, 1, tzinfo=UTC)
WINDOW = {"from": START.isoformat(), "to": END.isoformat()}


def minutes(value: float) -> timedelta:
    return timedelta(minutes=value)


async def backdate(ticket_id: str, **columns: object) -> None:
    """Move a ticket's times (and SLA flags) to where a test needs them: the API stamps now."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    async with db.system_session() as session:
        await session.execute(
            text(f"UPDATE tickets SET {assignments} WHERE id = :id"), {"id": ticket_id, **columns}
        )


async def record_auto_answer(
    org: Org, ticket_id: str, at: datetime, outcome: str = "answered", reason: str = "test"
) -> None:
    """A decision of the auto-responder; one on a customer's reply is about the ticket's first message."""
    async with db.system_session() as session:
        source = None
        if reason == "reply_to_automatic_answer":
            source = await session.scalar(
                text("SELECT id FROM messages WHERE ticket_id = :t ORDER BY created_at LIMIT 1"),
                {"t": ticket_id},
            )
        await session.execute(
            text(
                "INSERT INTO auto_answers (id, organization_id, ticket_id, source_message_id, outcome,"
                " reason, threshold, created_at)"
                " VALUES (:id, :org, :ticket, :source, :outcome, :reason, 0.5, :at)"
            ),
            {
                "id": uuid.uuid4(),
                "org": org.id,
                "ticket": ticket_id,
                "source": source,
                "outcome": outcome,
                "reason": reason,
                "at": at,
            },
        )


async def ticket(client, org: Org, *, agent_id: str, category_id: str | None = None) -> str:
    fields = {"category_id": category_id} if category_id else {}
    ticket_id = (await open_ticket(client, org, **fields))["id"]
    response = await client.patch(
        f"/tickets/{ticket_id}", headers=org.headers, json={"assigned_agent_id": agent_id}
    )
    assert response.status_code == 200, response.text
    return ticket_id


async def reply(client, org: Org, ticket_id: str) -> None:
    response = await client.post(
        f"/tickets/{ticket_id}/messages", headers=org.headers, json={"content": "On it."}
    )
    assert response.status_code == 201, response.text


async def move(client, org: Org, ticket_id: str, status: str) -> None:
    response = await client.patch(f"/tickets/{ticket_id}", headers=org.headers, json={"status": status})
    assert response.status_code == 200, response.text


async def summary(client, headers, **params: str):
    response = await client.get("/analytics/summary", headers=headers, params=params or WINDOW)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_summary_of_a_known_month(client):
    org = await sign_up(client)
    x, _ = await add_user(client, org, "agent")
    y, _ = await add_user(client, org, "agent")
    alpha = await add_category(client, org, name="Alpha")
    beta = await add_category(client, org, name="Beta")

    # Created in January, answered in 10 minutes, resolved in an hour, both deadlines met.
    t1 = await ticket(client, org, agent_id=x["id"], category_id=alpha["id"])
    await reply(client, org, t1)
    await move(client, org, t1, "resolved")
    at = datetime(2026, 1, 5, tzinfo=UTC)
    await backdate(t1, created_at=at, first_response_at=at + minutes(10), resolved_at=at + minutes(60))
    # Answered automatically, but the customer replied and a human answered too: not auto-resolved.
    await record_auto_answer(org, t1, at + minutes(1))
    await record_auto_answer(org, t1, at + minutes(5), "declined", "reply_to_automatic_answer")

    # Answered in 30 minutes and resolved in 3 hours, both deadlines missed.
    t2 = await ticket(client, org, agent_id=x["id"], category_id=alpha["id"])
    await reply(client, org, t2)
    await move(client, org, t2, "resolved")
    at = datetime(2026, 1, 10, tzinfo=UTC)
    await backdate(
        t2,
        created_at=at,
        first_response_at=at + minutes(30),
        resolved_at=at + minutes(180),
        response_breached=True,
        resolution_breached=True,
    )

    # Still open, within its response deadline: its response clock is not decided yet.
    t3 = await ticket(client, org, agent_id=y["id"], category_id=beta["id"])
    at = datetime(2026, 1, 20, tzinfo=UTC)
    await backdate(t3, created_at=at, response_due_at=at + minutes(60), resolution_due_at=at + minutes(480))
    await record_auto_answer(org, t3, at + minutes(1), "suggested")

    # Uncategorized, answered by the auto-responder only, resolved in 20 minutes.
    t4 = await ticket(client, org, agent_id=y["id"])
    await move(client, org, t4, "resolved")
    at = datetime(2026, 1, 15, tzinfo=UTC)
    await backdate(
        t4, created_at=at, resolved_at=at + minutes(20), response_due_at=None, resolution_due_at=None
    )
    await record_auto_answer(org, t4, at + minutes(1))

    # Created in December, closed in January after 2 hours: resolved in the window, not created.
    t5 = await ticket(client, org, agent_id=x["id"], category_id=beta["id"])
    await move(client, org, t5, "closed")
    at = datetime(2025, 12, 31, 23, tzinfo=UTC)
    await backdate(t5, created_at=at, resolved_at=at + minutes(120))

    # Outside the window altogether: created at its end, and created and resolved in December.
    t6 = await ticket(client, org, agent_id=org.admin_id, category_id=alpha["id"])
    await backdate(t6, created_at=END)
    await record_auto_answer(org, t6, END)
    t7 = await ticket(client, org, agent_id=org.admin_id, category_id=alpha["id"])
    await move(client, org, t7, "resolved")
    await backdate(
        t7, created_at=datetime(2025, 12, 1, tzinfo=UTC), resolved_at=datetime(2025, 12, 2, tzinfo=UTC)
    )

    # Another organization's January never counts.
    other = await sign_up(client)
    stranger, _ = await add_user(client, other, "agent")
    foreign = await ticket(client, other, agent_id=stranger["id"])
    await move(client, other, foreign, "resolved")
    await backdate(foreign, created_at=START, resolved_at=START + minutes(1))

    body = await summary(client, org.headers)

    assert body == {
        "from": "2026-01-01T00:00:00+00:00",
        "to": "2026-02-01T00:00:00+00:00",
        "tickets_created": 4,  # t1-t4
        "tickets_resolved": 4,  # t1, t2, t4, t5
        "median_first_response_minutes": 20.0,  # 10 and 30
        "median_resolution_minutes": 90.0,  # 20, 60, 120, 180
        "response_sla_compliance": 0.5,  # t1 met, t2 missed; t3 undecided, t4 has no deadline
        "resolution_sla_compliance": 0.6667,  # t1 and t5 met, t2 missed
        "auto_resolved": 1,  # t4
        "auto_answers": {"answered": 2, "followed_up": 1, "suggested": 1},  # t1 and t4, t1, t3; not t6
        "by_category": [
            {"category_id": alpha["id"], "name": "Alpha", "tickets_created": 2, "tickets_resolved": 2},
            {"category_id": beta["id"], "name": "Beta", "tickets_created": 1, "tickets_resolved": 1},
            {"category_id": None, "name": None, "tickets_created": 1, "tickets_resolved": 1},
        ],
        "by_agent": [
            {
                "agent_id": x["id"],
                "name": x["name"],
                "tickets_assigned": 2,
                "tickets_resolved": 3,
                "median_first_response_minutes": 20.0,
                "open_tickets": 0,
            },
            {
                "agent_id": y["id"],
                "name": y["name"],
                "tickets_assigned": 2,
                "tickets_resolved": 1,
                "median_first_response_minutes": None,
                "open_tickets": 1,  # t3
            },
        ],
    }


async def test_an_empty_window_has_counts_of_zero_and_no_medians_or_shares(client):
    org = await sign_up(client)
    await open_ticket(client, org)  # now: after the window

    body = await summary(client, org.headers)

    assert body["tickets_created"] == body["tickets_resolved"] == body["auto_resolved"] == 0
    assert body["auto_answers"] == {"answered": 0, "followed_up": 0, "suggested": 0}
    assert body["median_first_response_minutes"] is None
    assert body["median_resolution_minutes"] is None
    assert body["response_sla_compliance"] is None
    assert body["resolution_sla_compliance"] is None
    assert body["by_category"] == body["by_agent"] == []


async def test_from_is_in_the_window_and_to_is_not(client):
    org = await sign_up(client)
    instants = {
        START - timedelta(microseconds=1): False,
        START: True,
        END - timedelta(microseconds=1): True,
        END: False,
    }
    for created_at in instants:
        await backdate((await open_ticket(client, org))["id"], created_at=created_at)

    body = await summary(client, org.headers)

    assert body["tickets_created"] == sum(instants.values())


async def test_a_resolution_counts_by_when_it_happened(client):
    org = await sign_up(client)
    resolved_at = [START - timedelta(microseconds=1), START, END - timedelta(microseconds=1), END]
    for at in resolved_at:
        ticket_id = (await open_ticket(client, org))["id"]
        await move(client, org, ticket_id, "resolved")
        await backdate(ticket_id, created_at=START - timedelta(days=1), resolved_at=at)

    body = await summary(client, org.headers)

    assert (body["tickets_created"], body["tickets_resolved"]) == (0, 2)


async def test_an_agent_moved_to_a_reporting_role_keeps_the_work_they_did(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org)
    ticket_id = await ticket(client, org, agent_id=agent["id"])
    await move(client, org, ticket_id, "resolved")
    await backdate(ticket_id, created_at=START, resolved_at=START + minutes(30))
    await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"role": "analyst"})

    body = await summary(client, org.headers)

    [row] = body["by_agent"]
    assert (row["agent_id"], row["tickets_assigned"], row["tickets_resolved"]) == (agent["id"], 1, 1)


async def test_the_window_defaults_to_the_last_30_days(client):
    org = await sign_up(client)
    ticket_id = (await open_ticket(client, org))["id"]
    await backdate(ticket_id, created_at=datetime.now(UTC) - timedelta(days=29))
    old = (await open_ticket(client, org))["id"]
    await backdate(old, created_at=datetime.now(UTC) - timedelta(days=31))

    response = await client.get("/analytics/summary", headers=org.headers)

    assert response.status_code == 200, response.text
    body = response.json()
    start, end = datetime.fromisoformat(body["from"]), datetime.fromisoformat(body["to"])
    assert end - start == timedelta(days=30)
    assert abs(datetime.now(UTC) - end) < timedelta(minutes=1)
    assert body["tickets_created"] == 1


async def test_dates_alone_are_midnight_utc(client):
    org = await sign_up(client)

    body = await summary(client, org.headers, **{"from": "2026-01-01", "to": "2026-02-01"})

    assert (body["from"], body["to"]) == ("2026-01-01T00:00:00+00:00", "2026-02-01T00:00:00+00:00")


async def test_each_organization_sees_only_its_own_tickets(client):
    first, second = await sign_up(client), await sign_up(client)
    for org, count in ((first, 1), (second, 3)):
        for _ in range(count):
            await backdate((await open_ticket(client, org))["id"], created_at=START)

    assert (await summary(client, first.headers))["tickets_created"] == 1
    assert (await summary(client, second.headers))["tickets_created"] == 3


async def test_admins_and_analysts_read_analytics_and_agents_may_not(client):
    org = await sign_up(client)
    _, analyst = await add_user(client, org, "analyst")
    _, agent = await add_user(client, org, "agent")

    assert (await client.get("/analytics/summary", headers=org.headers)).status_code == 200
    assert (await client.get("/analytics/summary", headers=analyst)).status_code == 200
    refused = await client.get("/analytics/summary", headers=agent)
    assert refused.status_code == 403
    assert refused.json()["code"] == "forbidden"
    anonymous = await client.get("/analytics/summary")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"


BAD_WINDOWS = [
    {"from": "yesterday"},
    {"to": "2026-13-01"},
    {"from": "2026-01-01T25:00:00Z"},
    {"from": "1700000000"},
    {"from": "1700000000.5"},
    {"to": "0.5"},
    {"from": "2026-01-01\x00"},
    {"from": "2026-02-01", "to": "2026-01-01"},  # backwards
    {"from": "2026-01-01", "to": "2026-01-01"},  # empty
    {"from": "2023-01-01", "to": "2026-01-01"},  # over 2 years
    {"from": "9999-01-01"},  # after now, the default end
    {"to": "0001-01-05"},  # no room for the default 30 days before it
    {"from": "0001-01-01T00:00:00+14:00", "to": "2026-01-01"},
    {"to": "9999-12-31T23:59:59-14:00"},
]


@pytest.mark.parametrize("params", BAD_WINDOWS, ids=lambda params: repr(params)[:60])
async def test_a_bad_window_is_a_422(client, params):
    org = await sign_up(client)

    response = await client.get("/analytics/summary", headers=org.headers, params=params)

    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_error"
