"""Background jobs of the AI: a new ticket's triage then its automatic answer, a customer follow-up's
answer, each organization's triage model (re)training, and its answer model's once its documents change.

Never on the request path: `create_ticket` defers `triage_ticket` in its own transaction.
"""

import asyncio
import functools
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db, jobs
from supportdesk.ai import answer_models, responder, triage
from supportdesk.ai.stored_models import TrainingBusy
from supportdesk.jobs import QUEUE, app
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.references import lock_referenced
from supportdesk.tickets.system_changes import apply_triage

__all__ = [
    "answer_ticket",
    "app",
    "defer_answer",
    "defer_answer_model",
    "defer_triage",
    "retrain_triage_models",
    "train_answer_model",
    "train_triage_model",
    "triage_ticket",
]


# How long a job that trains (or a triage job without a model) waits for another training of its process
# before it gives its worker slot back, and how long after it comes again.
TRAINING_PATIENCE = 60.0


async def defer_triage(session: AsyncSession, ticket: Ticket) -> None:
    """In the transaction that creates `ticket`: triage it once that commits."""
    await jobs.defer(
        session, triage_ticket, organization_id=str(ticket.organization_id), ticket_id=str(ticket.id)
    )


@app.task(name="triage_ticket", queue=QUEUE, retry=jobs.RETRY)
async def triage_ticket(organization_id: str, ticket_id: str, **_queued_before_0017: bool) -> None:
    """Category (when the ticket has none and the model is confident), the category's priority (unless a
    person chose one, opening the ticket or since), and criticality from the text (likewise; only raised).
    Runs once per ticket: a ticket triaged already is left alone, and so is a category a human set.
    (Jobs queued before migration 0017 also carry `priority_given` and `criticality_given`, which the
    ticket's `priority_chosen` and `criticality_chosen` now say.)"""
    await triage_one(uuid.UUID(organization_id), uuid.UUID(ticket_id), apply=apply_triage)


async def triage_one(org: uuid.UUID, tid: uuid.UUID, *, apply) -> None:
    """`triage_ticket`'s work, with the function that applies the decision to the locked ticket."""
    needs_model = await _needs_model(org, tid)
    if needs_model is None:
        return
    try:
        model = await _model(org) if needs_model else None
    except (TrainingBusy, jobs.Stopping) as interrupted:
        async with db.tenant_session(org) as session:  # its slot back, for another try later
            ids = {"organization_id": str(org), "ticket_id": str(tid)}
            await jobs.defer(session, triage_ticket, run_at=_after(interrupted), **ids)
        return
    async with db.tenant_session(org) as session:
        read = (
            await session.execute(
                text("SELECT title, description, category_id, no_category_fits FROM tickets WHERE id = :id"),
                {"id": tid},
            )
        ).one_or_none()
        if read is None:
            return
        body = triage.ticket_text(read.title, read.description)  # a ticket's text never changes
        decision = None
        if read.category_id is None and not read.no_category_fits and model is not None:
            decision = (await asyncio.to_thread(triage.decide, model, [body]))[0]
        category_id = await _still_active(session, decision)
        await _apply_to_locked_ticket(session, org, tid, body, decision, category_id, apply)


async def _needs_model(org: uuid.UUID, tid: uuid.UUID) -> bool | None:
    """Whether triaging the ticket needs its organization's model: it has no category, and the
    organization two active categories or more (fewer, and triage sets no category). None when there is
    nothing to triage: the ticket is gone, or triaged already."""
    async with db.tenant_session(org) as session:
        state = (
            await session.execute(
                text("SELECT category_id, triaged_at FROM tickets WHERE id = :id"), {"id": tid}
            )
        ).one_or_none()
        if state is None or state.triaged_at is not None:
            return None
        if state.category_id is not None:
            return False
        active = await session.scalar(
            text("SELECT count(*) FROM categories WHERE organization_id = :org AND is_active IS NOT FALSE"),
            {"org": org},
        )
        return active >= triage.MIN_CATEGORIES


