"""Who may do what (PRODUCT.md, "Who uses it"), and what a missing, wrong or spent token gets."""

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import text

from supportdesk import db
from tests.factories import PASSWORD, Org, add_category, add_user, bearer, open_ticket, sign_up, unique_email
from tests.fingerprint import fingerprint

PUBLIC = {("POST", "/api/v1/organizations"), ("POST", "/api/v1/auth/token")}
PORTAL_PUBLIC = {
    ("POST", "/api/v1/portal/{organization_id}/tickets"),
    ("GET", "/api/v1/portal/{organization_id}/kb/search"),  # public documents only, for anyone
}


@dataclass
class Team:
    org: Org
    agent: dict[str, str]
    analyst: dict[str, str]
    ids: dict[str, str]


@pytest.fixture(scope="module")
async def team(client) -> Team:
    """One organization with a user of each role and one of every object. The tests that use it
    only read it or are refused; those that change things make their own."""
    org = await sign_up(client)
    agent, agent_headers = await add_user(client, org, "agent")
    _, analyst_headers = await add_user(client, org, "analyst")
    category = await add_category(client, org)
    ticket = await open_ticket(client, org)
    document = await client.post("/documents", headers=org.headers, json={"title": "T", "content": "C"})
    webhook = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://hooks.example.com/x", "events": ["sla.breached"]},
    )
    assert document.status_code == webhook.status_code == 201
    ids = {
        "user": agent["id"],
        "category": category["id"],
        "ticket": ticket["id"],
        "document": document.json()["id"],
        "webhook": webhook.json()["id"],
        "customer": ticket["customer_id"],
    }
    return Team(org, agent_headers, analyst_headers, ids)


def _new_user() -> dict:
    return {"email": unique_email("new"), "name": "New One", "role": "agent", "password": PASSWORD}


def _new_ticket() -> dict:
    return {"title": "Help", "description": "Please", "customer": {"email": "c@customer.test"}}


# Admin-only calls, in an order an admin can run them one after another (deletes last).
ADMIN_ONLY = [
    ("POST", "/users", _new_user),
    ("PATCH", "/users/{user}", lambda: {"name": "Renamed"}),
    ("POST", "/categories", lambda: {"name": f"Cat {uuid.uuid4().hex[:6]}"}),
    ("PATCH", "/categories/{category}", lambda: {"description": "Changed"}),
    ("POST", "/documents", lambda: {"title": "New", "content": "Body"}),
    ("PATCH", "/documents/{document}", lambda: {"title": "Changed"}),
    ("PATCH", "/organization", lambda: {"name": "Renamed"}),
    ("PATCH", "/organization", lambda: {"plan": "pro"}),
    ("GET", "/webhooks", None),
    ("POST", "/webhooks", lambda: {"url": "https://hooks.example.com/y", "events": ["ticket.created"]}),
    ("GET", "/webhooks/{webhook}/deliveries", None),
    ("GET", "/audit-logs", None),
    ("DELETE", "/categories/{category}", None),
    ("DELETE", "/documents/{document}", None),
    ("DELETE", "/webhooks/{webhook}", None),
    ("DELETE", "/customers/{customer}", None),
]

# Reads an agent may make and an analyst may not: who the customers are.
AGENT_READS = ["/customers", "/customers/{customer}"]

# Writes an agent may make and an analyst may not.
AGENT_WRITES = [
    ("POST", "/tickets", _new_ticket),
    ("PATCH", "/tickets/{ticket}", lambda: {"priority": 2}),
    ("POST", "/tickets/{ticket}/messages", lambda: {"content": "Reply"}),
    ("POST", "/tickets/{ticket}/messages", lambda: {"content": "Note", "is_internal": True}),
]

READS = [
    "/me",
    "/organization",
    "/users",
    "/users/{user}",
    "/categories",
    "/categories/{category}",
    "/tickets",
    "/tickets/{ticket}",
    "/tickets/{ticket}/messages",
    "/documents",
    "/documents/{document}",
]


async def _call(client, team: Team, headers, method: str, path: str, body) -> object:
    return await client.request(
        method, path.format(**team.ids), headers=headers, json=body() if body else None
    )


