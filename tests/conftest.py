"""One real PostgreSQL for the whole run (the embedded one unless DATABASE_URL is set), migrated
once. Tests are isolated by tenancy: each signs up organizations of its own."""

import os
import tempfile
from collections.abc import AsyncIterator

import httpx
import pytest

if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("SUPPORTDESK_DATA_DIR", tempfile.mkdtemp(prefix="supportdesk-test-"))

from supportdesk import db  # noqa: E402
from supportdesk.app import create_app  # noqa: E402


@pytest.fixture(scope="session")
def app():
    db.migrate()
    return create_app()


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test/api/v1", timeout=60) as client:
        yield client
    await db.dispose()
