"""Users: unique emails, the plan's agent seats, roles and what a User shows.

Seats: only active users with the role `agent` take one of the plan's agent seats (they are the
ones tickets are assigned to). Admins and analysts never do, so a full team can still add them.
"""

import asyncio
import uuid

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.service import issue_token
from supportdesk.users.schemas import UserPatch
from supportdesk.users.service import update_user
from tests.factories import PASSWORD, add_user, bearer, login, sign_up, unique_email
from tests.waiting import until_a_lock_is_waited_for


def user_body(role: str = "agent", email: str | None = None) -> dict:
    return {"email": email or unique_email(role), "name": "Sam User", "role": role, "password": PASSWORD}


async def fill_agent_seats(client, org) -> list[dict]:
    return [(await add_user(client, org, "agent"))[0] for _ in range(3)]


async def audit_actions(client, org, user_id: str | None = None) -> list[str]:
    params = {"entity_type": "user", "limit": 100} | ({"entity_id": user_id} if user_id else {})
    response = await client.get("/audit-logs", headers=org.headers, params=params)
    return [entry["action"] for entry in response.json()["data"]]


async def test_an_admin_adds_a_user_who_can_log_in(client):
    org = await sign_up(client)
    body = user_body("agent")

    response = await client.post("/users", headers=org.headers, json=body)

    assert response.status_code == 201, response.text
    user = response.json()
    assert {user["email"], user["role"], user["status"]} == {body["email"], "agent", "active"}
    assert user["organization_id"] == org.id
    assert user["current_ticket_count"] == 0 and user["last_assigned_at"] is None
    login = await client.post("/auth/token", json={"email": body["email"], "password": PASSWORD})
    assert login.status_code == 200


async def test_a_taken_email_is_refused_in_the_same_organization(client):
    org = await sign_up(client)
    body = user_body()
    await client.post("/users", headers=org.headers, json=body)

    response = await client.post("/users", headers=org.headers, json=user_body("analyst", body["email"]))

    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_a_taken_email_is_refused_across_organizations(client):
    first, second = await sign_up(client), await sign_up(client)
    body = user_body()
    await client.post("/users", headers=first.headers, json=body)

    response = await client.post("/users", headers=second.headers, json=user_body("agent", body["email"]))

    assert response.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_emails_are_unique_whatever_their_case(client):
    org = await sign_up(client)
    email = unique_email("agent")
    await client.post("/users", headers=org.headers, json=user_body("agent", email))

    response = await client.post("/users", headers=org.headers, json=user_body("analyst", email.upper()))
    admin_clash = await client.post("/users", headers=org.headers, json=user_body("analyst", org.admin_email))

    assert response.status_code == 409 and admin_clash.status_code == 409
    assert response.json()["code"] == "email_taken"


async def test_the_fourth_active_agent_on_free_is_refused_and_nothing_is_written(client):
    org = await sign_up(client)
    await fill_agent_seats(client, org)
    body = user_body("agent")

    response = await client.post("/users", headers=org.headers, json=body)

    assert response.status_code == 403
    assert response.json()["code"] == "agent_limit_reached"
    users = (await client.get("/users", headers=org.headers)).json()["data"]
    assert body["email"] not in {user["email"] for user in users}
    assert len(users) == 4
    assert (await audit_actions(client, org)).count("user.created") == 4
    login = await client.post("/auth/token", json={"email": body["email"], "password": PASSWORD})
    assert login.status_code == 401


async def test_analysts_and_admins_do_not_take_agent_seats(client):
    org = await sign_up(client)
    await fill_agent_seats(client, org)

    analyst = await client.post("/users", headers=org.headers, json=user_body("analyst"))
    admin = await client.post("/users", headers=org.headers, json=user_body("admin"))

    assert analyst.status_code == 201 and admin.status_code == 201
    usage = (await client.get("/organization", headers=org.headers)).json()["usage"]
    assert usage["active_agents"] == 3


async def test_a_deactivated_agent_frees_a_seat(client):
    org = await sign_up(client)
    agents = await fill_agent_seats(client, org)

    deactivated = await client.patch(
        f"/users/{agents[0]['id']}", headers=org.headers, json={"status": "inactive"}
    )
    added = await client.post("/users", headers=org.headers, json=user_body("agent"))

    assert deactivated.json()["status"] == "inactive"
    assert added.status_code == 201


