"""The engine, a session per request, and the tenant context that row-level security reads.

Every tenant table has two policies: rows whose `organization_id` equals the transaction's
`supportdesk.organization_id` setting, and every row when the transaction says it is the system
(`supportdesk.system = 'on'`). Code that crosses tenants asks for that by name: `system_session()`.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from supportdesk import embedded
from supportdesk.config import get_settings, sqlalchemy_url
from supportdesk.errors import NotFound

_engine: AsyncEngine | None = None
_sessionmaker: async_sessionmaker[AsyncSession] | None = None
_database_url: str | None = None


def database_url() -> str:
    """The libpq URL of the database, starting the embedded server when DATABASE_URL is unset."""
    global _database_url
    if _database_url is None:
        settings = get_settings()
        _database_url = settings.database_url or embedded.start(settings.data_dir)
    return _database_url


def engine() -> AsyncEngine:
    global _engine, _sessionmaker
    if _engine is None:
        settings = get_settings()
        _engine = create_async_engine(
            sqlalchemy_url(database_url()),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_pool_size,
            pool_pre_ping=False,
        )
        _sessionmaker = async_sessionmaker(_engine, expire_on_commit=False, autoflush=False)
    return _engine


async def dispose() -> None:
    global _engine, _sessionmaker
    if _engine is not None:
        await _engine.dispose()
    _engine = _sessionmaker = None


def new_session() -> AsyncSession:
    engine()
    assert _sessionmaker is not None
    return _sessionmaker()


async def set_tenant(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Scope the rest of this transaction to one organization (and leave system mode)."""
    await session.execute(
        text(
            "SELECT set_config('supportdesk.organization_id', :org, true),"
            " set_config('supportdesk.system', 'off', true)"
        ),
        {"org": str(organization_id)},
    )


async def set_system(session: AsyncSession) -> None:
    """Let the rest of this transaction see every organization. Say why wherever it is called."""
    await session.execute(text("SELECT set_config('supportdesk.system', 'on', true)"))


@asynccontextmanager
async def transaction() -> AsyncIterator[AsyncSession]:
    """A session in one transaction: committed when the block ends, rolled back if it raises."""
    async with new_session() as session, session.begin():
        yield session


@asynccontextmanager
async def tenant_session(organization_id: uuid.UUID) -> AsyncIterator[AsyncSession]:
    async with transaction() as session:
        await set_tenant(session, organization_id)
        yield session


@asynccontextmanager
async def system_session() -> AsyncIterator[AsyncSession]:
    """A transaction that crosses tenants: for jobs, operators, sign-up and login only."""
    async with transaction() as session:
        await set_system(session)
        yield session


async def check_role(session: AsyncSession) -> None:
    """Refuse to serve as a role that row-level security does not apply to."""
    row = (
        await session.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        )
    ).one()
    if (row.rolsuper or row.rolbypassrls) and not get_settings().allow_superuser:
        raise SystemExit(
            "DATABASE_URL connects as a superuser or a BYPASSRLS role, so row-level security would not"
            " apply. Connect as an ordinary role (see README) or set SUPPORTDESK_ALLOW_SUPERUSER=1."
        )


def migrate(url: str | None = None) -> None:
    """Bring the schema to the newest revision (Alembic, under an advisory lock)."""
    from pathlib import Path

    from alembic import command
    from alembic.config import Config

    config = Config(str(Path(__file__).resolve().parents[2] / "alembic.ini"))
    config.attributes["database_url"] = url or database_url()
    command.upgrade(config, "head")


class Base(DeclarativeBase):
    """Mapped classes describe the tables for queries; the schema itself comes from migrations/."""


Row = TypeVar("Row", bound=Base)


async def organization_row(
    session: AsyncSession,
    model: type[Row],
    row_id: uuid.UUID,
    organization_id: uuid.UUID,
    what: str,
    *,
    lock: bool = False,
) -> Row:
    """The organization's row of `model` with this id, else a 404 naming `what` (another organization's
    row too). `lock`ed (FOR UPDATE) by a change or a deletion, so that of two racing, the second finds
    what the first left: a deleted row is a 404."""
    table: Any = model  # every tenant table has these two columns; Base does not say so
    statement = select(model).where(table.id == row_id, table.organization_id == organization_id)
    row = await session.scalar(statement.with_for_update() if lock else statement)
    if row is None:
        raise NotFound(what)
    return row
