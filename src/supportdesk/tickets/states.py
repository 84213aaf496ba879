"""The ticket state machine: the one place that says which status may follow which."""

from enum import StrEnum

from supportdesk.errors import DomainError


class Status(StrEnum):
    NEW = "new"
    OPEN = "open"
    PENDING = "pending"  # waiting on the customer
    ON_HOLD = "on_hold"  # waiting on a third party
    RESOLVED = "resolved"
    CLOSED = "closed"


class Criticality(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


# A closed ticket's work is over: these stay as they were, whoever would change them (a person, triage).
# Its category and the document that answered it stay correctable: they are what the AI learns from.
SETTLED_WHEN_CLOSED = ("status", "priority", "criticality", "assigned_agent_id")
# A ticket in one of these counts against its agent's load.
OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)
# The resolution clock stands still in these.
PAUSED_STATUSES = (Status.PENDING, Status.ON_HOLD)

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.OPEN: frozenset({Status.PENDING, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.ON_HOLD, Status.RESOLVED, Status.CLOSED}),
    Status.ON_HOLD: frozenset({Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


def ensure_transition(current: str, target: str) -> None:
    if Status(target) not in TRANSITIONS[Status(current)]:
        raise DomainError(
            "invalid_transition", f"a {current} ticket cannot become {target}", current=current, target=target
        )
