"""Bad input, at every endpoint: a 4xx problem+json (422 for validation), never a 5xx, and nothing
written. Cases are generated from a small description of each endpoint's body and query."""

import base64
import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.config import get_settings
from tests.factories import PASSWORD, Org, add_category, add_user, bearer, open_ticket, sign_up, unique_email
from tests.fingerprint import fingerprint

PROBLEM_KEYS = {"type", "title", "status", "detail", "code"}
UUID = "3f7e0b4c-68ad-4c5d-b667-334f39b9a6d9"
NUL = "a\u0000b"


@dataclass
class Target:
    org: Org
    customer: dict[str, str]
    ids: dict[str, str]


@pytest.fixture(scope="module")
async def target(client) -> Target:
    """One organization with one of everything, which every request below fails to change."""
    org = await sign_up(client)
    agent, _ = await add_user(client, org, "agent")
    category = await add_category(client, org)
    ticket = await open_ticket(client, org)
    document = await client.post("/documents", headers=org.headers, json={"title": "T", "content": "C"})
    webhook = await client.post(
        "/webhooks",
        headers=org.headers,
        json={"url": "https://hooks.example.com/x", "events": ["sla.breached"]},
    )
    portal = await client.post(
        f"/portal/{org.id}/tickets", json={"email": "c@customer.test", "title": "T", "description": "D"}
    )
    ids = {
        "organization_id": org.id,
        "user": agent["id"],
        "category": category["id"],
        "ticket": ticket["id"],
        "document": document.json()["id"],
        "webhook": webhook.json()["id"],
        "portal_ticket": portal.json()["ticket"]["id"],
    }
    return Target(org, bearer(portal.json()["access_token"]), ids)


def assert_problem(response, status: int | None = 422, code: str | None = None) -> None:
    """A problem+json answer: `status` exactly, or any 4xx when status is None."""
    if status is None:
        assert 400 <= response.status_code < 500, response.text
    else:
        assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    body = response.json()
    assert body.keys() >= PROBLEM_KEYS, body
    assert body["status"] == response.status_code
    if code:
        assert body["code"] == code, body


# --- value generators -----------------------------------------------------------------------------


# nothing shows: blank (zero-width characters, a byte-order mark, direction marks, a soft hyphen, a tag
# space, letters drawn blank)
BLANKS = [
    "",
    "   ",
    "\u200b",
    " \ufeff\u200b\u200c\u200d\u2060 ",
    "\u200e\u202e\u00ad\U000e0020",
    "\u3164\u2800",
]


def text_values(max_length: int) -> list[Any]:
    return [123, 1.5, True, [], {}, *BLANKS, NUL, "x" * (max_length + 1)]


def int_values(low: int, high: int) -> list[Any]:
    return ["3", "abc", 1.5, True, [], {}, low - 1, high + 1, 2**70]


BAD = {
    "name": text_values(255),
    # Optional free text: empty is fine, the rest is not.
    "optional_text": [value for value in text_values(5_000) if value not in BLANKS],
    "long": text_values(50_000),
    "document": text_values(200_000),
    "email": [
        123,
        True,
        [],
        {},
        "",
        "   ",
        NUL + "@example.com",
        "not-an-email",
        "a@b",
        "a b@c.de",
        "<a@b.com>",
        "a@[127.0.0.1]",
        "c\u200b@example.com",  # looked like c@example.com: another customer
        "c@exam\u200dple.com",
    ]
    + ["x" * 250 + "@example.com", "İ" * 125 + "@x.example.com"],  # the second: 264 characters lower-cased
    "password": [12345678, True, [], {}, "", "short", "p" * 1025, "pass" + NUL + "word"],
    "login_password": [12345678, True, [], {}, "", "p" * 1025, "pass" + NUL + "word"],
    "bool": ["true", "yes", "1", 1, 0, [], {}],
    "role": ["bogus", "", "superadmin", 1, True, [], NUL],
    "user_status": ["bogus", "", "deleted", 1, []],
    "plan": ["bogus", "", "platinum", 1, [], NUL],
    "status": ["bogus", "", "reopened", 1, []],
    "criticality": ["bogus", "", "severe", 2, []],
    "priority": int_values(1, 5),
    "sla_minutes": int_values(1, 525_600),
    "per_agent": int_values(1, 100_000),
    "days": int_values(1, 3650),
    "threshold": ["0.5", True, [], {}, -0.1, 1.1, 2],
    "uuid": ["not-a-uuid", "", 123, "123", [], "g" * 32, NUL],
    "uuid_list": ["not-a-list", ["not-a-uuid"], [123], {}, [NUL], [UUID] * 101],
    "events": [[], ["bogus"], "ticket.created", [1], {}, ["ticket.created"] * 5, [NUL]],
    "url": ["not a url", "ftp://hooks.example.com/", "http://", "javascript:alert(1)", "", 123, []]
    + ["file:///etc/passwd", "https://" + "a" * 2050 + ".com/", "https://hooks.example.com/" + "p" * 2048]
    + ["http:///hooks", "https://hooks.example.com:0/"],
    "customer": ["str", [], 1, None, {}, {"email": "bad"}, {"email": "a@b.co", "name": ""}]
    + [{"email": "a@b.co", "name": NUL}, {"email": "a@b.co", NUL: 1}],
}


