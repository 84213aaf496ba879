"""The analytics summary: what came in, what got solved, how fast, and within the SLA or not.

Definitions, over a window [from, to) (`from` inclusive, `to` exclusive):

- tickets_created: the organization's tickets created in the window.
- tickets_resolved: its tickets whose `resolved_at` is in the window (status resolved or closed;
  reopening clears `resolved_at`, so a reopened ticket counts when it is resolved again).
- median_first_response_minutes: the median of (first_response_at - created_at), in minutes, over
  the tickets created in the window that have a first (human, public) response; null when none.
- median_resolution_minutes: the median of (resolved_at - created_at) over the tickets resolved in
  the window; null when none. Medians are PostgreSQL's `percentile_cont(0.5)`, rounded to 2 places.
- response_sla_compliance: among the tickets created in the window that have a `response_due_at`
  and whose response clock is decided (a first response, or a recorded breach), the share that was
  not breached, 0..1 rounded to 4 places; null when none. A ticket still waiting within its
  deadline is neither met nor missed yet.
- resolution_sla_compliance: among the tickets resolved in the window that have a
  `resolution_due_at`, the share not breached; null when none.
- auto_resolved: the tickets resolved in the window that the auto-responder answered (an
  `auto_answers` row with outcome 'answered') and no human ever answered in public
  (`first_response_at` null).
- auto_answers: the auto-responder's decisions recorded in the window: `answered` (a public automatic
  answer), `followed_up` (of those, the ones the customer replied to: the reply went to a person, so
  the answer did not settle the question, or not alone) and `suggested` (an internal suggested reply
  for agents). `followed_up / answered` is the share of automatic answers that did not end the
  conversation: the running estimate of how often one missed (a thank-you counts as a follow-up, a
  customer who gives up in silence does not).
- by_category: per category with tickets created or resolved in the window, both counts; one entry
  with `category_id` and `name` null for the uncategorized ones, if any. Ordered by
  tickets_created, most first, then name (uncategorized last among equals).
- by_agent: per person who is assigned tickets created in the window or resolved tickets in the
  window, whatever their role now (an agent moved to a reporting role keeps the work they did):
  `tickets_assigned` (created in the window and assigned to them now),
  `tickets_resolved` (resolved in the window and assigned to them now: a resolved ticket given to
  someone else counts as theirs),
  `median_first_response_minutes` (over their tickets created in the window) and `open_tickets`
  (their `current_ticket_count` now). Ordered by tickets_resolved, most first, then name.

Cost: two statements. The tickets are found through two indexes over the window only
(`idx_tickets_organization_created` for created, `idx_tickets_organization_resolved` for resolved,
combined by a BitmapOr), never the organization's whole history; auto-answers are looked up per
ticket (`idx_auto_answers_source`) for resolved tickets without a human response only. Each ticket is
aggregated once, for the totals, per category and per agent at the same time (GROUPING SETS). A
window covering most of an organization's history is read through the organization's index instead,
which is then the cheaper plan. The auto-responder's decisions are read through
`idx_auto_answers_org_created` over the window, and a follow-up per answer through
`idx_auto_answers_source`.
"""

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.analytics.schemas import (
    AgentSummaryOut,
    AutoAnswersSummaryOut,
    CategorySummaryOut,
    SummaryOut,
    SummaryWindow,
)
from supportdesk.auth.actor import Actor