def _assert_problem(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY + AGENT_WRITES)
async def test_an_analyst_can_write_nothing(client, team, method, path, body):
    before = await fingerprint(team.org.id)
    response = await _call(client, team, team.analyst, method, path, body)
    _assert_problem(response, 403, "forbidden")
    assert await fingerprint(team.org.id) == before


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ONLY)
async def test_an_agent_cannot_manage_the_organization(client, team, method, path, body):
    before = await fingerprint(team.org.id)
    response = await _call(client, team, team.agent, method, path, body)
    _assert_problem(response, 403, "forbidden")
    assert await fingerprint(team.org.id) == before


@pytest.mark.parametrize(("method", "path"), [(m, p) for m, p, body in ADMIN_ONLY + AGENT_WRITES if body])
async def test_a_role_that_may_not_write_is_refused_before_its_body_is_read(client, team, method, path):
    """A body that is not JSON at all still gets the 403 the role earns, not a 422 about the body."""
    headers = {**team.analyst, "content-type": "application/json"}
    response = await client.request(method, path.format(**team.ids), headers=headers, content=b'{"name": ')
    _assert_problem(response, 403, "forbidden")


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("role", ["analyst", "agent"])
async def test_every_role_can_read(client, team, role, path):
    response = await client.get(path.format(**team.ids), headers=getattr(team, role))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("path", AGENT_READS)
async def test_an_agent_reads_the_customers_and_an_analyst_does_not(client, team, path):
    assert (await client.get(path.format(**team.ids), headers=team.agent)).status_code == 200
    _assert_problem(await client.get(path.format(**team.ids), headers=team.analyst), 403, "forbidden")


async def test_an_agent_works_tickets(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org, "agent")
    team = Team(org, agent, {}, {"ticket": (await open_ticket(client, org))["id"]})
    for method, path, body in AGENT_WRITES:
        response = await _call(client, team, agent, method, path, body)
        assert response.status_code in (200, 201), (method, path, response.text)


async def test_an_admin_can_do_everything(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org, "agent")
    webhook = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://hooks.example.com/z", "events": ["sla.breached"]},
    )
    document = await client.post("/documents", headers=org.headers, json={"title": "T", "content": "C"})
    done = await open_ticket(client, org, customer={"email": "done@customer.test"})
    resolved = await client.patch(f"/tickets/{done['id']}", headers=org.headers, json={"status": "resolved"})
    assert resolved.status_code == 200, resolved.text  # a customer with a ticket in progress stays
    ids = {
        "user": agent["id"],
        "category": (await add_category(client, org))["id"],
        "ticket": (await open_ticket(client, org))["id"],
        "document": document.json()["id"],
        "webhook": webhook.json()["id"],
        "customer": done["customer_id"],
    }
    team = Team(org, {}, {}, ids)
    for method, path, body in AGENT_WRITES + ADMIN_ONLY:
        response = await _call(client, team, org.headers, method, path, body)
        assert response.status_code in (200, 201, 204), (method, path, response.text)


# --- tokens -------------------------------------------------------------------------------------


async def _routes(client) -> list[tuple[str, str]]:
    """Every operation the server serves under /api/v1, as its OpenAPI document lists them."""
    paths = (await client.get("http://test/openapi.json")).json()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1/")
        for method in operations
    )


async def _staff_routes(client) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path in await _routes(client)
        if (method, path) not in PUBLIC and not path.startswith("/api/v1/portal/")
    ]


async def _portal_routes(client) -> list[tuple[str, str]]:
    return [
        (method, path)
        for method, path in await _routes(client)
        if path.startswith("/api/v1/portal/") and (method, path) not in PORTAL_PUBLIC
    ]


def _fill(path: str) -> str:
    """The route's path with a random UUID for each parameter, relative to the client's base URL."""
    parts = [str(uuid.uuid4()) if part.startswith("{") else part for part in path.split("/")]
    return "/".join(parts).removeprefix("/api/v1")


async def _refused_everywhere(client, routes, headers: dict[str, str]) -> list[str]:
    """The routes that did not answer 401 problem+json with `not_authenticated`."""
    assert routes, "no routes to try"
    let_through = []
    for method, path in routes:
        body = {} if method in ("POST", "PATCH", "PUT") else None
        response = await client.request(method, _fill(path), headers=headers, json=body)
        refused = (
            response.status_code == 401
            and response.headers["content-type"].startswith("application/problem+json")
            and response.json()["code"] == "not_authenticated"
        )
        if not refused:
            let_through.append(f"{method} {path}: {response.status_code}")
    return let_through


BAD_AUTHORIZATION = [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer not-a-token"},
    {"Authorization": "Bearer sdk_" + "A" * 43},
    {"Authorization": "Bearer sdc_" + "A" * 43},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Token sdk_" + "A" * 43},
]