@dataclass
class Endpoint:
    method: str
    path: str
    valid: dict[str, Any]  # a body that would succeed; fields in it are required unless optional
    fields: dict[str, str]  # field → kind in BAD
    optional: tuple[str, ...] = ()
    auth: str = "admin"  # admin, customer or none
    nullable: tuple[str, ...] = ()  # a PATCH's fields where null means something

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _signup() -> dict:
    return {"name": "N", "admin_email": unique_email(), "admin_name": "A", "admin_password": PASSWORD}


ENDPOINTS = [
    Endpoint(
        "POST",
        "/organizations",
        _signup(),
        {
            "name": "name",
            "admin_email": "email",
            "admin_name": "name",
            "admin_password": "password",
            "plan": "plan",
        },
        optional=("plan",),
        auth="none",
    ),
    Endpoint(
        "POST",
        "/auth/token",
        {"email": "someone@example.com", "password": PASSWORD},
        {"email": "email", "password": "login_password"},
        auth="none",
    ),
    Endpoint(
        "PATCH",
        "/organization",
        {},
        {
            "name": "name",
            "plan": "plan",
            "auto_response_threshold": "threshold",
            "max_open_tickets_per_agent": "per_agent",
            "auto_close_after_days": "days",
        },
        nullable=("max_open_tickets_per_agent", "auto_close_after_days"),
    ),
    Endpoint(
        "POST",
        "/users",
        {"email": "new@example.com", "name": "N", "role": "agent", "password": PASSWORD},
        {"email": "email", "name": "name", "role": "role", "password": "password"},
    ),
    Endpoint("PATCH", "/users/{user}", {}, {"name": "name", "role": "role", "status": "user_status"}),
    Endpoint(
        "POST",
        "/categories",
        {"name": "New category"},
        {
            "name": "name",
            "description": "optional_text",
            "is_active": "bool",
            "response_sla_minutes": "sla_minutes",
            "resolution_sla_minutes": "sla_minutes",
            "priority_level": "priority",
        },
    ),
    Endpoint(
        "PATCH",
        "/categories/{category}",
        {},
        {
            "name": "name",
            "description": "optional_text",
            "is_active": "bool",
            "response_sla_minutes": "sla_minutes",
            "resolution_sla_minutes": "sla_minutes",
            "priority_level": "priority",
        },
        nullable=("description",),
    ),
    Endpoint(
        "POST",
        "/tickets",
        {"title": "T", "description": "D", "customer": {"email": "c@customer.test"}},
        {
            "title": "name",
            "description": "long",
            "customer": "customer",
            "category_id": "uuid",
            "priority": "priority",
            "criticality": "criticality",
        },
    ),
    Endpoint(
        "PATCH",
        "/tickets/{ticket}",
        {},
        {
            "status": "status",
            "priority": "priority",
            "criticality": "criticality",
            "category_id": "uuid",
            "assigned_agent_id": "uuid",
            "answer_document_id": "uuid",
        },
        nullable=("category_id", "assigned_agent_id", "answer_document_id"),
    ),
    Endpoint(
        "POST", "/tickets/{ticket}/messages", {"content": "Hi"}, {"content": "long", "is_internal": "bool"}
    ),
    Endpoint(
        "POST",
        "/documents",
        {"title": "T", "content": "C"},
        {"title": "name", "content": "document", "is_public": "bool", "category_ids": "uuid_list"},
    ),
    Endpoint(
        "PATCH",
        "/documents/{document}",
        {},
        {"title": "name", "content": "document", "is_public": "bool", "category_ids": "uuid_list"},
    ),
    Endpoint(
        "POST",
        "/webhooks",
        {"url": "https://hooks.example.com/y", "events": ["ticket.created"]},
        {"url": "url", "events": "events"},
    ),
    Endpoint(
        "POST",
        "/portal/{organization_id}/tickets",
        {"email": "c@customer.test", "title": "T", "description": "D"},
        {"email": "email", "name": "name", "title": "name", "description": "long"},
        optional=("name",),
        auth="none",
    ),
    Endpoint(
        "POST",
        "/portal/tickets/{portal_ticket}/messages",
        {"content": "Hi"},
        {"content": "long"},
        auth="customer",
    ),
]


