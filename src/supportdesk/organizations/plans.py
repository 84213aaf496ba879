"""The plans an organization can be on: the one place their limits are written."""

from dataclasses import dataclass
from enum import StrEnum


class PlanName(StrEnum):
    FREE = "free"
    STARTER = "starter"
    PRO = "pro"
    ENTERPRISE = "enterprise"


@dataclass(frozen=True)
class Plan:
    monthly_ticket_limit: int
    agent_limit: int


PLANS: dict[PlanName, Plan] = {
    PlanName.FREE: Plan(monthly_ticket_limit=50, agent_limit=3),
    PlanName.STARTER: Plan(monthly_ticket_limit=1_000, agent_limit=10),
    PlanName.PRO: Plan(monthly_ticket_limit=10_000, agent_limit=50),
    PlanName.ENTERPRISE: Plan(monthly_ticket_limit=1_000_000, agent_limit=1_000),
}
