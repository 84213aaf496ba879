"""One real PostgreSQL for the whole run (the embedded one unless DATABASE_URL is set), migrated
once. Tests are isolated by tenancy: each signs up organizations of its own."""

import os
from collections.abc import AsyncIterator

import httpx
import pytest

from supportdesk import embedded

if not os.environ.get("DATABASE_URL") and "SUPPORTDESK_DATA_DIR" not in os.environ:
    # Without backups: tests/lifecycle/test_backup.py starts servers of its own with them.
    embedded.use_temporary_data_dir("supportdesk-test-")

from supportdesk import db  # noqa: E402
from supportdesk.app import create_app  # noqa: E402
from tests.factories import api_client  # noqa: E402


@pytest.fixture(scope="session")
def app():
    db.migrate()
    return create_app()


@pytest.fixture(scope="session")
async def client(app) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client
    await db.dispose()
