"""`supportdesk demo`: a believable organization, loaded through the same services the API uses.

"Northwind Cloud" (plan `pro`) gets an admin, four agents and an analyst, six categories with their
SLAs, a knowledge base, and ~300 tickets over the last 60 days with their conversations. Every row is
made by the services, so assignment, agent load, SLA deadlines, state transitions and the audit log
follow the product's rules; afterwards each ticket's timestamps are moved into the past along a
scripted timeline (the SLA clock is replayed with `status_change`, the one place it lives).

The whole load is one transaction: the demo is there entirely or not at all, and a second load (or a
concurrent one) is skipped because the demo admin's email is taken. Ticket texts come from templates
and `random.Random(42)`, so every load tells the same story.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db, jobs
from supportdesk.ai import answers, triage
from supportdesk.auth.actor import Actor, Role
from supportdesk.auth.service import revoke
from supportdesk.categories.models import Category
from supportdesk.categories.schemas import CategoryIn
from supportdesk.categories.service import create_category
from supportdesk.demo.texts import (
    ADMIN_NAME,
    CATEGORIES,
    CRITICALITY,
    CUSTOMER_COMPANIES,
    CUSTOMER_COUNT,
    CUSTOMER_FIRST_NAMES,
    CUSTOMER_LAST_NAMES,
    CUSTOMER_REPLIES,
    DEMO_ADMIN_EMAIL,
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    DOCUMENTS,
    ESCALATIONS,
    FILLERS,
    FIRST_REPLIES,
    FOLLOW_UPS,
    HISTORY_DAYS,
    NEW_FOLLOW_UPS,
    NOTES,
    ON_HOLD_REPLIES,
    ORGANIZATION_NAME,
    OTHER_CRITICALITY,
    OUTCOME_WEIGHTS,
    PENDING_ASKS,
    RESOLUTIONS,
    SEED,
    STAFF,
    TICKET_COUNT,
    TICKET_TEMPLATES,
)
from supportdesk.documents.schemas import DocumentIn
from supportdesk.documents.service import create_document
from supportdesk.errors import DomainError
from supportdesk.messages.models import Message
from supportdesk.messages.service import post_customer_message, post_staff_message
from supportdesk.organizations.plans import PlanName
from supportdesk.organizations.schemas import SignupIn
from supportdesk.organizations.service import sign_up
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.schemas import CustomerIn, TicketIn, TicketPatch
from supportdesk.tickets.service import create_ticket, update_ticket
from supportdesk.tickets.states import Status
from supportdesk.tickets.transitions import status_change
from supportdesk.users.schemas import UserIn
from supportdesk.users.service import create_user


@dataclass(frozen=True)
class Step:
    """One thing that happens to a ticket: a message ("customer", "reply", "note") or a new status."""

    kind: str
    minutes_after_previous: float
    text: str = ""


@dataclass(frozen=True)
class TicketPlan:
    created_at: datetime
    category: str
    customer: CustomerIn
    title: str
    description: str
    priority: int | None
    criticality: str
    steps: tuple[Step, ...]


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
            await answers.train_organization(organization_id)
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
    await _write_history(session, organization.id, timelines)
    await _record_past_breaches(session, organization.id)
    await _backdate_setup(session, organization.id, now - timedelta(days=HISTORY_DAYS + 10))
    await _recount_monthly_usage(session, organization.id)
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


def customers() -> list[CustomerIn]:
    return [
        CustomerIn(
            name=f"{first} {last}",
            email=f"{first}.{last}@{CUSTOMER_COMPANIES[i % len(CUSTOMER_COMPANIES)]}".lower(),
        )
        for i in range(CUSTOMER_COUNT)
        for first, last in [(CUSTOMER_FIRST_NAMES[i % 10], CUSTOMER_LAST_NAMES[(i * 3) % 8])]
    ]


def ticket_plans(rng: random.Random, now: datetime) -> list[TicketPlan]:
    """The demo's tickets, oldest first: the same list for the same seed and `now`."""
    pool = customers()
    names = list(CATEGORIES)
    shares = [CATEGORIES[name][4] for name in names]
    plans = [_ticket_plan(rng, now, pool, rng.choices(names, shares)[0]) for _ in range(TICKET_COUNT)]
    return sorted(plans, key=lambda plan: plan.created_at)