def bad_bodies(endpoint: Endpoint) -> list[tuple[str, dict[str, Any]]]:
    """(label, request keyword arguments) for every bad body of `endpoint`."""
    raw = {"content-type": "application/json"}
    cases: list[tuple[str, dict[str, Any]]] = [
        ("malformed JSON", {"content": b'{"title": ', "headers": raw}),
        ("trailing garbage", {"content": json.dumps(endpoint.valid).encode() + b"}", "headers": raw}),
        ("empty body", {"content": b"", "headers": raw}),
        ("JSON null", {"json": None, "headers": raw}),
        ("JSON array", {"json": [endpoint.valid]}),
        ("JSON string", {"json": "{}"}),
        ("JSON number", {"json": 1}),
        ("invalid UTF-8", {"content": b'{"title": "\xff\xfe\xfa"}', "headers": raw}),
        ("raw NUL byte in a string", {"content": b'{"title": "a\x00b"}', "headers": raw}),
        ("NaN", {"content": b'{"%s": NaN}' % next(iter(endpoint.fields)).encode(), "headers": raw}),
        (
            "not JSON at all",
            {"content": b"title=x", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        ),
    ]
    for field, kind in endpoint.fields.items():
        for value in BAD[kind]:
            cases.append((f"{field}={value!r:.40}", {"json": {**endpoint.valid, field: value}}))
    if endpoint.method == "PATCH":  # a field left out is kept; null is no value to set
        for field in endpoint.fields.keys() - set(endpoint.nullable):
            cases.append((f"{field}=null", {"json": {field: None}}))
    for field in endpoint.valid:
        if field not in endpoint.optional:
            body = {name: value for name, value in endpoint.valid.items() if name != field}
            cases.append((f"missing {field}", {"json": body}))
            cases.append((f"{field}=null", {"json": {**endpoint.valid, field: None}}))
    return cases


def headers_for(target: Target, auth: str) -> dict[str, str]:
    return {"admin": target.org.headers, "customer": target.customer, "none": {}}[auth]


def fresh_valid_body(endpoint: Endpoint, org: Org) -> dict[str, Any]:
    """The endpoint's valid body, made unique (or real) where it has to be to succeed."""
    if endpoint.path == "/organizations":
        return _signup()
    if endpoint.path == "/users":
        return {**endpoint.valid, "email": unique_email()}
    if endpoint.path == "/auth/token":
        return {"email": org.admin_email, "password": PASSWORD}
    return endpoint.valid


async def test_null_in_a_patch_is_refused_in_the_validators_own_words(client, target):
    response = await client.patch(
        f"/tickets/{target.ids['ticket']}",
        headers=target.org.headers,
        json={"status": None, "priority": None},
    )
    assert_problem(response, 422, "validation_error")
    assert (
        response.json()["detail"] == "body: may not be null: status, priority (leave a field out to keep it)"
    )


PATCH_SCHEMAS = {
    "/organization": "OrganizationPatch",
    "/users/{user}": "UserPatch",
    "/categories/{category}": "CategoryPatch",
    "/tickets/{ticket}": "TicketPatch",
    "/documents/{document}": "DocumentPatch",
}


async def test_the_openapi_document_allows_null_in_a_patch_only_where_it_is_accepted(client):
    schemas = (await client.get("http://test/openapi.json")).json()["components"]["schemas"]
    for endpoint in ENDPOINTS:
        if endpoint.method == "PATCH":
            properties = schemas[PATCH_SCHEMAS[endpoint.path]]["properties"]
            for field in endpoint.fields:
                takes_null = {"type": "null"} in properties[field].get("anyOf", [])
                assert takes_null == (field in endpoint.nullable), (endpoint.path, field)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_the_valid_body_is_valid(client, target, endpoint):
    """The control for the cases below: the body they spoil does succeed."""
    response = await client.request(
        endpoint.method,
        endpoint.path.format(**target.ids),
        headers=headers_for(target, endpoint.auth),
        json=fresh_valid_body(endpoint, target.org),
    )
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_a_bad_body_is_a_422_and_writes_nothing(client, target, endpoint):
    before = await fingerprint(target.org.id)
    wrong = []
    for label, request in bad_bodies(endpoint):
        headers = {**headers_for(target, endpoint.auth), **request.pop("headers", {})}
        response = await client.request(
            endpoint.method, endpoint.path.format(**target.ids), headers=headers, **request
        )
        try:
            assert_problem(response, 422)
        except AssertionError:
            wrong.append(f"{label}: {response.status_code} {response.text[:120]}")
    assert wrong == []
    assert await fingerprint(target.org.id) == before


UNREADABLE = [
    ("malformed JSON", b'{"title": '),
    ("invalid UTF-8", b'{"title": "\xff\xfe\xfa"}'),
    ("nested too deep", b"[" * 100_000),
]


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.auth != "none"], ids=str)
async def test_an_unreadable_body_without_a_valid_token_is_a_401_not_a_422(client, target, endpoint):
    """FastAPI reads the body before it asks who is calling: the token still comes first."""
    path, raw = endpoint.path.format(**target.ids), {"content-type": "application/json"}
    wrong = []
    for label, content in UNREADABLE:
        for token in ("", "Bearer nope", "Basic dXNlcg=="):
            response = await client.request(
                endpoint.method, path, content=content, headers={**raw, "authorization": token}
            )
            if response.status_code != 401 or response.json()["code"] != "not_authenticated":
                wrong.append(f"{label}, {token!r}: {response.status_code} {response.text[:80]}")
        with_token = await client.request(
            endpoint.method, path, content=content, headers={**raw, **headers_for(target, endpoint.auth)}
        )
        if with_token.status_code != 422:
            wrong.append(f"{label}, valid token: {with_token.status_code}")
    assert wrong == []