# Every table is filtered on the caller's organization, on top of row-level security.
SUMMARY = text(
    """
WITH window_tickets AS (
    SELECT t.category_id, t.assigned_agent_id, t.created_at, t.resolved_at, t.first_response_at,
           t.response_due_at, t.resolution_due_at, t.response_breached, t.resolution_breached,
           t.created_at >= :from AND t.created_at < :to AS created_in,
           coalesce(t.resolved_at >= :from AND t.resolved_at < :to
                    AND t.status IN ('resolved', 'closed'), false) AS resolved_in,
           auto.answered IS NOT NULL AS auto_answered
    FROM tickets t
    -- Per ticket, through idx_auto_answers_source, and only for the tickets that could count: an
    -- EXISTS lets the planner hash every auto-answer the organization ever had instead.
    LEFT JOIN LATERAL (
        SELECT true AS answered FROM auto_answers a
        WHERE t.first_response_at IS NULL AND t.resolved_at IS NOT NULL
          AND a.ticket_id = t.id AND a.organization_id = :org AND a.outcome = 'answered'
        LIMIT 1
    ) AS auto ON true
    WHERE t.organization_id = :org
      AND ((t.created_at >= :from AND t.created_at < :to)
           OR (t.resolved_at >= :from AND t.resolved_at < :to))
),
grouped AS (
    SELECT GROUPING(category_id) = 0 AS per_category,
           GROUPING(assigned_agent_id) = 0 AS per_agent,
           category_id, assigned_agent_id,
           count(*) FILTER (WHERE created_in) AS tickets_created,
           count(*) FILTER (WHERE resolved_in) AS tickets_resolved,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM first_response_at - created_at)::float8 / 60
           ) FILTER (WHERE created_in) AS median_first_response_minutes,
           percentile_cont(0.5) WITHIN GROUP (
               ORDER BY extract(epoch FROM resolved_at - created_at)::float8 / 60
           ) FILTER (WHERE resolved_in) AS median_resolution_minutes,
           count(*) FILTER (WHERE created_in AND response_due_at IS NOT NULL
                            AND (first_response_at IS NOT NULL OR response_breached)) AS response_decided,
           count(*) FILTER (WHERE created_in AND response_due_at IS NOT NULL
                            AND first_response_at IS NOT NULL AND NOT response_breached) AS response_met,
           count(*) FILTER (WHERE resolved_in AND resolution_due_at IS NOT NULL) AS resolution_decided,
           count(*) FILTER (WHERE resolved_in AND resolution_due_at IS NOT NULL
                            AND NOT resolution_breached) AS resolution_met,
           count(*) FILTER (WHERE resolved_in AND auto_answered AND first_response_at IS NULL)
               AS auto_resolved
    FROM window_tickets
    GROUP BY GROUPING SETS ((), (category_id), (assigned_agent_id))
)
SELECT g.*, c.name AS category_name, u.name AS agent_name,
       u.current_ticket_count AS open_tickets
FROM grouped g
LEFT JOIN categories c ON g.per_category AND c.id = g.category_id AND c.organization_id = :org
LEFT JOIN users u ON g.per_agent AND u.id = g.assigned_agent_id AND u.organization_id = :org
"""
)

AUTO_ANSWERS = text(
    """
SELECT count(*) FILTER (WHERE a.outcome = 'answered') AS answered,
       count(*) FILTER (WHERE a.outcome = 'answered' AND EXISTS (
           SELECT 1 FROM auto_answers f
           WHERE f.ticket_id = a.ticket_id AND f.organization_id = :org
             AND f.reason = 'reply_to_automatic_answer' AND f.created_at >= a.created_at
       )) AS followed_up,
       count(*) FILTER (WHERE a.outcome = 'suggested') AS suggested
FROM auto_answers a
WHERE a.organization_id = :org AND a.created_at >= :from AND a.created_at < :to
"""
)


def _minutes(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _share(met: int, decided: int) -> float | None:
    return round(met / decided, 4) if decided else None


def _category(row: Any) -> CategorySummaryOut:
    return CategorySummaryOut(
        category_id=row.category_id,
        name=row.category_name,
        tickets_created=row.tickets_created,
        tickets_resolved=row.tickets_resolved,
    )


def _agent(row: Any) -> AgentSummaryOut:
    return AgentSummaryOut(
        agent_id=row.assigned_agent_id,
        name=row.agent_name,
        tickets_assigned=row.tickets_created,
        tickets_resolved=row.tickets_resolved,
        median_first_response_minutes=_minutes(row.median_first_response_minutes),
        open_tickets=row.open_tickets or 0,
    )


async def summarize(session: AsyncSession, actor: Actor, window: SummaryWindow) -> SummaryOut:
    """The organization's summary over `window` (definitions in the module docstring)."""
    start, end = window.bounds
    rows = (await session.execute(SUMMARY, {"org": actor.organization_id, "from": start, "to": end})).all()
    total = next(row for row in rows if not row.per_category and not row.per_agent)
    decided = (
        await session.execute(AUTO_ANSWERS, {"org": actor.organization_id, "from": start, "to": end})
    ).one()
    categories = [_category(row) for row in rows if row.per_category]
    agents = [_agent(row) for row in rows if row.per_agent and row.assigned_agent_id is not None]
    categories.sort(key=lambda c: (-c.tickets_created, c.name is None, c.name or "", str(c.category_id)))
    agents.sort(key=lambda a: (-a.tickets_resolved, a.name, str(a.agent_id)))
    return SummaryOut(
        from_=start,
        to=end,
        tickets_created=total.tickets_created,
        tickets_resolved=total.tickets_resolved,
        median_first_response_minutes=_minutes(total.median_first_response_minutes),
        median_resolution_minutes=_minutes(total.median_resolution_minutes),
        response_sla_compliance=_share(total.response_met, total.response_decided),
        resolution_sla_compliance=_share(total.resolution_met, total.resolution_decided),
        auto_resolved=total.auto_resolved,
        auto_answers=AutoAnswersSummaryOut.model_validate(decided),
        by_category=categories,
        by_agent=agents,
    )
