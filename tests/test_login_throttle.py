"""Password guessing is throttled per email and address, and per email (supportdesk.auth.throttle)."""

import asyncio
import hashlib

import pytest
from sqlalchemy import text

from supportdesk.auth import throttle
from supportdesk.auth.throttle import MAX_FAILURES, forget_expired, keys
from supportdesk.db import system_session
from tests.factories import CLIENT_ADDRESS as HERE
from tests.factories import Org, add_user, api_client, login, sign_up, unique_email


async def guess(client, email: str, times: int) -> list[int]:
    return [(await login(client, email, f"guess {n}")).status_code for n in range(times)]


async def failures(email: str, address: str | None = None) -> int | None:
    """The email's failure count from `address`, or from anywhere."""
    key = keys(email, address)
    async with system_session() as session:
        return await session.scalar(
            text("SELECT failures FROM login_failures WHERE email_hash = :key"),
            {"key": key.here if address else key.anywhere},
        )


async def age_failures(email: str, minutes: int) -> None:
    async with system_session() as session:
        await session.execute(
            text(
                "UPDATE login_failures SET last_failed_at = now() - make_interval(mins => :minutes)"
                " WHERE email_hash IN (:here, :anywhere)"
            ),
            {"here": keys(email, HERE).here, "anywhere": keys(email, HERE).anywhere, "minutes": minutes},
        )


async def test_after_the_limit_even_the_right_password_waits(client):
    org = await sign_up(client)

    statuses = await guess(client, org.admin_email, MAX_FAILURES)
    refused = await login(client, org.admin_email)

    assert statuses == [401] * MAX_FAILURES
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "too_many_login_attempts"
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert refused.json()["retry_after"] == int(refused.headers["Retry-After"])
    assert await failures(org.admin_email) == MAX_FAILURES  # a refusal is not counted


async def test_the_lock_lifts_once_the_window_has_passed_and_a_right_password_clears_the_count(client):
    org = await sign_up(client)
    await guess(client, org.admin_email, MAX_FAILURES)

    await age_failures(org.admin_email, 16)
    response = await login(client, org.admin_email)

    assert response.status_code == 200
    assert await failures(org.admin_email) is None


async def test_failures_spread_wider_than_the_window_never_lock(client):
    org = await sign_up(client)
    await guess(client, org.admin_email, MAX_FAILURES - 1)
    await age_failures(org.admin_email, 16)

    statuses = await guess(client, org.admin_email, MAX_FAILURES - 1)

    assert statuses == [401] * (MAX_FAILURES - 1)
    assert await failures(org.admin_email) == MAX_FAILURES - 1  # counting restarted after the gap
    assert (await login(client, org.admin_email)).status_code == 200


async def test_a_right_password_before_the_limit_starts_the_count_again(client):
    org = await sign_up(client)
    await guess(client, org.admin_email, MAX_FAILURES - 1)

    assert (await login(client, org.admin_email)).status_code == 200
    assert await guess(client, org.admin_email, MAX_FAILURES - 1) == [401] * (MAX_FAILURES - 1)
    assert (await login(client, org.admin_email)).status_code == 200


async def deactivate_a_user(client, org: Org) -> str:
    agent, _ = await add_user(client, org, "agent")
    await client.patch(f"/users/{agent['id']}", headers=org.headers, json={"status": "inactive"})
    return agent["email"]


async def deactivate_the_organization(client, org: Org) -> str:
    async with system_session() as session:  # an operator's switch; there is no endpoint for it
        await session.execute(
            text("UPDATE organizations SET is_active = false WHERE id = :id"), {"id": org.id}
        )
    return org.admin_email


@pytest.mark.parametrize(
    ("shut_out", "status", "code"),
    [
        (deactivate_a_user, 401, "invalid_credentials"),
        (deactivate_the_organization, 403, "organization_inactive"),
    ],
)
async def test_a_right_password_that_gets_no_token_counts_as_a_wrong_one_and_clears_nothing(
    client, shut_out, status, code
):
    email = await shut_out(client, await sign_up(client))
    await guess(client, email, MAX_FAILURES - 1)

    right = await login(client, email)
    after = await login(client, email, "another guess")

    assert right.status_code == status and right.json()["code"] == code
    assert after.status_code == 429  # had the right password cleared the count, a 401: it would confirm it
    assert await failures(email) == MAX_FAILURES