async def test_no_bad_sign_up_made_an_organization(client):
    """The sign-up cases above name their own addresses; none of them may exist now."""
    emails = [
        request["json"]["admin_email"]
        for _, request in bad_bodies(ENDPOINTS[0])
        if isinstance(request.get("json"), dict) and isinstance(request["json"].get("admin_email"), str)
    ]
    emails = [email for email in emails if "\x00" not in email]
    async with db.system_session() as session:  # sign-up crosses tenants: look everywhere
        found = await session.scalar(
            text("SELECT count(*) FROM users WHERE email = ANY(:emails)"), {"emails": emails}
        )
    assert found == 0


async def test_deeply_nested_json_is_a_4xx(client, target):
    for body in (b"[" * 100_000, b'{"a":' * 100_000):
        response = await client.post(
            "/tickets", headers={**target.org.headers, "content-type": "application/json"}, content=body
        )
        assert_problem(response, None)


# --- bodies over the limit -------------------------------------------------------------------------

TOO_BIG = get_settings().max_body_bytes + 1


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
async def test_a_body_over_the_limit_is_a_413(client, target, endpoint):
    before = await fingerprint(target.org.id)
    url = endpoint.path.format(**target.ids)
    headers = {**headers_for(target, endpoint.auth), "content-type": "application/json"}
    body = json.dumps({**endpoint.valid, "padding": "x" * TOO_BIG}).encode()

    async def chunks():
        for start in range(0, len(body), 65_536):
            yield body[start : start + 65_536]

    declared = await client.request(endpoint.method, url, headers=headers, content=body)
    streamed = await client.request(endpoint.method, url, headers=headers, content=chunks())
    assert_problem(declared, 413, "body_too_large")
    assert_problem(streamed, 413, "body_too_large")
    assert await fingerprint(target.org.id) == before


async def test_a_text_field_over_its_limit_but_under_the_body_limit_is_a_422(client, target):
    response = await client.post(
        f"/tickets/{target.ids['ticket']}/messages",
        headers=target.org.headers,
        json={"content": "x" * 50_001},
    )
    assert_problem(response, 422, "validation_error")


