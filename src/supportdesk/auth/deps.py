"""Request-scoped dependencies: the session (one transaction per request) and who is calling.

Each domain's `auth.py` names its permissions from `allow(...)`, so a route's signature says who
may call it.
"""

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.service import authenticate
from supportdesk.db import transaction
from supportdesk.errors import DomainError


async def _request_session() -> AsyncIterator[AsyncSession]:
    # scope="function": the transaction commits before the response is sent, so a client never
    # hears "created" about a change that then failed to commit.
    async with transaction() as session:
        yield session


Session = Annotated[AsyncSession, Depends(_request_session, scope="function")]

_bearer = HTTPBearer(auto_error=False, description="A staff token from POST /api/v1/auth/token")
_portal_bearer = HTTPBearer(
    auto_error=False, scheme_name="PortalBearer", description="A customer token from the portal"
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
PortalCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_portal_bearer)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str:
    if credentials is None or not credentials.credentials:
        raise DomainError("not_authenticated", "missing or invalid bearer token")
    return credentials.credentials


async def _staff(session: Session, credentials: Credentials) -> Actor:
    return await authenticate(session, _token(credentials), customer=False)


async def _customer(session: Session, credentials: PortalCredentials) -> Actor:
    return await authenticate(session, _token(credentials), customer=True)


async def _staff_logging_out(session: Session, credentials: Credentials) -> Actor:
    return await authenticate(session, _token(credentials), customer=False, to_log_out=True)


async def _customer_logging_out(session: Session, credentials: PortalCredentials) -> Actor:
    return await authenticate(session, _token(credentials), customer=True, to_log_out=True)


Staff = Annotated[Actor, Depends(_staff)]
Customer = Annotated[Actor, Depends(_customer)]
# Their own token's owners, of an inactive organization too: what a logout takes.
StaffLoggingOut = Annotated[Actor, Depends(_staff_logging_out)]
CustomerLoggingOut = Annotated[Actor, Depends(_customer_logging_out)]

ANY_ROLE = (Role.ADMIN, Role.AGENT, Role.ANALYST)
WRITERS = (Role.ADMIN, Role.AGENT)
ADMINS = (Role.ADMIN,)


RoleCheck = Callable[[Actor], Coroutine[Any, Any, Actor]]
# Every dependency `allow` made: what `refusal_before_the_body` runs too.
_role_checks: set[RoleCheck] = set()


def allow(*roles: Role) -> RoleCheck:
    """A dependency that admits staff with one of `roles` and answers 403 to the others."""

    async def check(actor: Staff) -> Actor:
        if actor.role not in roles:
            raise DomainError("forbidden", f"the {actor.role} role may not do this")
        return actor

    _role_checks.add(check)
    return check


async def raw_token(credentials: Credentials) -> str:
    return _token(credentials)


async def raw_portal_token(credentials: PortalCredentials) -> str:
    return _token(credentials)


async def refusal_before_the_body(request: Request) -> DomainError | None:
    """The error a request's token earns it on its route, for a request whose body could not be read as
    JSON: FastAPI reads the body before any dependency, and such a request without a valid token is
    still a 401, as API.md says, and one from a role that may not act a 403, not a 422. None when the
    token would do (or the route needs none)."""
    route = request.scope.get("route")
    calls = set(_calls(route.dependant)) if isinstance(route, APIRoute) else set()
    if not calls & {_staff, _customer}:
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        if scheme.lower() != "bearer" or not token.strip():
            raise DomainError("not_authenticated", "missing or invalid bearer token")
        async with transaction() as session:
            actor = await authenticate(session, token.strip(), customer=_customer in calls)
        for check in calls & _role_checks:
            await check(actor)
    except DomainError as refusal:
        return refusal
    return None


def _calls(dependant: Dependant) -> list[Callable[..., Any]]:
    return [
        call
        for dependency in dependant.dependencies
        for call in (dependency.call, *_calls(dependency))
        if call
    ]
