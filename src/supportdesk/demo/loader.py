"""`supportdesk demo`: a believable organization, loaded through the same services the API uses.

"Northwind Cloud" (plan `pro`) gets an admin, four agents and an analyst, six categories with their
SLAs, a knowledge base, and ~300 tickets over the last 60 days with their conversations. Every row is
made by the services, so assignment, agent load, SLA deadlines, state transitions and the audit log
follow the product's rules; afterwards each ticket's timestamps are moved into the past along a
scripted timeline (the SLA clock is replayed with `status_change`, the one place it lives).

The whole load is one transaction: the demo is there entirely or not at all, and a second load (or a
concurrent one) is skipped because the demo admin's email is taken. Ticket texts come from templates
and `random.Random(42)` (`plans`), so every load tells the same story; `history` moves it into the past.
"""

import random
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db, jobs
from supportdesk.ai import answer_models, triage
from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.service import revoke
from supportdesk.categories.models import Category
from supportdesk.categories.schemas import CategoryIn
from supportdesk.categories.service import create_category
from supportdesk.demo.history import (
    Timeline,
    backdate_setup,
    record_past_breaches,
    recount_monthly_usage,
    write_history,
)
from supportdesk.demo.plans import Step, TicketPlan, ticket_plans
from supportdesk.demo.texts import (
    ADMIN_NAME,
    CATEGORIES,
    DEMO_ADMIN_EMAIL,
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    DOCUMENTS,
    HISTORY_DAYS,
    ORGANIZATION_NAME,
    SEED,
    STAFF,
)
from supportdesk.documents.schemas import DocumentIn
from supportdesk.documents.service import create_document
from supportdesk.errors import DomainError
from supportdesk.messages.service import post_customer_message, post_staff_message
from supportdesk.organizations.plans import PlanName
from supportdesk.organizations.schemas import SignupIn
from supportdesk.organizations.service import sign_up
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.schemas import TicketIn, TicketPatch
from supportdesk.tickets.service import create_ticket, update_ticket
from supportdesk.tickets.states import Status
from supportdesk.users.schemas import UserIn
from supportdesk.users.service import create_user


async def load_demo(only_if_empty: bool, *, dispose: bool = True) -> bool:
    """Load the demo organization; False when skipped (data exists, or the demo is loaded already).
    `dispose` closes the engine afterwards, for callers that run this in an event loop of its own."""
    try:
        if await _should_skip(only_if_empty):
            return False
        try:
            # its jobs (300 tickets' triage) come after those of a ticket posted meanwhile
            with jobs.in_background():
                async with db.transaction() as session:
                    organization_id = await _load(session, datetime.now(UTC))
            # Its models, before anyone asks (the trainings queued behind its history then find them up to
            # date): a ticket posted right after the start waited 11 s for its triage to train one.
            await triage.train_organization(organization_id)
            await answer_models.train_organization(organization_id)
        except DomainError as error:
            if error.code == "email_taken":  # another load got there first
                return False
            raise
        return True
    finally:
        if dispose:
            await db.dispose()


async def _should_skip(only_if_empty: bool) -> bool:
    # Across tenants on purpose: "is the database empty" and "is the demo loaded" are global questions.
    async with db.system_session() as session:
        if only_if_empty and await session.scalar(text("SELECT EXISTS (SELECT 1 FROM organizations)")):
            return True
        demo_admin = text("SELECT EXISTS (SELECT 1 FROM users WHERE email = :email)")
        return bool(await session.scalar(demo_admin, {"email": DEMO_ADMIN_EMAIL}))


async def _load(session: AsyncSession, now: datetime) -> uuid.UUID:
    signup = SignupIn(
        name=ORGANIZATION_NAME,
        admin_email=DEMO_ADMIN_EMAIL,
        admin_name=ADMIN_NAME,
        admin_password=DEMO_PASSWORD,
        plan=PlanName.PRO,
    )
    organization, admin, token = await sign_up(session, signup)
    await revoke(session, token)  # nobody holds it: the demo admin logs in like anyone else
    admin_actor = Actor(organization_id=organization.id, role=Role.ADMIN, user_id=admin.id)
    for local_part, name, role in STAFF:
        email = f"{local_part}@{DEMO_DOMAIN}"
        await create_user(
            session, admin_actor, UserIn(email=email, name=name, role=role, password=DEMO_PASSWORD)
        )
    categories = await _create_categories(session, admin_actor)
    for title, is_public, category_names, paragraphs in DOCUMENTS:
        category_ids = [categories[name].id for name in category_names]
        document = DocumentIn(
            title=title, content="\n\n".join(paragraphs), is_public=is_public, category_ids=category_ids
        )
        await create_document(session, admin_actor, document)
    timelines = [
        await _play_ticket(session, admin_actor, categories[plan.category], plan)
        for plan in ticket_plans(random.Random(SEED), now)
    ]
    await write_history(session, organization.id, timelines)
    await record_past_breaches(session, organization.id)
    await backdate_setup(session, organization.id, now - timedelta(days=HISTORY_DAYS + 10))
    await recount_monthly_usage(session, organization.id)
    return organization.id


async def _create_categories(session: AsyncSession, actor: Actor) -> dict[str, Category]:
    categories = {}
    for name, (description, response, resolution, priority, _share) in CATEGORIES.items():
        data = CategoryIn(
            name=name,
            description=description,
            response_sla_minutes=response,
            resolution_sla_minutes=resolution,
            priority_level=priority,
        )
        categories[name] = await create_category(session, actor, data)
    return categories


async def _play_ticket(session: AsyncSession, admin: Actor, category: Category, plan: TicketPlan) -> Timeline:
    """Run `plan` through the services now; the timeline says when it really happened."""
    organization_id = admin.organization_id
    ticket_in = TicketIn(
        title=plan.title,
        description=plan.description,
        customer=plan.customer,
        category_id=category.id,
        priority=plan.priority,
        criticality=plan.criticality,
    )
    started = datetime.now(UTC)
    # As the customer portal does it: the ticket comes from the customer, not from a staff member.
    ticket = await create_ticket(session, Actor(organization_id=organization_id, role="customer"), ticket_in)
    timeline = Timeline(ticket, started, plan.created_at)
    agent = admin
    if ticket.assigned_agent_id is not None:
        agent = Actor(organization_id=organization_id, role=Role.AGENT, user_id=ticket.assigned_agent_id)
    customer = Actor(organization_id=organization_id, role="customer", customer_id=ticket.customer_id)
    for step in plan.steps:
        timeline.advance(step.minutes_after_previous)
        await _play_step(session, timeline, agent, customer, step)
    return timeline


async def _play_step(
    session: AsyncSession, timeline: Timeline, agent: Actor, customer: Actor, step: Step
) -> None:
    ticket_id = timeline.ticket_id
    if step.kind in ("customer", "reply", "note"):
        if step.kind == "customer":
            message = await post_customer_message(session, customer, ticket_id, step.text)
        else:
            message = await post_staff_message(
                session, agent, ticket_id, step.text, is_internal=step.kind == "note"
            )
        timeline.message(message)
        # a customer's reply may reopen the ticket, an agent's first reply opens it
        status = await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
        timeline.status(status or timeline.clock.status)
    else:
        await update_ticket(session, agent, ticket_id, TicketPatch(status=Status(step.kind)))
        timeline.status(step.kind)