# --- path ids and query strings --------------------------------------------------------------------

ID_ROUTES = [
    ("GET", "/users/{}", None),
    ("PATCH", "/users/{}", {"name": "N"}),
    ("GET", "/categories/{}", None),
    ("PATCH", "/categories/{}", {"name": "N"}),
    ("DELETE", "/categories/{}", None),
    ("GET", "/tickets/{}", None),
    ("PATCH", "/tickets/{}", {"priority": 1}),
    ("GET", "/tickets/{}/messages", None),
    ("POST", "/tickets/{}/messages", {"content": "Hi"}),
    ("GET", "/documents/{}", None),
    ("PATCH", "/documents/{}", {"title": "T"}),
    ("DELETE", "/documents/{}", None),
    ("DELETE", "/webhooks/{}", None),
    ("GET", "/webhooks/{}/deliveries", None),
    ("GET", "/customers/{}", None),
    ("DELETE", "/customers/{}", None),
    ("POST", "/portal/{}/tickets", {"email": "c@customer.test", "title": "T", "description": "D"}),
    ("GET", "/portal/tickets/{}", None),
    ("GET", "/portal/tickets/{}/messages", None),
    ("POST", "/portal/tickets/{}/messages", {"content": "Hi"}),
]
NOT_IDS = [
    "not-a-uuid",
    "1",
    "0" * 40,
    "3f7e0b4c-68ad-4c5d-b667-334f39b9a6dg",
    "a%00b",
    "%F0%28%8C%28",
    "' OR 1=1 --",
]


@pytest.mark.parametrize(("method", "path", "body"), ID_ROUTES)
async def test_an_id_that_is_not_a_uuid_is_a_422(client, target, method, path, body):
    headers = target.customer if path.startswith("/portal/tickets") else target.org.headers
    before = await fingerprint(target.org.id)
    for not_an_id in NOT_IDS:
        response = await client.request(method, path.format(not_an_id), headers=headers, json=body)
        assert_problem(response, 422, "validation_error")
    assert await fingerprint(target.org.id) == before