async def test_an_unknown_email_is_throttled_the_same_way(client):
    email = unique_email("nobody")

    statuses = await guess(client, email, MAX_FAILURES + 1)

    assert statuses == [401] * MAX_FAILURES + [429]


async def test_the_lock_is_per_email(client):
    org = await sign_up(client)
    await guess(client, unique_email("neighbour"), MAX_FAILURES)

    assert (await login(client, org.admin_email)).status_code == 200


async def test_parallel_guesses_past_the_limit_are_refused_without_a_check(client):
    org = await sign_up(client)

    responses = await asyncio.gather(
        *(login(client, org.admin_email, f"guess {n}") for n in range(3 * MAX_FAILURES))
    )
    statuses = [response.status_code for response in responses]

    # Each counted before its check, so the 21st is refused however many are in flight.
    assert sorted(statuses) == [401] * MAX_FAILURES + [429] * (2 * MAX_FAILURES)
    assert await failures(org.admin_email, HERE) == MAX_FAILURES
    assert (await login(client, org.admin_email)).status_code == 429
    # Toward the email's count from anywhere, one address counts its first MAX_FAILURES only.
    assert await failures(org.admin_email) == MAX_FAILURES


async def test_a_burst_from_one_address_never_locks_the_owner_out(app, client, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_EMAIL", 2 * MAX_FAILURES)
    org = await sign_up(client)

    await asyncio.gather(*(login(client, org.admin_email, f"guess {n}") for n in range(6 * MAX_FAILURES)))

    async with api_client(app, "203.0.113.7") as owner:
        assert (await login(owner, org.admin_email)).status_code == 200


async def test_only_the_emails_hash_is_stored_and_expired_counts_are_forgotten(client):
    stale, fresh = unique_email("stale"), unique_email("fresh")
    await guess(client, stale, 1)
    await guess(client, fresh, 1)
    await age_failures(stale, 16)

    async with system_session() as session:
        stored = set(await session.scalars(text("SELECT email_hash FROM login_failures")))
        await forget_expired(session)
        left = set(await session.scalars(text("SELECT email_hash FROM login_failures")))

    assert hashlib.sha256(fresh.encode()).hexdigest() in stored
    assert not any("@" in key for key in stored)
    assert keys(stale, HERE).here not in left and keys(stale, HERE).anywhere not in left
    assert keys(fresh, HERE).here in left and keys(fresh, HERE).anywhere in left


async def test_a_guessers_address_is_locked_and_the_owners_is_not(app, client):
    org = await sign_up(client)
    await guess(client, org.admin_email, MAX_FAILURES)

    assert (await login(client, org.admin_email)).status_code == 429
    async with api_client(app, "203.0.113.7") as owner:
        assert (await login(owner, org.admin_email)).status_code == 200


async def test_guesses_from_many_addresses_lock_the_email_everywhere(app, client, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_FAILURES", 4)
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_EMAIL", 6)
    org = await sign_up(client)
    for n in range(3):  # two guesses from each of three addresses: none reaches 4
        async with api_client(app, f"198.51.100.{n}") as guesser:
            assert await guess(guesser, org.admin_email, 2) == [401, 401]

    async with api_client(app, "203.0.113.7") as owner:
        assert (await login(owner, org.admin_email)).status_code == 429


async def test_parallel_guesses_from_many_addresses_stop_at_the_emails_limit(app, client, monkeypatch):
    monkeypatch.setattr(throttle, "MAX_FAILURES", 4)
    monkeypatch.setattr(throttle, "MAX_FAILURES_PER_EMAIL", 6)
    org = await sign_up(client)
    async with (
        api_client(app, "198.51.100.1") as one,
        api_client(app, "198.51.100.2") as two,
        api_client(app, "198.51.100.3") as three,
    ):
        responses = await asyncio.gather(
            *(login(guesser, org.admin_email, "a guess") for guesser in [one, two, three] * 4)
        )
    statuses = [response.status_code for response in responses]

    # Four from each of three addresses, all at once: the email's count stops at its limit, exactly.
    assert sorted(statuses) == [401] * 6 + [429] * 6
    assert await failures(org.admin_email) == 6
