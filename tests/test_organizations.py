"""Sign-up, plans and their limits, organization settings and usage."""

from tests.factories import PASSWORD, add_user, bearer, open_ticket, sign_up, unique_email

PLANS_IN_ORDER = ["free", "starter", "pro", "enterprise"]


def signup_body(**fields) -> dict:
    return {
        "name": "Globex",
        "admin_email": unique_email("admin"),
        "admin_name": "Grace Admin",
        "admin_password": PASSWORD,
        **fields,
    }


async def test_sign_up_returns_the_organization_its_admin_and_a_working_token(client):
    body = signup_body()
    response = await client.post("/organizations", json=body)

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == {"organization", "user", "access_token"}
    assert created["organization"]["name"] == "Globex"
    assert created["organization"]["is_active"] is True
    assert created["user"]["role"] == "admin"
    assert created["user"]["email"] == body["admin_email"]
    assert created["user"]["organization_id"] == created["organization"]["id"]
    me = await client.get("/me", headers=bearer(created["access_token"]))
    assert me.status_code == 200
    assert me.json()["id"] == created["user"]["id"]


async def test_sign_up_defaults_to_the_free_plan_with_the_seed_limits(client):
    response = await client.post("/organizations", json=signup_body())

    organization = response.json()["organization"]
    assert organization["plan"] == "free"
    assert (organization["monthly_ticket_limit"], organization["agent_limit"]) == (50, 3)


async def test_each_plan_raises_both_limits_over_the_one_before(client):
    limits = []
    for plan in PLANS_IN_ORDER:
        response = await client.post("/organizations", json=signup_body(plan=plan))
        assert response.status_code == 201, response.text
        organization = response.json()["organization"]
        assert organization["plan"] == plan
        limits.append((organization["monthly_ticket_limit"], organization["agent_limit"]))

    for lower, higher in zip(limits, limits[1:], strict=False):
        assert higher[0] > lower[0] and higher[1] > lower[1]


async def test_sign_up_with_an_unknown_plan_is_a_validation_error(client):
    response = await client.post("/organizations", json=signup_body(plan="platinum"))

    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_error"


async def test_sign_up_with_a_taken_admin_email_is_refused_and_creates_nothing(client):
    org = await sign_up(client)

    response = await client.post("/organizations", json=signup_body(admin_email=org.admin_email.upper()))

    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"
    # The original admin still logs in to the original organization.
    token = await client.post("/auth/token", json={"email": org.admin_email, "password": PASSWORD})
    me = await client.get("/me", headers=bearer(token.json()["access_token"]))
    assert me.json()["organization_id"] == org.id


async def test_a_plan_change_sets_both_limits(client):
    org = await sign_up(client)

    upgraded = await client.patch("/organization", headers=org.headers, json={"plan": "pro"})
    downgraded = await client.patch("/organization", headers=org.headers, json={"plan": "starter"})

    assert upgraded.status_code == 200, upgraded.text
    pro, starter = upgraded.json(), downgraded.json()
    assert pro["plan"] == "pro" and starter["plan"] == "starter"
    assert pro["monthly_ticket_limit"] > starter["monthly_ticket_limit"] > 50
    assert pro["agent_limit"] > starter["agent_limit"] > 3
    current = (await client.get("/organization", headers=org.headers)).json()
    assert (current["monthly_ticket_limit"], current["agent_limit"]) == (
        starter["monthly_ticket_limit"],
        starter["agent_limit"],
    )


async def test_a_downgrade_below_the_active_agents_is_refused(client):
    org = await sign_up(client, plan="starter")
    for _ in range(4):
        await add_user(client, org, "agent")

    response = await client.patch("/organization", headers=org.headers, json={"plan": "free"})

    assert response.status_code == 403
    assert response.json()["code"] == "agent_limit_reached"
    assert (await client.get("/organization", headers=org.headers)).json()["plan"] == "starter"


async def test_settings_round_trip(client):
    org = await sign_up(client)
    settings = {
        "name": "Acme Support",
        "auto_response_threshold": 0.85,
        "max_open_tickets_per_agent": 12,
        "auto_close_after_days": 7,
    }

    patched = await client.patch("/organization", headers=org.headers, json=settings)
    fetched = await client.get("/organization", headers=org.headers)

    assert patched.status_code == 200, patched.text
    for body in (patched.json(), fetched.json()):
        assert {key: body[key] for key in settings} == settings


async def test_optional_settings_can_be_cleared_with_null(client):
    org = await sign_up(client)
    await client.patch("/organization", headers=org.headers, json={"auto_close_after_days": 7})

    response = await client.patch("/organization", headers=org.headers, json={"auto_close_after_days": None})

    assert response.json()["auto_close_after_days"] is None


async def test_out_of_range_settings_are_validation_errors(client):
    org = await sign_up(client)

    for bad in (
        {"auto_response_threshold": 1.5},
        {"auto_response_threshold": "0.5"},
        {"max_open_tickets_per_agent": 0},
        {"auto_close_after_days": -1},
        {"plan": "platinum"},
    ):
        response = await client.patch("/organization", headers=org.headers, json=bad)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "validation_error"