async def test_reactivating_an_agent_over_the_limit_is_refused(client):
    org = await sign_up(client)
    agents = await fill_agent_seats(client, org)
    await client.patch(f"/users/{agents[0]['id']}", headers=org.headers, json={"status": "inactive"})
    await client.post("/users", headers=org.headers, json=user_body("agent"))

    response = await client.patch(f"/users/{agents[0]['id']}", headers=org.headers, json={"status": "active"})

    assert response.status_code == 403
    assert response.json()["code"] == "agent_limit_reached"
    user = (await client.get(f"/users/{agents[0]['id']}", headers=org.headers)).json()
    assert user["status"] == "inactive"


async def test_promoting_an_analyst_to_agent_over_the_limit_is_refused(client):
    org = await sign_up(client)
    await fill_agent_seats(client, org)
    analyst, _ = await add_user(client, org, "analyst")

    response = await client.patch(f"/users/{analyst['id']}", headers=org.headers, json={"role": "agent"})

    assert response.status_code == 403
    assert response.json()["code"] == "agent_limit_reached"
    assert (await client.get(f"/users/{analyst['id']}", headers=org.headers)).json()["role"] == "analyst"


async def test_an_upgrade_makes_room_for_more_agents(client):
    org = await sign_up(client)
    await fill_agent_seats(client, org)
    await client.patch("/organization", headers=org.headers, json={"plan": "starter"})

    response = await client.post("/users", headers=org.headers, json=user_body("agent"))

    assert response.status_code == 201


async def test_a_deactivated_user_can_no_longer_log_in_nor_use_their_token(client):
    org = await sign_up(client)
    agent, agent_headers = await add_user(client, org, "agent")

    await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"status": "inactive"})

    assert (await client.get("/me", headers=agent_headers)).status_code == 401
    login = await client.post("/auth/token", json={"email": agent["email"], "password": PASSWORD})
    assert login.status_code == 401
    # told as a wrong password is: the answer does not confirm the password of a former colleague
    wrong = await client.post("/auth/token", json={"email": agent["email"], "password": "not-" + PASSWORD})
    assert wrong.json() == login.json()


async def test_a_reactivated_user_logs_in_again_their_old_tokens_stay_revoked(client):
    org = await sign_up(client)
    agent, agent_headers = await add_user(client, org, "agent")
    await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"status": "inactive"})

    await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"status": "active"})

    assert (await client.get("/me", headers=agent_headers)).status_code == 401
    login = await client.post("/auth/token", json={"email": agent["email"], "password": PASSWORD})
    assert login.status_code == 200
    assert (await client.get("/me", headers=bearer(login.json()["access_token"]))).status_code == 200


async def test_a_login_racing_the_deactivation_that_commits_first_gets_no_token(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org, "agent")
    async with db.tenant_session(uuid.UUID(org.id)) as deactivation:
        # The deactivation has written the user's row when the login, its password checked, comes to it.
        await deactivation.execute(
            text("UPDATE users SET status = 'inactive' WHERE id = :id"), {"id": agent["id"]}
        )
        logging_in = asyncio.create_task(login(client, agent["email"]))
        await until_a_lock_is_waited_for(logging_in)
    refused = await logging_in
    assert refused.status_code == 401 and refused.json()["code"] == "invalid_credentials"


async def test_a_deactivation_racing_a_login_revokes_the_token_that_login_writes(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org, "agent")
    async with db.tenant_session(uuid.UUID(org.id)) as logging_in:
        # A login holds the user's row while it writes its token, when the deactivation comes.
        await logging_in.execute(text("SELECT id FROM users WHERE id = :id FOR SHARE"), {"id": agent["id"]})
        token = await issue_token(logging_in, uuid.UUID(org.id), user_id=uuid.UUID(agent["id"]))
        deactivating = asyncio.create_task(
            client.patch(f"/users/{agent['id']}", headers=org.headers, json={"status": "inactive"})
        )
        await until_a_lock_is_waited_for(deactivating)
    assert (await deactivating).status_code == 200
    await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"status": "active"})
    assert (await client.get("/me", headers=bearer(token))).status_code == 401