async def _model(org: uuid.UUID):
    """The organization's triage model; trained now when it has none yet (or one of an older format),
    unless another training of this process keeps the turn longer than TRAINING_PATIENCE (TrainingBusy:
    an organization's first model can train for minutes)."""
    async with db.tenant_session(org) as session:
        model = await triage.load_model(session, org)
    if model is None:
        model = await triage.STORE.trained(
            org, functools.partial(triage.train_organization, patience=TRAINING_PATIENCE)
        )
    return model


async def _still_active(session: AsyncSession, decision: triage.Decision | None) -> uuid.UUID | None:
    """The decision's category, unless deactivated or deleted since the model was trained. KEY SHARE on
    it before the ticket is locked, as a PATCH takes them: its deletion locks it, then its tickets, and
    the reverse order deadlocked with it (the job failed, or the deletion did)."""
    if decision is None or decision.category_id is None:
        return None
    category_id = uuid.UUID(decision.category_id)
    active = text("SELECT is_active IS NOT FALSE FROM categories WHERE id = :id FOR KEY SHARE")
    return category_id if await session.scalar(active, {"id": category_id}) else None


async def _apply_to_locked_ticket(
    session: AsyncSession,
    org: uuid.UUID,
    tid: uuid.UUID,
    body: str,
    decision: triage.Decision | None,
    category_id: uuid.UUID | None,
    apply,
) -> None:
    """Lock the ticket, apply the decision as the system (what a person chose meanwhile wins), mark the
    ticket triaged, and let the auto-responder answer it."""
    await lock_referenced(session, org, tid)
    ticket = await session.scalar(
        select(Ticket).where(Ticket.id == tid).with_for_update().execution_options(populate_existing=True)
    )
    triaged_at = await session.scalar(text("SELECT triaged_at FROM tickets WHERE id = :id"), {"id": tid})
    if ticket is None or triaged_at is not None:
        return
    if ticket.category_id is not None or ticket.no_category_fits:
        decision, category_id = None, None  # a person's word came while the model read the ticket
    raised = None if ticket.criticality_chosen else triage.raised_criticality(ticket.criticality, body)
    now = datetime.now(UTC)
    confidence = decision.confidence if decision else None
    details = {
        "category_id": str(category_id) if category_id else None,
        "confidence": confidence,
        "best_category_id": decision.best_category_id if decision else None,
        "criticality": raised,
    }
    await apply(
        session,
        ticket,
        category_id=category_id,
        set_priority=not ticket.priority_chosen,
        criticality=raised,
        now=now,
        details=details,
    )
    await session.execute(
        text(
            "UPDATE tickets SET triaged_at = :now, ai_category_confidence = :confidence,"
            " ai_category_id = :category WHERE id = :id"
        ),
        {"now": now, "confidence": confidence, "category": category_id, "id": tid},
    )
    # The answer comes after triage: the category it set ranks the documents linked to it first.
    await defer_answer(session, org, tid)


async def defer_answer(
    session: AsyncSession,
    organization_id: uuid.UUID,
    ticket_id: uuid.UUID,
    message_id: uuid.UUID | None = None,
) -> None:
    """In the transaction that triages a ticket or adds a customer's follow-up `message_id`: let the
    auto-responder decide on it once that commits."""
    await jobs.defer(
        session,
        answer_ticket,
        organization_id=str(organization_id),
        ticket_id=str(ticket_id),
        message_id=str(message_id) if message_id else None,
    )


@app.task(name="answer_ticket", queue=QUEUE, retry=jobs.RETRY)
async def answer_ticket(organization_id: str, ticket_id: str, message_id: str | None = None) -> None:
    """The auto-responder on a ticket's text or a customer's follow-up (decides once: see responder)."""
    await responder.respond(
        uuid.UUID(organization_id), uuid.UUID(ticket_id), uuid.UUID(message_id) if message_id else None
    )