def _ticket_plan(rng: random.Random, now: datetime, pool: list[CustomerIn], category: str) -> TicketPlan:
    # More tickets lately than two months ago: a growing customer base.
    age = timedelta(days=HISTORY_DAYS * rng.random() ** 1.3 + 0.02)
    outcome = _outcome(rng, age)
    customer = rng.choice(pool)
    fillers = {key: rng.choice(values) for key, values in FILLERS.items()}
    fillers["first"] = (customer.name or "there").split()[0]
    title, description = rng.choice(TICKET_TEMPLATES[category])
    steps = _fit(_conversation(rng, category, outcome, fillers), age - timedelta(minutes=5))
    return TicketPlan(
        created_at=now - age,
        category=category,
        customer=customer,
        title=title.format(**fillers),
        description=description.format(**fillers),
        priority=rng.choice((1, 2, 3, 4, 5)) if rng.random() < 0.15 else None,
        criticality=rng.choice(CRITICALITY.get(category, OTHER_CRITICALITY)),
        steps=steps,
    )


def _outcome(rng: random.Random, age: timedelta) -> Status:
    weights = next(
        (weights for max_days, weights in OUTCOME_WEIGHTS if age <= timedelta(days=max_days)),
        OUTCOME_WEIGHTS[-1][1],
    )
    return rng.choices(list(weights), list(weights.values()))[0]


def _conversation(rng: random.Random, category: str, outcome: Status, fillers: dict[str, str]) -> list[Step]:
    """1-5 messages ending in `outcome`; a first public reply within (mostly) the response SLA."""
    if outcome == Status.NEW:
        kind, texts = rng.choice((("customer", NEW_FOLLOW_UPS), ("note", NOTES)))
        return [Step(kind, rng.uniform(5, 300), rng.choice(texts))]
    first_reply_after = CATEGORIES[category][1] * rng.uniform(0.05, 1.25)
    if outcome in (Status.RESOLVED, Status.CLOSED) and rng.random() < 0.4:
        # Answered and resolved in one reply, without ever being marked open.
        return [
            Step("reply", first_reply_after, RESOLUTIONS[category].format(**fillers)),
            *_resolution(rng, outcome),
        ]
    steps = [
        Step(Status.OPEN, first_reply_after),
        Step("reply", rng.uniform(1, 5), FIRST_REPLIES[category].format(**fillers)),
    ]
    if rng.random() < 0.5:
        steps += [
            Step("customer", rng.uniform(20, 720), rng.choice(CUSTOMER_REPLIES)),
            Step("reply", rng.uniform(10, 240), rng.choice(FOLLOW_UPS)),
        ]
    return steps + _ending(rng, category, outcome, fillers)


def _resolution(rng: random.Random, outcome: Status) -> list[Step]:
    steps = [Step(Status.RESOLVED, rng.uniform(1, 10))]
    if outcome == Status.CLOSED:  # closed a few days after resolving, as auto-close would
        steps.append(Step(Status.CLOSED, rng.uniform(2 * 1440, 4 * 1440)))
    return steps


def _ending(rng: random.Random, category: str, outcome: Status, fillers: dict[str, str]) -> list[Step]:
    if outcome == Status.PENDING:
        return [Step("reply", rng.uniform(10, 120), rng.choice(PENDING_ASKS)), Step(Status.PENDING, 1)]
    if outcome == Status.ON_HOLD:
        escalation = rng.choice(ESCALATIONS).format(**fillers)
        return [
            Step("note", rng.uniform(10, 120), escalation),
            Step("reply", rng.uniform(1, 10), rng.choice(ON_HOLD_REPLIES)),
            Step(Status.ON_HOLD, 1),
        ]
    if outcome == Status.OPEN:
        return [Step("note", rng.uniform(10, 240), rng.choice(NOTES))] if rng.random() < 0.4 else []
    steps = [Step("note", rng.uniform(10, 240), rng.choice(NOTES))] if rng.random() < 0.3 else []
    steps.append(Step("reply", rng.uniform(10, 600), RESOLUTIONS[category].format(**fillers)))
    return steps + _resolution(rng, outcome)


def _fit(steps: list[Step], room: timedelta) -> tuple[Step, ...]:
    """Squeeze a conversation into the time since the ticket was opened."""
    total = sum(step.minutes_after_previous for step in steps)
    scale = min(1.0, room / timedelta(minutes=total)) if total else 1.0
    return tuple(Step(s.kind, s.minutes_after_previous * scale, s.text) for s in steps)