def _cursor(value: Any) -> str:
    """A cursor as this server encodes them, around a value it never issues."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


PAGING = [
    ("limit", "0"),
    ("limit", "101"),
    ("limit", "-1"),
    ("limit", "abc"),
    ("limit", "1.5"),
    ("limit", "99999999999999999999999"),
    ("cursor", "!!!"),
    ("cursor", "A" * 201),
    ("cursor", "bm90IGpzb24"),
    ("cursor", NUL),
    ("cursor", _cursor(None)),
    ("cursor", _cursor("x")),
    ("cursor", _cursor([1, 2, 3])),
    ("cursor", _cursor(["2020-01-01T00:00:00+00:00", 5])),
    ("cursor", _cursor([5, UUID])),
    ("cursor", _cursor(["2020-01-01T00:00:00", UUID])),
    ("cursor", _cursor(["99999-01-01T00:00:00+00:00", UUID])),
    ("cursor", _cursor(["0001-01-01T00:00:00+14:00", UUID])),
    ("cursor", _cursor(["9999-12-31T23:59:59-14:00", UUID])),
    ("cursor", _cursor(["2020-01-01T00:00:00+00:00", "not-a-uuid"])),
    ("cursor", _cursor(["2020-01-01T00:00:00+00:00", NUL])),
]

LISTS = {
    "/users": [("role", "bogus"), ("status", "bogus"), ("role", NUL)],
    "/categories": [("is_active", "maybe"), ("is_active", NUL)],
    "/customers": [("email", "nope"), ("email", NUL), ("email", "a@b.c" + "x" * 300)],
    "/tickets": [
        ("status", "bogus"),
        ("priority", "0"),
        ("priority", "6"),
        ("priority", "high"),
        ("category_id", "x"),
        ("assigned_agent_id", "x"),
        ("customer_id", "x"),
        ("answer_document_id", "x"),
        ("no_document_answers", "maybe"),
        ("q", NUL),
        ("q", "x" * 201),
    ],
    "/documents": [("is_public", "maybe"), ("category_id", "x")],
    "/audit-logs": [("entity_type", "x" * 51), ("entity_id", "x"), ("entity_type", NUL)],
    "/webhooks": [],
    "/tickets/{ticket}/messages": [],
    "/tickets/{ticket}/auto-answers": [],
    "/webhooks/{webhook}/deliveries": [],
    "/portal/tickets": [],
    "/portal/tickets/{portal_ticket}/messages": [],
}


@pytest.mark.parametrize("path", LISTS)
async def test_a_bad_query_is_a_422(client, target, path):
    headers = target.customer if path.startswith("/portal/") else target.org.headers
    wrong = []
    for name, value in PAGING + LISTS[path]:
        response = await client.get(path.format(**target.ids), headers=headers, params={name: value})
        try:
            assert_problem(response, 422)
        except AssertionError:
            wrong.append(f"{name}={value[:40]!r}: {response.status_code} {response.text[:120]}")
    assert wrong == []


async def test_limits_at_the_edges_are_accepted(client, target):
    for limit in ("1", "100"):
        response = await client.get("/tickets", headers=target.org.headers, params={"limit": limit})
        assert response.status_code == 200, response.text


async def test_unknown_paths_and_methods_answer_problem_json(client, target):
    assert_problem(await client.get("/nowhere", headers=target.org.headers), 404, "not_found")
    not_allowed = await client.put("/tickets", headers=target.org.headers, json={})
    assert_problem(not_allowed, 405, "method_not_allowed")
    assert set(not_allowed.headers["Allow"].split(", ")) == {"GET", "POST"}
    # not a redirect, with an empty body, to the Host the client named
    slash = await client.get("/tickets/", headers={**target.org.headers, "Host": "evil.example"})
    assert_problem(slash, 404, "not_found")


# --- webhook URLs (server-side request forgery) ---------------------------------------------------

ALWAYS_REFUSED = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254./",
    "http://0251.0376.0251.0376/",
    "http://[fe80::1]/hook",
    "http://[::ffff:169.254.169.254]/",
]
PRIVATE = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://2130706433/",
    "http://0.0.0.0/",
    "http://10.0.0.5/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://100.100.100.200/",
    "http://[::1]/",
    "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/",
]


async def _register(client, org: Org, url: str):
    return await client.post(
        "/webhooks", headers=org.headers, json={"url": url, "events": ["ticket.created"]}
    )


@pytest.mark.parametrize("url", ALWAYS_REFUSED + PRIVATE)
async def test_a_webhook_cannot_point_at_a_private_or_link_local_address(client, target, url):
    before = await fingerprint(target.org.id)
    assert_problem(await _register(client, target.org, url), 422, "webhook_url_not_allowed")
    assert await fingerprint(target.org.id) == before


@pytest.mark.parametrize("url", ALWAYS_REFUSED)
async def test_link_local_addresses_are_refused_even_when_private_ones_are_allowed(
    client, target, url, monkeypatch
):
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    assert_problem(await _register(client, target.org, url), 422, "webhook_url_not_allowed")


async def test_private_addresses_are_allowed_when_the_operator_says_so(client, monkeypatch):
    org = await sign_up(client)
    monkeypatch.setattr(get_settings(), "webhook_allow_private", True)
    for url in ["http://127.0.0.1:8080/hook", "http://10.0.0.5/", "http://[::1]/"]:
        response = await _register(client, org, url)
        assert response.status_code == 201, (url, response.text)


async def test_a_public_webhook_is_accepted_and_its_secret_shown_once(client):
    org = await sign_up(client)
    response = await _register(client, org, "https://hooks.example.com/x")
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["secret"]
    assert created["url"] == "https://hooks.example.com/x"
    listed = await client.get("/webhooks", headers=org.headers)
    assert [webhook["id"] for webhook in listed.json()["data"]] == [created["id"]]
    assert "secret" not in listed.json()["data"][0]
    assert created["secret"] not in listed.text
    audit = await client.get("/audit-logs", headers=org.headers)
    assert created["secret"] not in audit.text


async def test_a_password_is_never_trimmed_at_login(client):
    org = await sign_up(client)
    padded = await client.post("/auth/token", json={"email": org.admin_email, "password": f" {PASSWORD} "})
    assert_problem(padded, 401, "invalid_credentials")
    email = await client.post(
        "/auth/token", json={"email": f"  {org.admin_email.upper()} ", "password": PASSWORD}
    )
    assert email.status_code == 200, email.text