async def defer_answer_model(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """In the transaction that writes or deletes a document: bring the organization's answer model up to
    date once that commits, so that the next ticket need not wait for it. At most one such training
    waits to start (a queueing lock), however many documents are written meanwhile."""
    await _defer_training(session, train_answer_model, organization_id)


async def _defer_training(
    session: AsyncSession, task, organization_id: uuid.UUID, run_at: datetime | None = None
) -> None:
    """Defer one organization's training, under the lock that lets one of that model's trainings wait."""
    await jobs.defer(
        session,
        task,
        run_at=run_at,
        queueing_lock=f"{task.name}:{organization_id}",
        organization_id=str(organization_id),
    )


# The trainings are deferred with a queueing lock, so they are not retried: a retry would wait in the
# queue beside a later training of the same lock, which procrastinate refuses (and its worker would stop).
# Nothing is lost: the answer job trains a stale answer model itself, and triage models are checked hourly.
@app.task(name="train_answer_model", queue=QUEUE)
async def train_answer_model(organization_id: str) -> None:
    """(Re)train one organization's answer model if its public documents changed since (idempotent)."""
    await _train_in_turn(train_answer_model, answer_models.train_organization, uuid.UUID(organization_id))


@app.task(name="train_triage_model", queue=QUEUE)
async def train_triage_model(organization_id: str) -> None:
    """(Re)train one organization's model if what it learns from changed since (idempotent)."""
    await _train_in_turn(train_triage_model, triage.train_organization, uuid.UUID(organization_id))


async def _train_in_turn(task, train, organization_id: uuid.UUID) -> None:
    """`train` the organization's model, or, while another training of this process keeps the turn
    longer than TRAINING_PATIENCE, or the workers stop, give the worker slot back and defer `task` again
    for later."""
    try:
        await train(organization_id, patience=TRAINING_PATIENCE)
    except (TrainingBusy, jobs.Stopping) as interrupted:
        async with db.tenant_session(organization_id) as session:
            await _defer_training(session, task, organization_id, run_at=_after(interrupted))


def _after(interrupted: Exception) -> datetime | None:
    """When a job that gave its slot back comes again: after another training's turn, or at once (the
    next start, or another process's worker) when the workers stop."""
    if isinstance(interrupted, jobs.Stopping):
        return None
    return datetime.now(UTC) + timedelta(seconds=TRAINING_PATIENCE)


# A person's correction of a category is learned from this soon (the hourly check took up to an hour,
# and meanwhile new wordings of the corrected tickets got no category); one training waits per organization
# however many tickets are corrected meanwhile, so a busy team costs one training per this interval.
RETRAIN_AFTER_CORRECTION = timedelta(minutes=10)


async def defer_triage_retrain(session: AsyncSession, organization_id: uuid.UUID) -> None:
    """In the transaction where a person sets a ticket's category: retrain the organization's triage
    model a little later, with whatever else is corrected by then."""
    await _defer_training(
        session, train_triage_model, organization_id, run_at=datetime.now(UTC) + RETRAIN_AFTER_CORRECTION
    )


async def defer_retrains() -> int:
    """Defer a training for each organization whose categories, documents or categorized tickets
    changed since its model was trained (or that has none yet); returns how many."""
    async with db.system_session() as session:  # the system: it looks across organizations
        rows = await session.execute(
            text(
                """
                SELECT c.organization_id, m.fingerprint FROM categories c
                LEFT JOIN triage_models m ON m.organization_id = c.organization_id
                WHERE c.is_active IS NOT FALSE
                GROUP BY c.organization_id, m.fingerprint HAVING count(*) >= :min
                UNION
                SELECT organization_id, fingerprint FROM triage_models
                """
            ),
            {"min": triage.MIN_CATEGORIES},
        )
        deferred = 0
        for org, stored in rows.all():
            if stored is None or stored != await triage.fingerprint(session, org):
                await _defer_training(session, train_triage_model, org)
                deferred += 1
    return deferred


@app.periodic(cron="17 * * * *", periodic_id="retrain-triage-models")
@app.task(name="retrain_triage_models", queue=QUEUE)
async def retrain_triage_models(timestamp: int) -> None:
    await defer_retrains()