async def _play_ticket(
    session: AsyncSession, admin: Actor, category: Category, plan: TicketPlan
) -> "_Timeline":
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
    timeline = _Timeline(ticket, started, plan.created_at)
    agent = admin
    if ticket.assigned_agent_id is not None:
        agent = Actor(organization_id=organization_id, role=Role.AGENT, user_id=ticket.assigned_agent_id)
    customer = Actor(organization_id=organization_id, role="customer", customer_id=ticket.customer_id)
    for step in plan.steps:
        timeline.advance(step.minutes_after_previous)
        await _play_step(session, timeline, agent, customer, step)
    return timeline


async def _play_step(
    session: AsyncSession, timeline: "_Timeline", agent: Actor, customer: Actor, step: Step
) -> None:
    ticket_id = timeline.ticket_id
    if step.kind == "customer":
        message = await post_customer_message(session, customer, ticket_id, step.text)
        timeline.message(message)
        status = await session.scalar(select(Ticket.status).where(Ticket.id == ticket_id))
        timeline.status(status or timeline.clock.status)  # a customer reply may reopen the ticket
    elif step.kind in ("reply", "note"):
        message = await post_staff_message(
            session, agent, ticket_id, step.text, is_internal=step.kind == "note"
        )
        timeline.message(message)
    else:
        await update_ticket(session, agent, ticket_id, TicketPatch(status=Status(step.kind)))
        timeline.status(step.kind)


class _Timeline:
    """One ticket's real (just now) and scripted (in the past) times.

    The deadlines move with the creation time. The clock fields are replayed with `status_change` at
    the scripted times, so pauses last as long as the script says rather than the milliseconds they
    took to load, and a resolve keeps the time left the script gives, not the loader's."""

    def __init__(self, ticket: Ticket, started: datetime, created_at: datetime) -> None:
        self.ticket_id = ticket.id
        shift = created_at - ticket.created_at
        self.clock = Ticket(
            status=Status.NEW,
            resolved_at=None,
            resolution_paused_at=None,
            first_response_at=None,
            response_due_at=ticket.response_due_at and ticket.response_due_at + shift,
            resolution_due_at=ticket.resolution_due_at and ticket.resolution_due_at + shift,
        )
        self.created_at = self.at = created_at
        self.messages: list[tuple[uuid.UUID, datetime]] = []
        self.periods = [(started, created_at)]  # audit entries written since [0] happened at [1]

    def advance(self, minutes: float) -> None:
        self.at += timedelta(minutes=minutes)
        self.periods.append((datetime.now(UTC), self.at))

    def message(self, message: Message) -> None:
        self.messages.append((message.id, self.at))
        if message.sender_id and not message.is_internal and self.clock.first_response_at is None:
            self.clock.first_response_at = self.at

    def status(self, new_status: str) -> None:
        if new_status != self.clock.status:
            for name, value in status_change(self.clock, new_status, self.at).items():
                setattr(self.clock, name, value)

    def ticket_row(self) -> tuple[Any, ...]:
        """The values of `HISTORY_COLUMNS`."""
        clock = self.clock
        return (
            self.ticket_id,
            self.created_at,
            self.at,
            clock.response_due_at,
            clock.resolution_due_at,
            clock.resolution_paused_at,
            clock.resolved_at,
            clock.first_response_at,
            clock.response_left_seconds,
            clock.resolution_left_seconds,
        )

    def audit_rows(self, loaded_at: datetime) -> list[tuple[Any, ...]]:
        ends = [since for since, _at in self.periods[1:]] + [loaded_at]
        return [(self.ticket_id, since, end, at) for (since, at), end in zip(self.periods, ends, strict=True)]


# The ticket columns `_Timeline` writes, after the ticket's id, with their types: its times moved into
# the past, and the time left its clocks had at a scripted resolve.
HISTORY_COLUMNS = {
    "id": "uuid",
    "created_at": "timestamptz",
    "updated_at": "timestamptz",
    "response_due_at": "timestamptz",
    "resolution_due_at": "timestamptz",
    "resolution_paused_at": "timestamptz",
    "resolved_at": "timestamptz",
    "first_response_at": "timestamptz",
    "response_left_seconds": "integer",
    "resolution_left_seconds": "integer",
}


