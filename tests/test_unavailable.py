"""A database that cannot take a request now (a statement cancelled, no connection free, none at all)
answers 503 `service_unavailable` with Retry-After, not 500: the client should retry, nothing is broken.
Each case makes the real error happen against a real PostgreSQL, through the app's error handlers."""

import asyncio

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from supportdesk import db, errors
from supportdesk.auth.deps import refusal_before_the_body
from supportdesk.config import sqlalchemy_url
from tests.factories import free_port


@pytest.fixture
async def busy_engine():
    """An engine of one connection that waits at most 0.2 s for it."""
    engine = create_async_engine(
        sqlalchemy_url(db.database_url()), pool_size=1, max_overflow=0, pool_timeout=0.2
    )
    yield engine
    await engine.dispose()


def app_running(query) -> FastAPI:
    app = FastAPI()
    errors.install(app, refusal_before_the_body)

    @app.get("/probe")
    async def probe() -> dict[str, str]:
        await query()
        return {"status": "ok"}

    return app


async def probe(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get("/probe")


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == str(errors.RETRY_AFTER_SECONDS)
    assert response.json()["code"] == "service_unavailable"


async def test_a_statement_cancelled_by_its_timeout_answers_503(busy_engine):
    async def query():
        async with busy_engine.begin() as connection:
            await connection.execute(text("SET LOCAL statement_timeout = '50ms'"))
            await connection.execute(text("SELECT pg_sleep(2)"))

    assert_unavailable(await probe(app_running(query)))


async def test_no_free_connection_in_the_pool_answers_503(busy_engine):
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold_the_only_connection():
        async with busy_engine.connect():
            held.set()
            await release.wait()

    async def query():
        async with busy_engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    holder = asyncio.create_task(hold_the_only_connection())
    await held.wait()
    try:
        assert_unavailable(await probe(app_running(query)))
    finally:
        release.set()
        await holder


async def test_no_database_at_all_answers_503():
    engine = create_async_engine(f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none")

    async def query():
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    try:
        assert_unavailable(await probe(app_running(query)))
    finally:
        await engine.dispose()


async def test_a_wrong_query_is_still_a_500_not_a_503(busy_engine):
    async def query():
        async with busy_engine.connect() as connection:
            await connection.execute(text("SELECT no_such_column FROM users"))

    response = await probe(app_running(query))
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