@pytest.mark.parametrize("headers", BAD_AUTHORIZATION)
async def test_staff_endpoints_refuse_a_missing_or_wrong_token(client, headers):
    assert await _refused_everywhere(client, await _staff_routes(client), headers) == []


@pytest.mark.parametrize("headers", BAD_AUTHORIZATION)
async def test_portal_endpoints_refuse_a_missing_or_wrong_token(client, headers):
    assert await _refused_everywhere(client, await _portal_routes(client), headers) == []


async def test_a_customer_token_never_works_on_staff_endpoints(client):
    org = await sign_up(client)
    portal = await client.post(
        f"/portal/{org.id}/tickets", json={"email": "c@customer.test", "title": "T", "description": "D"}
    )
    customer = bearer(portal.json()["access_token"])
    assert await _refused_everywhere(client, await _staff_routes(client), customer) == []


async def test_a_staff_token_never_works_on_portal_endpoints(client, team):
    for headers in (team.org.headers, team.agent, team.analyst):
        assert await _refused_everywhere(client, await _portal_routes(client), headers) == []


async def test_a_token_stops_working_at_logout_and_the_others_do_not(client):
    org = await sign_up(client)
    login = await client.post("/auth/token", json={"email": org.admin_email, "password": PASSWORD})
    spent = bearer(login.json()["access_token"])
    assert (await client.get("/me", headers=spent)).status_code == 200
    assert (await client.post("/auth/logout", headers=spent)).status_code == 204
    assert await _refused_everywhere(client, await _staff_routes(client), spent) == []
    assert (await client.get("/me", headers=org.headers)).status_code == 200


async def test_a_deactivated_users_token_stops_working(client):
    org = await sign_up(client)
    agent, agent_headers = await add_user(client, org, "agent")
    assert (await client.get("/me", headers=agent_headers)).status_code == 200
    response = await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"status": "inactive"})
    assert response.status_code == 200, response.text
    _assert_problem(await client.get("/me", headers=agent_headers), 401, "not_authenticated")
    login = await client.post("/auth/token", json={"email": agent["email"], "password": PASSWORD})
    _assert_problem(login, 401, "invalid_credentials")


async def test_a_wrong_password_or_unknown_email_gets_no_token(client):
    org = await sign_up(client)
    wrong = await client.post("/auth/token", json={"email": org.admin_email, "password": PASSWORD + "x"})
    unknown = await client.post("/auth/token", json={"email": unique_email(), "password": PASSWORD})
    _assert_problem(wrong, 401, "invalid_credentials")
    _assert_problem(unknown, 401, "invalid_credentials")
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_an_inactive_organization_cannot_log_in_or_open_tickets(client):
    org = await sign_up(client)
    async with db.system_session() as session:  # an operator's switch; there is no endpoint for it
        await session.execute(
            text("UPDATE organizations SET is_active = false WHERE id = :id"), {"id": org.id}
        )
    before = await fingerprint(org.id)
    login = await client.post("/auth/token", json={"email": org.admin_email, "password": PASSWORD})
    _assert_problem(login, 403, "organization_inactive")
    staff = await client.post("/tickets", headers=org.headers, json=_new_ticket())
    _assert_problem(staff, 403, "organization_inactive")
    portal = await client.post(
        f"/portal/{org.id}/tickets", json={"email": "c@customer.test", "title": "T", "description": "D"}
    )
    _assert_problem(portal, 403, "organization_inactive")
    assert await fingerprint(org.id) == before


# --- the customer -------------------------------------------------------------------------------


async def _portal_ticket(client, org: Org, email: str) -> tuple[dict, dict[str, str]]:
    response = await client.post(
        f"/portal/{org.id}/tickets", json={"email": email, "title": "Broken", "description": "It broke."}
    )
    assert response.status_code == 201, response.text
    return response.json()["ticket"], bearer(response.json()["access_token"])


async def test_a_customer_sees_only_their_own_tickets(client):
    org = await sign_up(client)
    mine, me = await _portal_ticket(client, org, "me@customer.test")
    theirs, _ = await _portal_ticket(client, org, "them@customer.test")
    listed = await client.get("/portal/tickets", headers=me)
    assert [ticket["id"] for ticket in listed.json()["data"]] == [mine["id"]]
    for method, path, body in [
        ("GET", f"/portal/tickets/{theirs['id']}", None),
        ("GET", f"/portal/tickets/{theirs['id']}/messages", None),
        ("POST", f"/portal/tickets/{theirs['id']}/messages", {"content": "Mine now"}),
    ]:
        _assert_problem(await client.request(method, path, headers=me, json=body), 404, "not_found")


