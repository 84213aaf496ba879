"""Errors as values with stable codes, and the one place that turns them into problem+json."""

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

# PostgreSQL's "try again" errors: a deadlock or serialization failure lost to a concurrent change.
RETRYABLE_SQLSTATES = {"40001", "40P01", "55P03"}
# The database cannot take the request now: a statement cancelled (statement_timeout), too many
# connections, insufficient resources, the server starting or shutting down, or a broken connection.
UNAVAILABLE_SQLSTATE_PREFIXES = ("57014", "53", "57P", "08")
# How long a client told the service is unavailable is asked to wait before it retries.
RETRY_AFTER_SECONDS = 5

# Each code answers with one HTTP status, whatever raised it.
STATUS_BY_CODE: dict[str, int] = {
    "validation_error": 422,
    "invalid_cursor": 422,
    "webhook_url_not_allowed": 422,
    "body_too_large": 413,
    "not_authenticated": 401,
    "invalid_credentials": 401,
    "forbidden": 403,
    "organization_inactive": 403,
    "monthly_ticket_limit_reached": 403,
    "agent_limit_reached": 403,
    "webhook_limit_reached": 403,
    "not_found": 404,
    "email_taken": 409,
    "invalid_transition": 409,
    "ticket_closed": 409,
    "customer_has_open_tickets": 409,
    "conflict": 409,
    "method_not_allowed": 405,
    "too_many_login_attempts": 429,
    "service_unavailable": 503,
}


class DomainError(Exception):
    def __init__(self, code: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail
        self.extra = extra

    @property
    def status(self) -> int:
        return STATUS_BY_CODE[self.code]


class NotFound(DomainError):
    def __init__(self, what: str) -> None:
        super().__init__("not_found", f"{what} not found")


def problem(
    status: int, code: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body = {
        "type": f"https://supportdesk.dev/problems/{code}",
        "title": code.replace("_", " ").capitalize(),
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }
    if status == 401:
        headers = {"WWW-Authenticate": "Bearer", **(headers or {})}
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


# What every error answer looks like, in the OpenAPI document.
PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details; `code` is stable and machine-readable.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string"},
    },
}


def describe_problems(document: dict[str, Any]) -> dict[str, Any]:
    """Make an OpenAPI document say what the server answers on error: its 422s, and any other error of
    any operation (`default`), are problem+json (`Problem`), not FastAPI's validation-error shape."""
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for path in document["paths"].values():
        for operation in path.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "Bad input (`validation_error`)", "content": content}
            responses["default"] = {"description": "An error, with its stable `code`", "content": content}
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Problem"] = PROBLEM_SCHEMA
    return document


def _validation_detail(exc: RequestValidationError) -> tuple[str, list[dict[str, Any]]]:
    errors = [
        # our validators' own words, without pydantic's "Value error, " before them
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")).removeprefix("Value error, "),
        }
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    return f"{'.'.join(first['loc'])}: {first['msg']}", errors


def _allowed_methods(request: Request) -> str | None:
    """The methods the OpenAPI document gives the request's path (Starlette's 405 names one route's)."""
    methods: set[str] = set()
    for template, operations in request.app.openapi()["paths"].items():
        if re.fullmatch(re.sub(r"\{[^/}]+\}", "[^/]+", template), request.url.path):
            methods.update(method.upper() for method in operations)
    return ", ".join(sorted(methods)) or None


async def _domain_error(_: Request, exc: DomainError) -> JSONResponse:
    retry_after = exc.extra.get("retry_after")
    headers = None if retry_after is None else {"Retry-After": str(retry_after)}
    return problem(exc.status, exc.code, exc.detail, headers=headers, **exc.extra)


async def _unreadable_body(request: Request, detail: str, **extra: Any) -> JSONResponse:
    try:
        refusal = await request.app.state.refusal_before_the_body(request)
    except (DBAPIError, PoolTimeout) as error:  # the token could not be looked up
        return _unavailable(error)
    if refusal is not None:
        return await _domain_error(request, refusal)
    return problem(422, "validation_error", detail, **extra)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    detail, errors = _validation_detail(exc)
    if any(error.get("type") == "json_invalid" for error in exc.errors()):
        return await _unreadable_body(request, detail, errors=errors)
    return problem(422, "validation_error", detail, errors=errors)


def _unavailable(exc: Exception) -> JSONResponse:
    log.warning("database unavailable, answered 503: %s", exc)
    return problem(
        503,
        "service_unavailable",
        "the database is busy or unreachable; retry the request shortly",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


async def _pool_timeout(_: Request, exc: PoolTimeout) -> JSONResponse:
    # every connection of the pool stayed busy for its whole timeout
    return _unavailable(exc)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code == 400:
        # FastAPI's answer to a body it could not decode (bad UTF-8, JSON nested too deep): bad
        # input like any malformed JSON, so the same 422.
        return await _unreadable_body(request, "body: not a JSON document in UTF-8, or nested too deep")
    code = {401: "not_authenticated", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    status = exc.status_code
    allowed = _allowed_methods(request) if status == 405 else None
    headers = {"Allow": allowed} if allowed else exc.headers  # the document's, or Starlette's
    return problem(status, code.get(status, "http_error"), str(exc.detail), headers=headers)


async def _database_error(_: Request, exc: DBAPIError) -> JSONResponse:
    sqlstate = getattr(exc.orig, "sqlstate", None) or ""
    if sqlstate in RETRYABLE_SQLSTATES:
        # Rare by design (one locking order everywhere): a deadlock here is worth an operator's look.
        log.warning("concurrent change lost, answered 409: %s", str(exc.orig).splitlines()[0])
        return problem(409, "conflict", "a concurrent change got there first; retry the request")
    if sqlstate.startswith(UNAVAILABLE_SQLSTATE_PREFIXES) or (
        isinstance(exc, OperationalError) and not sqlstate  # no connection at all
    ):
        return _unavailable(exc)
    if isinstance(exc, DataError):
        # A value PostgreSQL cannot store or compare (text with NUL, a number out of range, …):
        # the request's fault, so a 422, but logged in case a validator upstream missed it.
        log.warning("data error turned into a 422: %s", exc.orig)
        return problem(422, "validation_error", "a value in the request cannot be stored")
    if sqlstate.startswith("23"):
        # A constraint the checks before the write did not foresee: most often a concurrent
        # request that created or removed the same thing first.
        log.warning("integrity error turned into a 409: %s", exc.orig)
        return problem(409, "conflict", "the request conflicts with the current data; retry or change it")
    log.exception("database error")
    return problem(500, "internal_error", "the server failed to complete the request")


async def _unexpected_error(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal_error", "the server failed to complete the request")


# The error a request's token earns it on its route, None if none (`auth.deps.refusal_before_the_body`).
Refusal = Callable[[Request], Awaitable[DomainError | None]]


def install(app: FastAPI, refusal_before_the_body: Refusal) -> None:
    """Every error answered as problem+json (the handlers above, by the exception's class).
    A body that is no JSON is refused first with what `refusal_before_the_body` says of its token: a 401
    or a 403 before a 422."""
    app.state.refusal_before_the_body = refusal_before_the_body
    for error, handler in (
        (DomainError, _domain_error),
        (RequestValidationError, _validation_error),
        (PoolTimeout, _pool_timeout),
        (StarletteHTTPException, _http_error),
        (DBAPIError, _database_error),
        (Exception, _unexpected_error),
    ):
        app.add_exception_handler(error, handler)
