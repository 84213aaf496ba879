"""The auto-responder: for a new ticket, or a customer's follow-up, answer from the knowledge base when
sure, else leave agents a suggested reply, else stay silent. One decision per ticket text, recorded in
`auto_answers` (unique per source: a job run twice decides once).

- Answered (`confidence >= auto_response_threshold`): a public message with `is_auto_response = true`
  quoting the best public passage of the chosen document (or an LLM's phrasing of it, see `llm`) and
  citing it; the ticket then waits on the customer (`pending`). Their reply reopens it for a person, and
  a follow-up to an automatic answer is never answered automatically again. The ticket stays where it is
  (for a person) when the customer wrote more than the answered text: a follow-up answered while the
  ticket's own question waits for a person, or one posted while that question was being answered.
- Suggested (`SUGGEST_MIN <= confidence < threshold`): an internal note with the reply it would have sent
  and its sources. Also when what the customer wrote on the ticket (its title, its description and each
  follow-up so far) gives the assistant instructions ("ignore previous instructions and …", "print your
  system prompt") or reports something severe (criticality high or critical from that text: an outage,
  lost data, a security problem, a double charge), or when the ticket's criticality is high or critical
  (triage, a person, a breach): whatever it would answer, a person reads it first. A harmless follow-up
  on a severe ticket is still the severe ticket's. And when the question asks for the opposite of what
  the chosen document describes (`opposites`: import and export), the customer says the documented way
  already failed or asks for what only staff have (`escalations`), or the ticket's category links another
  document its text could mean (`answers.category_disagrees`).
- Quoted: the chosen document's passages closest to the ticket, of its current version only (else its
  opening): a sentence an edit removed is never sent, not even while the indexing job has not run.
- Declined: out of scope, no public document, a person already replied, or the ticket is not open; and
  when, while the answer was prepared, a person replied, the customer wrote again, or the quoted
  document was edited, made private or deleted (the answer is posted with the document locked as it was
  read).

What reaches a customer comes only from public documents: the answer model holds public documents
only, and the passage query reads public passages of a public document. The ticket's own text is only
ever used to search; internal notes are never read.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, text

from supportdesk import db
from supportdesk.ai import answer_models, answers, classifier, criticality, embeddings, llm, sources
from supportdesk.ai.escalations import needs_a_person
from supportdesk.ai.instructions import gives_instructions
from supportdesk.ai.opposites import asked_opposite
from supportdesk.ai.triage import ticket_text
from supportdesk.audit.service import record
from supportdesk.messages.store import add_message
from supportdesk.tickets.models import Ticket
from supportdesk.tickets.references import lock_referenced
from supportdesk.tickets.states import Status
from supportdesk.tickets.system_changes import move_ticket

log = logging.getLogger(__name__)

# A ticket whose text reads this critical is an incident for a person, however well a document matches it
# ("All our projects disappeared overnight" was answered with the export how-to).
SEVERE_LEVELS = ("high", "critical")
# Documents a suggestion lists (the first is the one it quotes).
SOURCES = 3
ANSWERABLE_STATUSES = (Status.NEW, Status.OPEN)
FOOTER = (
    "This is an automatic answer from our help center. If it does not solve your problem, reply to this"
    " message and a member of our team will take over."
)


@dataclass
class Decision:
    outcome: str  # answered | suggested | declined
    reason: str
    threshold: float
    confidence: float | None = None
    candidates: list[answers.Candidate] = field(default_factory=list)
    content: str | None = None  # the answer or the suggestion's text
    quoted_version: datetime | None = None  # the quoted document's updated_at when its passages were read


async def respond(
    organization_id: uuid.UUID, ticket_id: uuid.UUID, message_id: uuid.UUID | None = None
) -> Decision | None:
    """Decide on the ticket's text (`message_id` None) or the customer's follow-up `message_id`, and
    record it (at most once). Returns the Decision, or None when it was decided already."""
    async with db.tenant_session(organization_id) as session:
        state = await _state(session, organization_id, ticket_id, message_id)
    if state is None:
        return None
    decision = _precheck(state)
    if decision is None:
        model = await answer_models.current_model(organization_id)
        decision = await _decide(organization_id, state, model)
    async with db.tenant_session(organization_id) as session:
        return await _record(session, organization_id, ticket_id, message_id, decision, state.follow_ups)


@dataclass
class _State:
    status: str
    query: str  # what is searched: the ticket's text, or its title and the follow-up
    customer_text: str  # all the customer wrote on the ticket: what the instructions and severity read
    follow_ups: int  # how many messages the customer had posted on the ticket when it was read
    criticality: str
    category_id: uuid.UUID | None
    human_replied: bool
    answered_before: bool
    threshold: float
    follow_up: bool


# What the customer wrote on a ticket after opening it: its follow-ups.
_CUSTOMER_MESSAGES = (
    "FROM messages WHERE ticket_id = :t AND organization_id = :org"
    " AND customer_id IS NOT NULL AND is_internal IS NOT TRUE"
)
_FOLLOW_UPS = text(f"SELECT id, content {_CUSTOMER_MESSAGES} ORDER BY created_at, id")
_TICKET_STATE = text(
    "SELECT t.status, t.title, t.description, t.category_id, t.first_response_at, t.criticality,"
    " o.auto_response_threshold, EXISTS (SELECT 1 FROM auto_answers a"
    "   WHERE a.ticket_id = t.id AND a.outcome = 'answered') AS answered_before"
    " FROM tickets t JOIN organizations o ON o.id = t.organization_id"
    " WHERE t.id = :t AND t.organization_id = :org"
)


async def _decided(session, organization_id, ticket_id: uuid.UUID, message_id: uuid.UUID | None) -> bool:
    return bool(
        await session.scalar(
            text(
                "SELECT EXISTS (SELECT 1 FROM auto_answers WHERE ticket_id = :t AND organization_id = :org"
                " AND source_message_id IS NOT DISTINCT FROM :m)"
            ),
            {"t": ticket_id, "org": organization_id, "m": message_id},
        )
    )


async def _state(session, organization_id, ticket_id, message_id) -> _State | None:
    if await _decided(session, organization_id, ticket_id, message_id):
        return None
    ids = {"t": ticket_id, "org": organization_id}
    ticket = (await session.execute(_TICKET_STATE, ids)).one_or_none()
    if ticket is None:
        return None
    follow_ups = dict((await session.execute(_FOLLOW_UPS, ids)).all())
    if message_id is not None and message_id not in follow_ups:
        return None
    question = ticket_text(ticket.title, ticket.description)
    query = question if message_id is None else ticket_text(ticket.title, follow_ups[message_id])
    # Follow-ups posted before the ticket's own question is answered (which waits for triage) are read too.
    customer_text = "\n".join([question, *follow_ups.values()])
    return _State(
        status=ticket.status,
        query=query,
        customer_text=customer_text,
        follow_ups=len(follow_ups),
        criticality=ticket.criticality,
        category_id=ticket.category_id,
        human_replied=ticket.first_response_at is not None,
        answered_before=ticket.answered_before,
        threshold=float(ticket.auto_response_threshold),
        follow_up=message_id is not None,
    )


def _precheck(state: _State) -> Decision | None:
    """A decline that needs no model, or None."""
    reason = None
    if state.follow_up and state.answered_before:
        reason = "reply_to_automatic_answer"  # it did not help, or needs more: a person takes over
    elif state.human_replied:
        reason = "human_replied"
    elif state.status not in ANSWERABLE_STATUSES:
        reason = "ticket_not_open"
    return Decision("declined", reason, state.threshold) if reason else None


async def _decide(organization_id: uuid.UUID, state: _State, model: answers.AnswerModel | None) -> Decision:
    if model is None:
        return Decision("declined", "no_public_documents", state.threshold)
    vector = await asyncio.to_thread(embeddings.embed_one, classifier.normalize_text(state.query))
    async with db.tenant_session(organization_id) as session:
        linked = await sources.linked_documents(session, organization_id, state.category_id)
        candidates = answers.rank(model, vector, linked, state.query)[:SOURCES]
        best = candidates[0]
        version = await sources.public_version(session, organization_id, best.document_id)
        passages = await sources.passages(session, organization_id, best.document_id, version, vector)
        titles = await sources.titles(session, organization_id, [c.document_id for c in candidates])
        # what the opposite-action check reads, for an answer that would be sent only
        confident = best.confidence >= state.threshold
        described = await sources.public_text(session, organization_id, best.document_id) if confident else ""
    decision = Decision(
        "declined", "out_of_scope", state.threshold, best.confidence, candidates, quoted_version=version
    )
    if best.confidence < answers.SUGGEST_MIN:
        return decision
    if not passages or best.document_id not in titles:  # made private or deleted since the model was built
        decision.reason = "document_unavailable"
        return decision
    title = titles[best.document_id]
    answer = _cite(passages[0], title)
    decision.reason = "below_threshold"
    if confident and (held := _held_for_a_person(state, described, candidates)):
        confident, decision.reason = False, held
    if confident and llm.configured():
        phrased = await _phrased(state.query, passages)
        if phrased is None:
            confident, decision.reason = False, "llm_found_no_answer"
        elif phrased:
            answer = _cite(phrased, title)
    if confident:
        decision.outcome, decision.reason, decision.content = "answered", "confident", f"{answer}\n\n{FOOTER}"
    else:
        decision.outcome, decision.content = "suggested", _suggestion(decision, answer, titles)
    return decision


def _held_for_a_person(state: _State, described: str, candidates: list[answers.Candidate]) -> str | None:
    """Why an answer confident enough is left to a person all the same, or None."""
    if gives_instructions(state.customer_text):
        return "instructions_to_the_assistant"
    if asked_opposite(state.query, described):
        return "opposite_action"
    if state.criticality in SEVERE_LEVELS or criticality.estimate(state.customer_text).level in SEVERE_LEVELS:
        return "severe"
    if answers.category_disagrees(candidates):
        return "category_disagrees"
    return needs_a_person(state.customer_text)


async def _phrased(query: str, passages: list[str]) -> str | None:
    """The chat model's answer from the passages; None when it says they hold none; "" (quote the
    passage instead) when it fails or writes a link, code or number the passages do not hold."""
    try:
        phrased = await llm.phrase(query, passages)
    except llm.LLMError as error:
        log.warning("auto-answer: %s; quoting the passage instead", error)
        return ""
    if phrased is not None and not llm.grounded(phrased, passages):
        log.warning(
            "auto-answer: the chat model wrote a link, code or number not in the passages;"
            " quoting the passage instead"
        )
        return ""
    return phrased


def _cite(answer: str, title: str) -> str:
    return f"{answer}\n\nSource: {title}"


# Why a suggestion was not sent, for the agent reading it, by the decision's reason.
WHY_NOT_SENT = {
    "instructions_to_the_assistant": "not sent: the ticket gives the assistant instructions",
    "severe": "not sent: the ticket reports something severe",
    "opposite_action": "not sent: the question asks for the opposite of what the document describes",
    "already_failed": "not sent: the customer says the documented way already failed",
    "staff_only": "not sent: the customer asks for what only staff have",
    "category_disagrees": "not sent: a document of the ticket's category may answer it instead",
    "llm_found_no_answer": "not sent: the chat model found no answer in the passages",
}


def _suggestion(decision: Decision, answer: str, titles: dict[str, str]) -> str:
    sources = "\n".join(
        f"- {titles[c.document_id]} (confidence {c.confidence:.2f})"
        for c in decision.candidates
        if c.document_id in titles
    )
    why = WHY_NOT_SENT.get(decision.reason, f"answers go out automatically from {decision.threshold:.2f}")
    return (
        f"Suggested reply (confidence {decision.confidence:.2f}; {why}):\n\n{answer}\n\nSources:\n{sources}"
    )


async def _record(session, organization_id, ticket_id, message_id, decision: Decision, follow_ups_read: int):
    await lock_referenced(session, organization_id, ticket_id)
    ticket = await session.scalar(
        select(Ticket)
        .where(Ticket.id == ticket_id, Ticket.organization_id == organization_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if ticket is None or await _decided(session, organization_id, ticket_id, message_id):
        return None
    if decision.outcome == "answered":
        reason = await _why_not_send(session, ticket, decision, follow_ups_read)
        if reason is not None:
            decision.outcome, decision.reason, decision.content = "declined", reason, None
    now = datetime.now(UTC)
    posted = None
    if decision.content is not None:
        posted = await add_message(
            session,
            organization_id,
            ticket_id,
            decision.content,
            now=now,
            is_internal=decision.outcome != "answered",
            is_auto_response=decision.outcome == "answered",
        )
    await _save_decision(session, ticket, message_id, decision, posted, now)
    if decision.outcome == "answered":
        await _answered(session, ticket, message_id, decision, posted, follow_ups_read, now)
    return decision


async def _answered(
    session, ticket: Ticket, message_id, decision: Decision, posted, follow_ups_read: int, now: datetime
) -> None:
    """What an answer posted changes: the ticket waits on the customer only when the answer covers all
    they wrote (as read: the count was checked under the lock). A follow-up is answered only when what
    came before it was not (a reply to an automatic answer goes to a person), and one posted before the
    ticket's own question was decided is a question of its own: with the ticket `pending`, neither would
    be in the queue."""
    if message_id is None and follow_ups_read == 0:
        await move_ticket(session, None, ticket, Status.PENDING, now)
    await record(
        session,
        None,
        "ticket.auto_answered",
        "ticket",
        ticket.id,
        organization_id=ticket.organization_id,
        after={
            "message_id": str(posted.id),
            "confidence": decision.confidence,
            "document_id": decision.candidates[0].document_id,
        },
    )


async def _why_not_send(session, ticket: Ticket, decision: Decision, follow_ups_read: int) -> str | None:
    """Why an answer prepared (a chat model can take 30 s) must not be sent now, on the locked ticket."""
    if ticket.status not in ANSWERABLE_STATUSES or ticket.first_response_at is not None:
        return "ticket_changed"  # a person replied, or the ticket moved, meanwhile: let it be
    customer_messages = await session.scalar(
        text(f"SELECT count(*) {_CUSTOMER_MESSAGES}"), {"t": ticket.id, "org": ticket.organization_id}
    )
    if customer_messages != follow_ups_read:
        return "ticket_changed"  # the customer wrote again: what they wrote (instructions, an outage) unread
    quoted = decision.candidates[0].document_id
    version = await sources.public_version(session, ticket.organization_id, quoted, lock=True)
    if decision.quoted_version != version:
        # Edited, made private or deleted meanwhile: it may quote what the customer must no longer read.
        return "document_changed"
    return None


async def _save_decision(
    session, ticket: Ticket, message_id: uuid.UUID | None, decision: Decision, posted, now: datetime
) -> None:
    """The decision in `auto_answers`: one per ticket text, with the documents it weighed."""
    await session.execute(
        text(
            "INSERT INTO auto_answers (id, organization_id, ticket_id, source_message_id, outcome, reason,"
            " confidence, threshold, document_ids, message_id, created_at)"
            " VALUES (:id, :org, :t, :m, :outcome, :reason, :confidence, :threshold, :docs, :posted, :now)"
        ),
        {
            "id": uuid.uuid4(),
            "org": ticket.organization_id,
            "t": ticket.id,
            "m": message_id,
            "outcome": decision.outcome,
            "reason": decision.reason,
            "confidence": decision.confidence,
            "threshold": decision.threshold,
            "docs": [uuid.UUID(c.document_id) for c in decision.candidates],
            "posted": posted.id if posted else None,
            "now": now,
        },
    )