async def promote(client, headers: dict, analyst_id: str):
    return await client.patch(f"/users/{analyst_id}", headers=headers, json={"role": "admin"})


async def add_an_admin(client, headers: dict, analyst_id: str):
    return await client.post("/users", headers=headers, json=user_body("admin"))


async def add_a_webhook(client, headers: dict, analyst_id: str):  # its secret is shown to its creator
    hook = {"url": "https://hooks.example.com/theirs", "events": ["ticket.created"]}
    return await client.post("/webhooks", headers=headers, json=hook)


async def change_the_plan(client, headers: dict, analyst_id: str):
    return await client.patch("/organization", headers=headers, json={"plan": "enterprise"})


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [({"status": "inactive"}, 401, "not_authenticated"), ({"role": "analyst"}, 403, "forbidden")],
    ids=["deactivated", "demoted"],
)
@pytest.mark.parametrize("team_change", [promote, add_an_admin, add_a_webhook, change_the_plan])
async def test_an_admin_deactivated_or_demoted_while_their_change_waits_has_it_refused(
    client, change, status, code, team_change
):
    org = await sign_up(client)
    admin, admin_headers = await add_user(client, org, "admin")
    analyst, _ = await add_user(client, org, "analyst")
    first_admin = Actor(organization_id=uuid.UUID(org.id), role=Role.ADMIN, user_id=uuid.UUID(org.admin_id))
    async with db.tenant_session(uuid.UUID(org.id)) as changing_them:
        # The other admin's change holds the team's lock when theirs, its token read as an admin's, comes.
        await update_user(changing_them, first_admin, uuid.UUID(admin["id"]), UserPatch(**change))
        theirs = asyncio.create_task(team_change(client, admin_headers, analyst["id"]))
        await until_a_lock_is_waited_for(theirs)
    refused = await theirs

    assert refused.status_code == status and refused.json()["code"] == code
    admins = await client.get("/users", headers=org.headers, params={"role": "admin", "status": "active"})
    assert [user["id"] for user in admins.json()["data"]] == [org.admin_id]
    audit = await client.get("/audit-logs", headers=org.headers, params={"limit": 100})
    assert admin["id"] not in {entry["actor_id"] for entry in audit.json()["data"]}
    assert (await client.get("/webhooks", headers=org.headers)).json()["data"] == []
    assert (await client.get("/organization", headers=org.headers)).json()["plan"] == "free"


async def test_the_last_active_admin_cannot_be_demoted_or_deactivated(client):
    org = await sign_up(client)

    demoted = await client.patch(f"/users/{org.admin_id}", headers=org.headers, json={"role": "analyst"})
    deactivated = await client.patch(
        f"/users/{org.admin_id}", headers=org.headers, json={"status": "inactive"}
    )

    assert demoted.status_code == 409 and deactivated.status_code == 409
    assert demoted.json()["code"] == "conflict"
    me = (await client.get("/me", headers=org.headers)).json()
    assert (me["role"], me["status"]) == ("admin", "active")


async def test_an_admin_may_step_down_when_another_admin_remains(client):
    org = await sign_up(client)
    await add_user(client, org, "admin")

    response = await client.patch(f"/users/{org.admin_id}", headers=org.headers, json={"role": "analyst"})

    assert response.status_code == 200
    assert response.json()["role"] == "analyst"


async def test_a_user_never_shows_a_password_or_its_hash(client):
    org = await sign_up(client)
    created = (await client.post("/users", headers=org.headers, json=user_body("agent"))).json()
    fetched = (await client.get(f"/users/{created['id']}", headers=org.headers)).json()
    listed = (await client.get("/users", headers=org.headers)).json()["data"]
    me = (await client.get("/me", headers=org.headers)).json()

    for user in (created, fetched, me, *listed):
        assert not any("password" in key or "hash" in key for key in user)
        assert PASSWORD not in str(user) and "$argon2" not in str(user)


async def test_users_list_and_filter_by_role_and_status(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org, "agent")
    analyst, _ = await add_user(client, org, "analyst")
    await client.patch(f"/users/{analyst['id']}", headers=org.headers, json={"status": "inactive"})

    everyone = (await client.get("/users", headers=org.headers)).json()
    agents = (await client.get("/users", headers=org.headers, params={"role": "agent"})).json()
    inactive = (await client.get("/users", headers=org.headers, params={"status": "inactive"})).json()

    assert {user["id"] for user in everyone["data"]} == {org.admin_id, agent["id"], analyst["id"]}
    assert everyone["next_cursor"] is None
    assert [user["id"] for user in agents["data"]] == [agent["id"]]
    assert [user["id"] for user in inactive["data"]] == [analyst["id"]]


