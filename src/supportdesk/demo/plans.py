"""The demo's story: which tickets its customers open, when, and what happens to each of them (`Step`s),
drawn from `texts` with a seeded `random.Random`, so every load tells the same one. Plain data; the
loader plays it through the services."""

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from supportdesk.demo.texts import (
    CATEGORIES,
    CRITICALITY,
    CUSTOMER_COMPANIES,
    CUSTOMER_COUNT,
    CUSTOMER_FIRST_NAMES,
    CUSTOMER_LAST_NAMES,
    CUSTOMER_REPLIES,
    ESCALATIONS,
    FILLERS,
    FIRST_REPLIES,
    FOLLOW_UPS,
    HISTORY_DAYS,
    NEW_FOLLOW_UPS,
    NOTES,
    ON_HOLD_REPLIES,
    OTHER_CRITICALITY,
    OUTCOME_WEIGHTS,
    PENDING_ASKS,
    RESOLUTIONS,
    TICKET_COUNT,
    TICKET_TEMPLATES,
)
from supportdesk.tickets.schemas import CustomerIn
from supportdesk.tickets.states import Status


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
