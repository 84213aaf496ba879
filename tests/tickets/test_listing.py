"""GET /tickets: filters, full-text search, and keyset pagination."""

import asyncio

import pytest

from tests.factories import add_category, add_user, open_ticket, sign_up
from tests.markers import embedded_only
from tests.plans import plan_as_tenant
from tests.tickets.helpers import all_tickets, patch_ticket


async def test_walking_the_pages_returns_every_ticket_exactly_once_newest_first(client):
    org = await sign_up(client)
    # Created in parallel, so some may share a timestamp: the id breaks the tie.
    created = await asyncio.gather(*(open_ticket(client, org) for _ in range(23)))
    seen, cursor = [], None
    while True:
        params = {"limit": 5, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/tickets", headers=org.headers, params=params)).json()
        assert len(page["data"]) <= 5
        seen += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(t["id"] for t in seen) == sorted(t["id"] for t in created)
    assert len(seen) == len({t["id"] for t in seen})
    keys = [(t["created_at"], t["id"]) for t in seen]
    assert keys == sorted(keys, reverse=True)


async def test_a_cursor_that_was_not_issued_is_refused(client):
    org = await sign_up(client)
    response = await client.get("/tickets", headers=org.headers, params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_cursor"


async def test_filters_narrow_the_list_and_pages_of_a_filter_hold_only_matches(client):
    org = await sign_up(client, plan="starter")
    first, _ = await add_user(client, org)
    second, _ = await add_user(client, org)
    billing = await add_category(client, org, priority_level=2)
    tickets = [await open_ticket(client, org, category_id=billing["id"]) for _ in range(6)]
    tickets += [
        await open_ticket(client, org, priority=5, customer={"email": "zed@customer.test"}) for _ in range(5)
    ]
    for ticket in tickets[:3]:
        await patch_ticket(client, org, ticket["id"], status="pending")
    await patch_ticket(client, org, tickets[6]["id"], category_id=None)  # no category fits
    document = await client.post("/documents", headers=org.headers, json={"title": "T", "content": "C"})
    for ticket in tickets[7:9]:
        await patch_ticket(client, org, ticket["id"], answer_document_id=document.json()["id"])
    await patch_ticket(client, org, tickets[9]["id"], answer_document_id=None)  # no document answers

    everything = await all_tickets(client, org)
    assert len(everything) == 11

    async def listed(**filters) -> set[str]:
        return {t["id"] for t in await all_tickets(client, org, limit=2, **filters)}

    def matching(**filters) -> set[str]:
        return {t["id"] for t in everything if all(t[name] == value for name, value in filters.items())}

    zed = tickets[-1]["customer_id"]
    for name, value in [
        ("status", "pending"),
        ("priority", 5),
        ("category_id", billing["id"]),
        ("assigned_agent_id", first["id"]),
        ("assigned_agent_id", second["id"]),
        ("customer_id", zed),
        ("no_category_fits", True),
        ("answer_document_id", document.json()["id"]),
        ("no_document_answers", True),
    ]:
        expected = matching(**{name: value})
        assert expected and expected != {t["id"] for t in everything}
        assert await listed(**{name: value}) == expected
    assert await listed(status="pending", category_id=billing["id"], priority=2) == {
        t["id"] for t in tickets[:3]
    }


async def test_full_text_search_matches_title_and_description_words_in_any_order(client):
    org = await sign_up(client)
    invoice = await open_ticket(client, org, title="Invoice is wrong", description="Charged twice in March")
    await open_ticket(client, org, title="Password reset", description="The email never arrives")
    assert [t["id"] for t in await all_tickets(client, org, q="march invoice")] == [invoice["id"]]
    assert [t["id"] for t in await all_tickets(client, org, q="twice")] == [invoice["id"]]
    assert await all_tickets(client, org, q="refund") == []
    # signs that negate nothing, which PostgreSQL's parser failed on past 32 (a 500)
    assert [t["id"] for t in await all_tickets(client, org, q=f"invoice {'-' * 40}")] == [invoice["id"]]
    assert await all_tickets(client, org, q="- " * 40) == []


async def test_the_list_never_shows_another_organizations_tickets(client):
    org = await sign_up(client)
    other = await sign_up(client)
    await open_ticket(client, other, title="Secret escalation")
    assert await all_tickets(client, org) == []
    assert await all_tickets(client, org, q="secret") == []


@pytest.mark.parametrize(
    "query", [{"status": "lost"}, {"priority": "9"}, {"category_id": "nope"}, {"limit": "500"}]
)
async def test_bad_filters_are_refused_as_invalid_input(client, query):
    org = await sign_up(client)
    response = await client.get("/tickets", headers=org.headers, params=query)
    assert response.status_code == 422


@pytest.mark.parametrize("path", ["/tickets", "/users", "/documents", "/categories", "/audit-logs"])
async def test_a_filter_given_empty_is_no_filter(client, path):
    """API.md writes its filters `?status=&priority=…`, and clients send an unset one so."""
    org = await sign_up(client)
    await open_ticket(client, org)
    empty = "status=&priority=&category_id=&q=&role=&is_public=&is_active=&entity_type=&cursor=&limit="
    unfiltered = await client.get(path, headers=org.headers)
    response = await client.get(f"{path}?{empty}", headers=org.headers)
    assert response.status_code == 200, response.text
    assert response.json() == unfiltered.json()


@embedded_only
async def test_under_row_level_security_the_ticket_search_reads_its_gin_index(client):
    """The seed's idx_tickets_search indexes an expression (`||`, to_tsvector) row-level security will not
    let the planner use; the stored vector leaves only the leakproof `@@` in the condition."""
    org = await sign_up(client)
    query = "SELECT id FROM tickets WHERE search_document @@ websearch_to_tsquery('simple', 'invoice')"
    assert "idx_tickets_search_document" in await plan_as_tenant(org.id, query)