async def test_users_page_through_a_cursor(client):
    org = await sign_up(client)
    for role in ("agent", "analyst", "admin"):
        await add_user(client, org, role)

    first = (await client.get("/users", headers=org.headers, params={"limit": 3})).json()
    second = (
        await client.get("/users", headers=org.headers, params={"limit": 3, "cursor": first["next_cursor"]})
    ).json()

    assert len(first["data"]) == 3 and first["next_cursor"]
    assert len(second["data"]) == 1 and second["next_cursor"] is None
    assert not {user["id"] for user in first["data"]} & {user["id"] for user in second["data"]}


async def test_another_organizations_user_is_not_found(client):
    mine, theirs = await sign_up(client), await sign_up(client)

    fetched = await client.get(f"/users/{theirs.admin_id}", headers=mine.headers)
    patched = await client.patch(f"/users/{theirs.admin_id}", headers=mine.headers, json={"name": "Mallory"})
    unknown = await client.get(f"/users/{uuid.uuid4()}", headers=mine.headers)

    assert fetched.status_code == patched.status_code == unknown.status_code == 404
    assert fetched.json()["code"] == "not_found"


async def test_only_admins_manage_users_but_everyone_reads_them(client):
    org = await sign_up(client)
    agent, agent_headers = await add_user(client, org, "agent")
    _, analyst_headers = await add_user(client, org, "analyst")

    for headers in (agent_headers, analyst_headers):
        created = await client.post("/users", headers=headers, json=user_body("admin"))
        patched = await client.patch(f"/users/{agent['id']}", headers=headers, json={"role": "admin"})
        assert created.status_code == patched.status_code == 403
        assert (await client.get("/users", headers=headers)).status_code == 200


async def test_bad_user_input_is_a_validation_error(client):
    org = await sign_up(client)

    for body in (
        user_body("owner"),
        user_body("agent", "not-an-email"),
        {**user_body(), "password": "short"},
        {**user_body(), "name": ""},
    ):
        response = await client.post("/users", headers=org.headers, json=body)
        assert response.status_code == 422, body
        assert response.json()["code"] == "validation_error"
    bad_status = await client.patch(f"/users/{org.admin_id}", headers=org.headers, json={"status": "gone"})
    assert bad_status.status_code == 422


async def test_concurrent_adds_never_exceed_the_agent_limit(client):
    org = await sign_up(client)
    await add_user(client, org, "agent")
    await add_user(client, org, "agent")

    responses = await asyncio.gather(
        *(client.post("/users", headers=org.headers, json=user_body("agent")) for _ in range(3))
    )

    assert sorted(response.status_code for response in responses) == [201, 403, 403]
    usage = (await client.get("/organization", headers=org.headers)).json()["usage"]
    assert usage["active_agents"] == 3


async def test_concurrent_adds_of_one_email_create_one_user(client):
    org = await sign_up(client)
    email = unique_email("analyst")

    responses = await asyncio.gather(
        *(client.post("/users", headers=org.headers, json=user_body("analyst", email)) for _ in range(2))
    )

    assert sorted(response.status_code for response in responses) == [201, 409]


async def test_two_admins_demoting_each_other_at_once_leave_one_admin(client):
    org = await sign_up(client)
    other, other_headers = await add_user(client, org, "admin")

    responses = await asyncio.gather(
        client.patch(f"/users/{other['id']}", headers=org.headers, json={"role": "agent"}),
        client.patch(f"/users/{org.admin_id}", headers=other_headers, json={"role": "agent"}),
    )

    # The loser is refused either by the rule (409) or, if it authenticated after the winner
    # committed, because it is no longer an admin (403).
    statuses = sorted(response.status_code for response in responses)
    assert statuses in ([200, 403], [200, 409])
    admins = await client.get("/users", headers=other_headers, params={"role": "admin", "status": "active"})
    assert len(admins.json()["data"]) == 1
