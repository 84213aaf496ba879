"""Bearer tokens: issued on login or sign-up, stored hashed, revocable, resolved to an Actor."""

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth import throttle
from supportdesk.auth.actor import Actor
from supportdesk.auth.models import ApiToken
from supportdesk.auth.passwords import verify_password
from supportdesk.config import get_settings
from supportdesk.db import set_tenant, system_session
from supportdesk.errors import DomainError
from supportdesk.organizations.models import Organization
from supportdesk.users.models import User

STAFF_PREFIX = "sdk_"
CUSTOMER_PREFIX = "sdc_"


def hash_token(token: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is as safe here as a slow one and costs nothing.
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_token(
    session: AsyncSession,
    organization_id: uuid.UUID,
    *,
    user_id: uuid.UUID | None = None,
    customer_id: uuid.UUID | None = None,
) -> str:
    prefix = CUSTOMER_PREFIX if customer_id else STAFF_PREFIX
    token = prefix + secrets.token_urlsafe(32)
    now = datetime.now(UTC)
    await session.execute(
        insert(ApiToken).values(
            id=uuid.uuid4(),
            organization_id=organization_id,
            user_id=user_id,
            customer_id=customer_id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + timedelta(hours=get_settings().token_ttl_hours),
        )
    )
    return token


async def login(email: str, password: str, address: str | None) -> str:
    """A new staff token for a right email and password, from the client `address`. Its own
    transactions, none held while the password hash is checked (tens of milliseconds of CPU). The attempt
    is counted as a failure before the check (`throttle`), cleared once it gets its token. A deactivated
    user is answered as a wrong password is, counted as one, and clears nothing: the answer confirms no
    password. An inactive organization's user with the right one is told so (403 `organization_inactive`:
    a wrong password's answer would send them to reset it), counted as a wrong one all the same."""
    key = throttle.keys(email, address)
    async with system_session() as session:  # the email is what tells us the organization
        await throttle.count_attempt(session, key)  # committed before the check: racing guesses see it
        row = (
            await session.execute(
                select(User.id, User.organization_id, User.password_hash, User.status, Organization.is_active)
                .join(Organization, Organization.id == User.organization_id)
                .where(User.email == email.lower())
            )
        ).first()
    right = await verify_password(row.password_hash if row else None, password)
    if right and row is not None and row.is_active is False:  # NULL: active, as the seed allows
        raise DomainError("organization_inactive", "this organization is inactive")
    if right and row is not None:
        token = await _issue_if_active(row.id, row.organization_id, key)
        if token:
            return token
    raise DomainError("invalid_credentials", "email or password is wrong")


async def _issue_if_active(user_id: uuid.UUID, organization_id: uuid.UUID, key: throttle.Keys) -> str | None:
    """A token for the user if they are still active, the throttle's counts cleared; None if not."""
    async with system_session() as session:
        # Read again, and held until the token is written: a deactivation committed since the first read
        # is seen here, and one that comes later waits, then revokes this token with the others.
        status = await session.scalar(
            select(User.status).where(User.id == user_id).with_for_update(read=True)
        )
        if status != "active":
            return None
        await throttle.clear(session, key)  # in system mode, as the counts are kept
        await set_tenant(session, organization_id)
        return await issue_token(session, organization_id, user_id=user_id)


async def revoke(session: AsyncSession, token: str) -> None:
    await session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hash_token(token), ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_all(session: AsyncSession, organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Every token of a user being deactivated: a reactivation does not bring them back."""
    await session.execute(
        update(ApiToken)
        .where(
            ApiToken.organization_id == organization_id,
            ApiToken.user_id == user_id,
            ApiToken.revoked_at.is_(None),
        )
        .values(revoked_at=func.now())
    )


async def authenticate(
    session: AsyncSession, token: str, *, customer: bool, to_log_out: bool = False
) -> Actor:
    """Resolve a bearer token and scope the session to its organization.

    The token is what names the tenant, so this one lookup runs before the tenant is known. An inactive
    organization's token is refused, unless it is `to_log_out`: revoking it changes nothing but the
    token, and refused, it would work again once the organization is active.
    """
    expected_prefix = CUSTOMER_PREFIX if customer else STAFF_PREFIX
    if not token.startswith(expected_prefix):
        raise DomainError("not_authenticated", "missing or invalid bearer token")
    # One round trip: find the owner (see supportdesk_token_owner in migrations 0002) and scope the
    # rest of the transaction to their organization.
    row = (
        await session.execute(
            text(
                "SELECT owner.*, set_config('supportdesk.organization_id', owner.organization_id::text, true)"
                " FROM supportdesk_token_owner(:hash) AS owner"
            ),
            {"hash": hash_token(token)},
        )
    ).first()
    if row is None or (row.user_id is not None and row.status != "active"):
        raise DomainError("not_authenticated", "missing or invalid bearer token")
    if row.organization_active is False and not to_log_out:
        raise DomainError("organization_inactive", "this organization is inactive")
    if customer:
        return Actor(organization_id=row.organization_id, role="customer", customer_id=row.customer_id)
    return Actor(organization_id=row.organization_id, role=row.role, user_id=row.user_id)