async def test_a_customer_never_sees_internal_notes(client):
    org = await sign_up(client)
    ticket, customer = await _portal_ticket(client, org, "me@customer.test")
    for content, is_internal in [("INTERNAL-NOTE-7f3a", True), ("Public answer", False)]:
        response = await client.post(
            f"/tickets/{ticket['id']}/messages",
            headers=org.headers,
            json={"content": content, "is_internal": is_internal},
        )
        assert response.status_code == 201, response.text
    one = await client.get(f"/portal/tickets/{ticket['id']}", headers=customer)
    thread = await client.get(f"/portal/tickets/{ticket['id']}/messages", headers=customer)
    listed = await client.get("/portal/tickets", headers=customer)
    for response in (one, thread, listed):
        assert response.status_code == 200, response.text
        assert "INTERNAL-NOTE-7f3a" not in response.text
        assert "is_internal" not in response.text
    assert "Public answer" in [message["content"] for message in one.json()["messages"]]
    assert "Public answer" in [message["content"] for message in thread.json()["data"]]


# --- the contract ---------------------------------------------------------------------------------

# API.md's endpoints (the knowledge-base search and analytics are checked where they are built).
CONTRACT = [
    ("get", "/healthz"),
    ("post", "/api/v1/organizations"),
    ("post", "/api/v1/auth/token"),
    ("post", "/api/v1/auth/logout"),
    ("get", "/api/v1/me"),
    ("get", "/api/v1/organization"),
    ("patch", "/api/v1/organization"),
    ("get", "/api/v1/users"),
    ("post", "/api/v1/users"),
    ("get", "/api/v1/users/{user_id}"),
    ("patch", "/api/v1/users/{user_id}"),
    ("get", "/api/v1/categories"),
    ("post", "/api/v1/categories"),
    ("get", "/api/v1/categories/{category_id}"),
    ("patch", "/api/v1/categories/{category_id}"),
    ("delete", "/api/v1/categories/{category_id}"),
    ("get", "/api/v1/tickets"),
    ("post", "/api/v1/tickets"),
    ("get", "/api/v1/tickets/{ticket_id}"),
    ("patch", "/api/v1/tickets/{ticket_id}"),
    ("get", "/api/v1/tickets/{ticket_id}/messages"),
    ("post", "/api/v1/tickets/{ticket_id}/messages"),
    ("get", "/api/v1/documents"),
    ("post", "/api/v1/documents"),
    ("get", "/api/v1/documents/{document_id}"),
    ("patch", "/api/v1/documents/{document_id}"),
    ("delete", "/api/v1/documents/{document_id}"),
    ("get", "/api/v1/audit-logs"),
    ("get", "/api/v1/webhooks"),
    ("post", "/api/v1/webhooks"),
    ("delete", "/api/v1/webhooks/{webhook_id}"),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries"),
    ("post", "/api/v1/portal/{organization_id}/tickets"),
    ("get", "/api/v1/portal/tickets"),
    ("get", "/api/v1/portal/tickets/{ticket_id}"),
    ("post", "/api/v1/portal/tickets/{ticket_id}/messages"),
]


async def test_the_openapi_document_lists_every_endpoint_of_the_contract(client):
    response = await client.get("http://test/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    missing = [(m, p) for m, p in CONTRACT if m not in document["paths"].get(p, {})]
    assert missing == []


async def test_the_openapi_document_says_which_endpoints_need_a_token(client):
    paths = (await client.get("http://test/openapi.json")).json()["paths"]
    for method, path in await _staff_routes(client):
        assert paths[path][method.lower()].get("security"), (method, path)


async def test_the_openapi_document_says_errors_are_problem_details(client):
    document = (await client.get("http://test/openapi.json")).json()
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

    operations = [operation for path in document["paths"].values() for operation in path.values()]

    assert all(operation["responses"]["default"]["content"] == problem for operation in operations)
    assert all(
        operation["responses"]["422"]["content"] == problem
        for operation in operations
        if "422" in operation["responses"]
    )
    assert "HTTPValidationError" not in str(document)
    assert set(document["components"]["schemas"]["Problem"]["required"]) == {
        "type",
        "title",
        "status",
        "detail",
        "code",
    }