async def test_only_admins_change_the_organization(client):
    org = await sign_up(client)
    _, agent = await add_user(client, org, "agent")
    _, analyst = await add_user(client, org, "analyst")

    for headers in (agent, analyst):
        response = await client.patch("/organization", headers=headers, json={"plan": "enterprise"})
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert (await client.get("/organization", headers=headers)).status_code == 200


async def test_usage_counts_this_months_tickets_and_active_agents(client):
    org = await sign_up(client)
    first, _ = await add_user(client, org, "agent")
    await add_user(client, org, "agent")
    await add_user(client, org, "analyst")
    for _ in range(3):
        await open_ticket(client, org)
    await client.patch(f"/users/{first['id']}", headers=org.headers, json={"status": "inactive"})

    usage = (await client.get("/organization", headers=org.headers)).json()["usage"]

    assert usage == {"tickets_this_month": 3, "active_agents": 1}


async def test_usage_of_a_new_organization_is_zero(client):
    org = await sign_up(client)

    usage = (await client.get("/organization", headers=org.headers)).json()["usage"]

    assert usage == {"tickets_this_month": 0, "active_agents": 0}


async def test_an_organization_sees_only_itself(client):
    mine, theirs = await sign_up(client, name="Mine"), await sign_up(client, name="Theirs")

    response = await client.get("/organization", headers=mine.headers)

    assert response.json()["id"] == mine.id != theirs.id
    assert response.json()["name"] == "Mine"


async def test_the_organization_needs_a_token(client):
    response = await client.get("/organization")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


PENDING_AUTOMATIONS = {"pending_reminder_after_hours": 48, "pending_auto_resolve_after_days": 7}


async def test_the_pending_automations_are_off_until_set(client):
    org = await sign_up(client)

    body = (await client.get("/organization", headers=org.headers)).json()

    assert {key: body[key] for key in PENDING_AUTOMATIONS} == dict.fromkeys(PENDING_AUTOMATIONS)


async def test_the_pending_automations_round_trip_and_clear_with_null(client):
    org = await sign_up(client)

    patched = await client.patch("/organization", headers=org.headers, json=PENDING_AUTOMATIONS)
    fetched = await client.get("/organization", headers=org.headers)
    cleared = await client.patch(
        "/organization", headers=org.headers, json=dict.fromkeys(PENDING_AUTOMATIONS)
    )

    assert patched.status_code == 200, patched.text
    for body in (patched.json(), fetched.json()):
        assert {key: body[key] for key in PENDING_AUTOMATIONS} == PENDING_AUTOMATIONS
    assert {key: cleared.json()[key] for key in PENDING_AUTOMATIONS} == dict.fromkeys(PENDING_AUTOMATIONS)


async def test_out_of_range_pending_automations_are_validation_errors(client):
    org = await sign_up(client)

    for bad in (
        {"pending_reminder_after_hours": 0},
        {"pending_reminder_after_hours": 8761},
        {"pending_reminder_after_hours": "24"},
        {"pending_reminder_after_hours": 1.5},
        {"pending_auto_resolve_after_days": 0},
        {"pending_auto_resolve_after_days": 3651},
        {"pending_auto_resolve_after_days": True},
    ):
        response = await client.patch("/organization", headers=org.headers, json=bad)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "validation_error"
    body = (await client.get("/organization", headers=org.headers)).json()
    assert {key: body[key] for key in PENDING_AUTOMATIONS} == dict.fromkeys(PENDING_AUTOMATIONS)


async def test_a_reminder_that_would_come_after_the_auto_resolve_is_refused(client):
    org = await sign_up(client)
    await client.patch("/organization", headers=org.headers, json={"pending_auto_resolve_after_days": 2})

    for bad in ({"pending_reminder_after_hours": 48}, {"pending_reminder_after_hours": 200}):
        response = await client.patch("/organization", headers=org.headers, json=bad)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "validation_error" and "before" in response.json()["detail"]
    both = {"pending_reminder_after_hours": 200, "pending_auto_resolve_after_days": 10}
    assert (await client.patch("/organization", headers=org.headers, json=both)).status_code == 200
    shorter = await client.patch(
        "/organization", headers=org.headers, json={"pending_auto_resolve_after_days": 8}
    )
    assert shorter.status_code == 422
    assert (await client.get("/organization", headers=org.headers)).json()[
        "pending_auto_resolve_after_days"
    ] == 10


async def test_pending_automation_changes_are_audited(client):
    org = await sign_up(client)
    await client.patch("/organization", headers=org.headers, json={"pending_reminder_after_hours": 24})

    response = await client.get(
        "/audit-logs", headers=org.headers, params={"entity_type": "organization", "entity_id": org.id}
    )

    updated = [entry for entry in response.json()["data"] if entry["action"] == "organization.updated"]
    assert len(updated) == 1
    assert updated[0]["before"] == {"pending_reminder_after_hours": None}
    assert updated[0]["after"] == {"pending_reminder_after_hours": 24}
    assert updated[0]["actor_id"] == org.admin_id
