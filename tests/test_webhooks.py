"""Webhooks: registration (secret shown once), where they may point, deletion, deliveries."""

import asyncio
import uuid

from supportdesk.webhooks.limit import WEBHOOKS_PER_ORGANIZATION
from tests.factories import add_user, sign_up
from tests.test_bad_input import assert_problem

# An address literal, so that no test depends on DNS.
PUBLIC_URL = "https://93.184.216.34/hooks/supportdesk"


async def add_webhook(client, org, url: str = PUBLIC_URL, events=("ticket.created",)) -> dict:
    response = await client.post("/webhooks", headers=org.headers, json={"url": url, "events": list(events)})
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_webhook_is_created_with_its_secret(client):
    org = await sign_up(client)

    webhook = await add_webhook(client, org, events=["ticket.created", "sla.breached", "ticket.created"])

    assert set(webhook) >= {"id", "url", "events", "secret", "created_at"}
    assert webhook["url"] == PUBLIC_URL
    assert sorted(webhook["events"]) == ["sla.breached", "ticket.created"]
    assert len(webhook["secret"]) >= 32


async def test_each_webhook_gets_its_own_secret(client):
    org = await sign_up(client)

    first, second = await add_webhook(client, org), await add_webhook(client, org)

    assert first["secret"] != second["secret"]


async def test_the_list_never_shows_the_secret(client):
    org = await sign_up(client)
    webhook = await add_webhook(client, org)

    response = await client.get("/webhooks", headers=org.headers)

    assert response.status_code == 200
    listed = response.json()
    assert [hook["id"] for hook in listed["data"]] == [webhook["id"]]
    assert listed["next_cursor"] is None
    assert "secret" not in listed["data"][0]
    assert webhook["secret"] not in response.text


async def test_a_deleted_webhook_is_gone(client):
    org = await sign_up(client)
    webhook = await add_webhook(client, org)

    response = await client.delete(f"/webhooks/{webhook['id']}", headers=org.headers)

    assert response.status_code == 204
    assert (await client.get("/webhooks", headers=org.headers)).json()["data"] == []
    assert (await client.delete(f"/webhooks/{webhook['id']}", headers=org.headers)).status_code == 404
    deliveries = await client.get(f"/webhooks/{webhook['id']}/deliveries", headers=org.headers)
    assert deliveries.status_code == 404


async def test_a_new_webhook_has_an_empty_page_of_deliveries(client):
    org = await sign_up(client)
    webhook = await add_webhook(client, org)

    response = await client.get(
        f"/webhooks/{webhook['id']}/deliveries", headers=org.headers, params={"limit": 10}
    )

    assert response.status_code == 200
    assert response.json() == {"data": [], "next_cursor": None}


async def test_webhooks_are_capped_per_organization_even_when_created_at_once(client):
    org, other = await sign_up(client), await sign_up(client)
    for _ in range(WEBHOOKS_PER_ORGANIZATION - 3):
        await add_webhook(client, org)

    body = {"url": PUBLIC_URL, "events": ["ticket.created"]}
    responses = await asyncio.gather(
        *(client.post("/webhooks", headers=org.headers, json=body) for _ in range(6))
    )

    assert sorted(response.status_code for response in responses) == [201] * 3 + [403] * 3
    assert_problem(max(responses, key=lambda response: response.status_code), 403, "webhook_limit_reached")
    listed = await client.get("/webhooks", headers=org.headers, params={"limit": 100})
    assert len(listed.json()["data"]) == WEBHOOKS_PER_ORGANIZATION
    await add_webhook(client, other)  # the cap is each organization's own
    deleted = await client.delete(f"/webhooks/{listed.json()['data'][0]['id']}", headers=org.headers)
    assert deleted.status_code == 204
    await add_webhook(client, org)  # a deletion makes room


async def test_private_and_loopback_urls_are_refused(client):
    org = await sign_up(client)

    for url in (
        "http://127.0.0.1/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://[::1]/hook",
        "http://[fec0::1]/hook",
        "http://[::127.0.0.1]/hook",  # IPv4-compatible
        "http://[::ffff:0:127.0.0.1]/hook",  # IPv4-translated
        "http://[64:ff9b:1::a00:1]/hook",  # 10.0.0.1 through local-use NAT64
    ):
        response = await client.post(
            "/webhooks", headers=org.headers, json={"url": url, "events": ["ticket.created"]}
        )
        assert response.status_code == 422, url
        assert response.json()["code"] == "webhook_url_not_allowed"


async def test_link_local_urls_are_refused(client):
    org = await sign_up(client)

    for url in (
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
        "http://[::ffff:169.254.169.254]/hook",
        "http://[64:ff9b::a9fe:a9fe]/hook",  # 169.254.169.254 through NAT64
        "http://[::169.254.169.254]/hook",
    ):
        response = await client.post(
            "/webhooks", headers=org.headers, json={"url": url, "events": ["ticket.created"]}
        )
        assert response.status_code == 422, url
        assert response.json()["code"] == "webhook_url_not_allowed"
    assert (await client.get("/webhooks", headers=org.headers)).json()["data"] == []


async def test_bad_webhook_input_is_a_validation_error(client):
    org = await sign_up(client)

    for body in (
        {"url": "ftp://93.184.216.34/hook", "events": ["ticket.created"]},
        {"url": "not a url", "events": ["ticket.created"]},
        {"url": PUBLIC_URL, "events": []},
        {"url": PUBLIC_URL, "events": ["ticket.deleted"]},
        {"url": PUBLIC_URL},
    ):
        response = await client.post("/webhooks", headers=org.headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"


async def test_only_admins_manage_webhooks(client):
    org = await sign_up(client)
    webhook = await add_webhook(client, org)
    _, agent = await add_user(client, org, "agent")
    _, analyst = await add_user(client, org, "analyst")

    for headers in (agent, analyst):
        body = {"url": PUBLIC_URL, "events": ["ticket.created"]}
        assert (await client.post("/webhooks", headers=headers, json=body)).status_code == 403
        assert (await client.get("/webhooks", headers=headers)).status_code == 403
        assert (await client.delete(f"/webhooks/{webhook['id']}", headers=headers)).status_code == 403
        assert (await client.get(f"/webhooks/{webhook['id']}/deliveries", headers=headers)).status_code == 403


async def test_another_organizations_webhook_is_not_found(client):
    mine, theirs = await sign_up(client), await sign_up(client)
    webhook = await add_webhook(client, theirs)

    assert (await client.get("/webhooks", headers=mine.headers)).json()["data"] == []
    assert (await client.delete(f"/webhooks/{webhook['id']}", headers=mine.headers)).status_code == 404
    assert (
        await client.get(f"/webhooks/{webhook['id']}/deliveries", headers=mine.headers)
    ).status_code == 404
    assert (await client.get(f"/webhooks/{uuid.uuid4()}/deliveries", headers=mine.headers)).status_code == 404
    assert len((await client.get("/webhooks", headers=theirs.headers)).json()["data"]) == 1