def _columns(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


async def _write_history(
    session: AsyncSession, organization_id: uuid.UUID, timelines: list[_Timeline]
) -> None:
    """Move every ticket, message and ticket audit entry to its scripted time, one statement each."""
    tickets = _columns([timeline.ticket_row() for timeline in timelines])
    written = list(HISTORY_COLUMNS)[1:]
    arrays = [f"CAST(:{name} AS {kind}[])" for name, kind in HISTORY_COLUMNS.items()]
    await session.execute(
        text(
            f"UPDATE tickets t SET {', '.join(f'{name} = r.{name}' for name in written)}"
            f" FROM unnest({', '.join(arrays)}) AS r({', '.join(HISTORY_COLUMNS)}) WHERE t.id = r.id"
        ),
        dict(zip(HISTORY_COLUMNS, tickets, strict=True)),
    )
    messages = _columns([row for timeline in timelines for row in timeline.messages])
    await session.execute(
        text(
            "UPDATE messages m SET created_at = r.at"
            " FROM unnest(CAST(:ids AS uuid[]), CAST(:ats AS timestamptz[])) AS r(id, at) WHERE m.id = r.id"
        ),
        {"ids": messages[0], "ats": messages[1]},
    )
    loaded_at = datetime.now(UTC) + timedelta(seconds=1)
    audit = _columns([row for timeline in timelines for row in timeline.audit_rows(loaded_at)])
    await session.execute(
        text(
            "UPDATE audit_logs a SET created_at = r.at"
            " FROM unnest(CAST(:tickets AS uuid[]), CAST(:since AS timestamptz[]),"
            " CAST(:until AS timestamptz[]), CAST(:ats AS timestamptz[])) AS r(ticket, since, until, at)"
            " WHERE a.organization_id = :org AND a.entity_type = 'ticket' AND a.entity_id = r.ticket"
            " AND a.created_at >= r.since AND a.created_at < r.until"
        ),
        {"org": organization_id, "tickets": audit[0], "since": audit[1], "until": audit[2], "ats": audit[3]},
    )


# (flag, deadline, when it was met) of each SLA clock of a resolved ticket: sla/clock.py's rule.
_PAST_CLOCKS = (
    ("response_breached", "response_due_at", "coalesce(first_response_at, resolved_at)"),
    ("resolution_breached", "resolution_due_at", "resolved_at"),
)


async def _record_past_breaches(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """The deadlines of the resolved tickets' history came in the past, not while the breach scan
    watched: record the breaches their times imply, as the scan would have when each came (the open
    tickets' are the scan's own to find, within a minute). Analytics read these records."""
    for flag, due, met in _PAST_CLOCKS:
        await session.execute(
            text(
                f"WITH breached AS (UPDATE tickets SET {flag} = true WHERE organization_id = :org"
                f" AND resolved_at IS NOT NULL AND {due} IS NOT NULL AND {met} >= {due} AND NOT {flag}"
                f" RETURNING id, {due} AS due_at)"
                " INSERT INTO sla_events (id, organization_id, ticket_id, kind, due_at, occurred_at)"
                f" SELECT gen_random_uuid(), :org, id, '{flag}', due_at, due_at FROM breached"
            ),
            {"org": organization_id},
        )


async def _backdate_setup(session: AsyncSession, organization_id: uuid.UUID, when: datetime) -> None:
    """The organization, its team, categories and knowledge base predate its first ticket."""
    params = {"org": organization_id, "when": when}
    await session.execute(
        text("UPDATE organizations SET created_at = :when, updated_at = :when WHERE id = :org"), params
    )
    for table in ("users", "categories", "documents"):
        await session.execute(
            text(f"UPDATE {table} SET created_at = :when, updated_at = :when WHERE organization_id = :org"),
            params,
        )
    await session.execute(
        text(
            "UPDATE audit_logs SET created_at = :when WHERE organization_id = :org"
            " AND entity_type IN ('organization', 'user', 'category', 'document')"
        ),
        params,
    )
    # A customer exists from their first ticket on.
    await session.execute(
        text(
            "UPDATE customers c SET created_at = first.at, updated_at = first.at"
            " FROM (SELECT customer_id, min(created_at) AS at FROM tickets WHERE organization_id = :org"
            "       GROUP BY customer_id) first"
            " WHERE c.id = first.customer_id"
        ),
        params,
    )


async def _recount_monthly_usage(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """Every ticket was counted in this month while loading; count each in the month it was opened."""
    params = {"org": organization_id}
    await session.execute(
        text("UPDATE usage_counters SET tickets_created = 0 WHERE organization_id = :org"), params
    )
    await session.execute(
        text(
            "INSERT INTO usage_counters (organization_id, month, tickets_created)"
            " SELECT organization_id, date_trunc('month', created_at AT TIME ZONE 'UTC')::date, count(*)"
            " FROM tickets WHERE organization_id = :org GROUP BY 1, 2"
            " ON CONFLICT (organization_id, month) DO UPDATE SET tickets_created = excluded.tickets_created"
        ),
        params,
    )
