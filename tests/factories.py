"""Factories: real rows made through the API, unique per call."""

import socket
import uuid
from dataclasses import dataclass

import httpx

PASSWORD = "correct horse battery"
CLIENT_ADDRESS = "127.0.0.1"  # where the test client's requests come from, unless told otherwise


def api_client(app, address: str = CLIENT_ADDRESS) -> httpx.AsyncClient:
    """A client of the API in this process, its requests coming from `address`."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test/api/v1", timeout=60)


def unique_email(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}@example.com"


@dataclass
class Org:
    id: str
    admin_id: str
    headers: dict[str, str]
    admin_email: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def free_port() -> int:
    """A local TCP port nothing listens on (at the time of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def login(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post("/auth/token", json={"email": email, "password": password})


async def sign_up(client: httpx.AsyncClient, plan: str = "free", name: str = "Acme") -> Org:
    email = unique_email("admin")
    response = await client.post(
        "/organizations",
        json={
            "name": name,
            "admin_email": email,
            "admin_name": "Ada Admin",
            "admin_password": PASSWORD,
            "plan": plan,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Org(body["organization"]["id"], body["user"]["id"], bearer(body["access_token"]), email)


async def add_user(client: httpx.AsyncClient, org: Org, role: str = "agent") -> tuple[dict, dict[str, str]]:
    """A user of `org` and the headers of a token of theirs."""
    email = unique_email(role)
    response = await client.post(
        "/users",
        headers=org.headers,
        json={"email": email, "name": f"{role} one", "role": role, "password": PASSWORD},
    )
    assert response.status_code == 201, response.text
    token = await login(client, email)
    assert token.status_code == 200, token.text
    return response.json(), bearer(token.json()["access_token"])


async def add_category(client: httpx.AsyncClient, org: Org, **fields) -> dict:
    body = {"name": f"Category {uuid.uuid4().hex[:6]}", **fields}
    response = await client.post("/categories", headers=org.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def open_ticket(
    client: httpx.AsyncClient, org: Org, headers: dict[str, str] | None = None, **fields
) -> dict:
    body = {
        "title": "Cannot log in",
        "description": "The login page says my password is wrong.",
        "customer": {"email": "carla@customer.test", "name": "Carla"},
        **fields,
    }
    response = await client.post("/tickets", headers=headers or org.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()
