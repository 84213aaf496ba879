"""Builds the ASGI app: routers, middleware and error handlers; nothing else."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from supportdesk import db, errors, jobs
from supportdesk.ai import embeddings
from supportdesk.ai.routes import router as ai_router
from supportdesk.analytics.routes import router as analytics_router
from supportdesk.audit.routes import router as audit_router
from supportdesk.auth.deps import refusal_before_the_body
from supportdesk.auth.routes import router as auth_router
from supportdesk.categories.routes import router as categories_router
from supportdesk.config import get_settings
from supportdesk.customers.routes import router as customers_router
from supportdesk.documents.routes import router as documents_router
from supportdesk.health import router as health_router
from supportdesk.knowledge.routes import router as knowledge_router
from supportdesk.messages.routes import router as messages_router
from supportdesk.middleware import BodyLimit, EmptyQueryParameters, HeadAsGet
from supportdesk.organizations.routes import router as organizations_router
from supportdesk.portal.routes import router as portal_router
from supportdesk.sla.routes import router as sla_router
from supportdesk.tickets.routes import router as tickets_router
from supportdesk.users.routes import router as users_router
from supportdesk.webhooks.routes import router as webhooks_router

API_PREFIX = "/api/v1"
ROUTERS = [
    organizations_router,
    auth_router,
    users_router,
    categories_router,
    tickets_router,
    messages_router,
    customers_router,
    documents_router,
    knowledge_router,
    analytics_router,
    audit_router,
    webhooks_router,
    portal_router,
    sla_router,
    ai_router,
]


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    async with embeddings.loading():
        if get_settings().inprocess_worker:
            async with jobs.worker_alongside():
                yield
        else:
            yield
    await db.dispose()


def create_app() -> FastAPI:
    app = FastAPI(
        lifespan=lifespan,
        title="supportdesk",
        version="0.1.0",
        description="Multi-tenant, AI-assisted customer support. Errors are RFC 9457 problem details.",
        # A path with a trailing slash is not found (problem+json) rather than redirected, with an
        # empty body, to the Host the client named.
        redirect_slashes=False,
    )
    for router in ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health_router)  # /healthz, outside the API's prefix
    errors.install(app, refusal_before_the_body)
    app.add_middleware(BodyLimit, max_bytes=get_settings().max_body_bytes)
    app.add_middleware(EmptyQueryParameters)
    app.add_middleware(HeadAsGet)

    app.openapi_schema = errors.describe_problems(app.openapi())  # once every route is in
    return app
