"""Login, logout and what the database keeps of secrets (hashes only)."""

import hashlib

from sqlalchemy import text

from supportdesk.db import system_session
from tests.factories import PASSWORD, add_user, bearer, login, sign_up, unique_email


async def test_a_login_issues_a_bearer_token_that_works(client):
    org = await sign_up(client)

    response = await login(client, org.admin_email)

    assert response.status_code == 200
    assert response.json()["token_type"] == "bearer"
    me = await client.get("/me", headers=bearer(response.json()["access_token"]))
    assert me.status_code == 200 and me.json()["id"] == org.admin_id


async def test_the_email_of_a_login_is_case_insensitive(client):
    org = await sign_up(client)

    response = await login(client, f"  {org.admin_email.upper()} ")

    assert response.status_code == 200


async def test_a_wrong_password_is_invalid_credentials(client):
    org = await sign_up(client)

    response = await login(client, org.admin_email, "not the password")

    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "invalid_credentials"


async def test_an_unknown_email_is_the_same_invalid_credentials(client):
    response = await login(client, unique_email("nobody"))

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


async def test_logout_revokes_the_token_at_once(client):
    org = await sign_up(client)
    headers = bearer((await login(client, org.admin_email)).json()["access_token"])

    logout = await client.post("/auth/logout", headers=headers)
    after = await client.get("/me", headers=headers)

    assert logout.status_code == 204
    assert after.status_code == 401
    assert after.json()["code"] == "not_authenticated"
    assert (await client.post("/auth/logout", headers=headers)).status_code == 401


async def test_logout_revokes_only_the_token_it_was_called_with(client):
    org = await sign_up(client)
    other = bearer((await login(client, org.admin_email)).json()["access_token"])

    await client.post("/auth/logout", headers=org.headers)

    assert (await client.get("/me", headers=other)).status_code == 200


async def set_active(org, is_active: bool) -> None:
    async with system_session() as session:  # an operator's switch; there is no endpoint for it
        await session.execute(
            text("UPDATE organizations SET is_active = :active WHERE id = :id"),
            {"active": is_active, "id": org.id},
        )


async def test_logout_while_the_organization_is_inactive_still_revokes_the_token(client):
    org = await sign_up(client)
    headers = bearer((await login(client, org.admin_email)).json()["access_token"])
    await set_active(org, False)

    logout = await client.post("/auth/logout", headers=headers)
    other_call = await client.get("/me", headers=org.headers)
    await set_active(org, True)

    assert logout.status_code == 204
    assert other_call.status_code == 403  # only a logout is let through
    assert (await client.get("/me", headers=headers)).status_code == 401  # not back with the organization
    assert (await client.get("/me", headers=org.headers)).status_code == 200


async def test_every_staff_call_needs_a_valid_token(client):
    for headers in ({}, bearer("sdk_not-a-real-token"), bearer("garbage"), {"Authorization": "Basic eDp5"}):
        response = await client.get("/me", headers=headers)
        assert response.status_code == 401, headers
        assert response.json()["code"] == "not_authenticated"
        assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_tokens_are_stored_as_hashes_only(client):
    org = await sign_up(client)
    token = (await login(client, org.admin_email)).json()["access_token"]

    async with system_session() as session:
        rows = (
            (
                await session.execute(
                    text("SELECT * FROM api_tokens WHERE user_id = :id"), {"id": org.admin_id}
                )
            )
            .mappings()
            .all()
        )

    assert len(rows) == 2  # one from sign-up, one from the login
    stored = [str(value) for row in rows for value in row.values()]
    assert not any(token in value or token[4:] in value for value in stored)
    assert hashlib.sha256(token.encode()).hexdigest() in {row["token_hash"] for row in rows}


async def test_passwords_are_stored_as_argon2_hashes(client):
    org = await sign_up(client)
    agent, _ = await add_user(client, org, "agent")

    async with system_session() as session:
        hashes = (
            await session.scalars(
                text("SELECT password_hash FROM users WHERE id IN (:admin, :agent)"),
                {"admin": org.admin_id, "agent": agent["id"]},
            )
        ).all()

    assert len(hashes) == 2
    for password_hash in hashes:
        assert password_hash.startswith("$argon2id$")
        assert PASSWORD not in password_hash
    assert hashes[0] != hashes[1]  # salted


async def test_a_customer_token_is_not_a_staff_token(client):
    org = await sign_up(client)
    portal = await client.post(
        f"/portal/{org.id}/tickets",
        json={"email": unique_email("customer"), "title": "Help", "description": "Please"},
    )

    response = await client.get("/me", headers=bearer(portal.json()["access_token"]))

    assert response.status_code == 401


async def test_an_inactive_organization_can_neither_log_in_nor_use_its_tokens(client):
    org = await sign_up(client)
    async with system_session() as session:
        await session.execute(
            text("UPDATE organizations SET is_active = false WHERE id = :id"), {"id": org.id}
        )

    login_response = await login(client, org.admin_email)
    me = await client.get("/me", headers=org.headers)

    assert login_response.status_code == me.status_code == 403
    assert login_response.json()["code"] == me.json()["code"] == "organization_inactive"


async def test_a_password_is_kept_exactly_as_typed_spaces_included(client):
    org = await sign_up(client)
    email = unique_email("spaces")
    created = await client.post(
        "/users",
        headers=org.headers,
        json={"email": email, "name": "S", "role": "analyst", "password": "   abcde"},
    )
    spaced_signup = unique_email("spaced")
    signed_up = await client.post(
        "/organizations",
        json={"name": "S", "admin_email": spaced_signup, "admin_name": "S", "admin_password": " secret pw "},
    )

    assert created.status_code == signed_up.status_code == 201  # 8 characters with the spaces
    assert (await login(client, email, "   abcde")).status_code == 200
    assert (await login(client, email, "abcde")).status_code == 401
    assert (await login(client, spaced_signup, " secret pw ")).status_code == 200
    assert (await login(client, spaced_signup, "secret pw")).status_code == 401
