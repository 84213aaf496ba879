"""Ticket triage in production: each organization's model, trained from its own data, stored in
`triage_models`, and the decision it takes on a new ticket.

Training examples, per active category: its name and description; the title and first passage of
each document (public or private) linked to it; and the title and description of past tickets a human
put in it (a ticket whose category differs from the one triage set, `ai_category_id`). Out of scope: the
past tickets a person said no category fits (`no_category_fits`). With fewer than two active
categories there is no model, and triage sets no category.

The same functions serve the background jobs (`supportdesk.ai.jobs`) and `supportdesk eval classify`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db, jobs
from supportdesk.ai import classifier, criticality, embeddings, training
from supportdesk.ai.stored_models import ModelStore, training_turn

# The most recent human-categorized tickets a model learns from (training cost grows with them).
MAX_TICKET_EXAMPLES = 20_000
FIRST_PASSAGE_CHARS = 600
MIN_CATEGORIES = 2


def ticket_text(title: str | None, description: str | None) -> str:
    """The text a ticket is classified and answered by (and a past ticket learned from): the title,
    then the description; only the description when it starts with the title (said once is enough)."""
    title, description = (title or "").strip(), (description or "").strip()
    if description.startswith(title):
        return description
    return f"{title}\n{description}".strip()


def _first_passage(content: str) -> str:
    for paragraph in (content or "").split("\n\n"):
        if paragraph.strip():
            return paragraph.strip()[:FIRST_PASSAGE_CHARS]
    return ""


# The tickets people categorized: put in a category other than triage's, or found to fit none.
_CATEGORIZED_BY_PEOPLE = (
    "(no_category_fits OR (category_id IS NOT NULL AND category_id IS DISTINCT FROM ai_category_id))"
)

# A summary of everything a model learns from: when it differs from the stored model's, retrain.
_FINGERPRINT = text(
    f"""
    SELECT md5(
        coalesce((SELECT string_agg(id::text || ':' || name || ':' || coalesce(description, ''), ','
                                    ORDER BY id)
                  FROM categories WHERE organization_id = :org AND is_active IS NOT FALSE), '')
        || '|' ||
        (SELECT count(*)::text || ':' || coalesce(max(d.updated_at)::text, '')
                || ':' || coalesce(sum(hashtext(dc.document_id::text || dc.category_id::text)), 0)::text
         FROM document_categories dc JOIN documents d ON d.id = dc.document_id
         WHERE d.organization_id = :org)
        || '|' ||
        (SELECT count(*)::text || ':'
                || coalesce(sum(hashtext(id::text || coalesce(category_id::text, 'none'))), 0)::text
         FROM tickets WHERE organization_id = :org AND {_CATEGORIZED_BY_PEOPLE})
    )
    """
)


async def fingerprint(session: AsyncSession, organization_id: uuid.UUID) -> str:
    return str(await session.scalar(_FINGERPRINT, {"org": organization_id}))


@dataclass
class Examples:
    texts: list[str]
    labels: list[str]  # category ids, or classifier.OOS: no category fits
    names: dict[str, str]  # category id -> name
    counts: dict[str, int]  # source -> number of examples
    past_tickets: list[bool]  # per row: a ticket (rather than a category's or a document's words)


async def training_examples(session: AsyncSession, organization_id: uuid.UUID) -> Examples:
    """The organization's examples (in a session scoped to it): each active category's name and
    description, the documents linked to it, and the tickets people categorized (or said none fits)."""
    org = {"org": organization_id}
    categories = (await session.execute(_ACTIVE_CATEGORIES, org)).all()
    names = {c.id: c.name for c in categories}
    described = [(f"{c.name}. {c.description}" if c.description else c.name, c.id) for c in categories]
    documents = [
        (ticket_text(d.title, _first_passage(d.content)), d.category_id)
        for d in await session.execute(_LINKED_DOCUMENTS, org)
        if d.category_id in names
    ]
    tickets = [
        (ticket_text(t.title, t.description), classifier.OOS if t.no_category_fits else t.category_id)
        for t in await session.execute(_CATEGORIZED_TICKETS, {**org, "limit": MAX_TICKET_EXAMPLES})
        if t.no_category_fits or t.category_id in names
    ]
    rows = described + documents + tickets
    out_of_scope = sum(label == classifier.OOS for _, label in tickets)
    counts = {
        "categories": len(described),
        "documents": len(documents),
        "tickets": len(tickets) - out_of_scope,
        "out_of_scope_tickets": out_of_scope,
    }
    past_tickets = [i >= len(described) + len(documents) for i in range(len(rows))]
    return Examples([t for t, _ in rows], [label for _, label in rows], names, counts, past_tickets)


_ACTIVE_CATEGORIES = text(
    "SELECT id::text AS id, name, description FROM categories"
    " WHERE organization_id = :org AND is_active IS NOT FALSE ORDER BY id"
)
_LINKED_DOCUMENTS = text(
    "SELECT dc.category_id::text AS category_id, d.title, d.content FROM document_categories dc"
    " JOIN documents d ON d.id = dc.document_id WHERE d.organization_id = :org"
    # in a fixed order: the calibration split follows it, and the rows' places on disk change
    " ORDER BY d.id, dc.category_id"
)
_CATEGORIZED_TICKETS = text(
    "SELECT category_id::text AS category_id, no_category_fits, title, description FROM tickets"
    f" WHERE organization_id = :org AND {_CATEGORIZED_BY_PEOPLE}"
    # the newest first, ties by id: which tickets are kept, and the calibration split, are fixed
    " ORDER BY created_at DESC, id DESC LIMIT :limit"
)


@dataclass
class Trained:
    version: int
    labels: dict[str, str]
    metrics: dict


STORE = ModelStore("triage_models", classifier.loads)


async def train_organization(
    organization_id: uuid.UUID, *, force: bool = False, patience: float | None = None
) -> Trained | None:
    """Train and store the organization's model when what it learns from changed (or `force`), waiting
    at most `patience` seconds for another training of the process (`stored_models.TrainingBusy`).

    Returns None when the organization has fewer than two active categories (its old model, if any,
    is dropped), when the stored model is up to date, or when the organization was deleted meanwhile.
    """
    async with training_turn(patience):
        async with db.tenant_session(organization_id) as session:
            current = await fingerprint(session, organization_id)
            if not force and await STORE.is_current(session, organization_id, current):
                return None
            examples = await training_examples(session, organization_id)
            if len(examples.names) < MIN_CATEGORIES:
                await STORE.delete(session, organization_id)
                return None
            previous = await STORE.load(session, organization_id)  # None if unreadable
        # CPU-bound: off the event loop, outside any transaction. Only texts the previous model did not
        # have are embedded: 20,000 past tickets take ~150 s of CPU, and a correction retrains.
        model = await jobs.in_thread_until_stopping(_train, examples, previous)
        metrics = {
            **model.info,
            "examples": examples.counts,
            "thresholds": [a.threshold for a in model.abstentions],
        }
        async with db.tenant_session(organization_id) as session:
            version = await STORE.save(
                session,
                organization_id,
                model,
                classifier.dumps(model),
                current,
                labels=examples.names,
                metrics=metrics,
            )
        return None if version is None else Trained(version, examples.names, metrics)


def _train(examples: Examples, previous: classifier.TriageModel | None) -> classifier.TriageModel:
    texts = [classifier.normalize_text(text) for text in examples.texts]
    vectors = embeddings.embed_new(texts, {} if previous is None else previous.embedded)
    return training.train(texts, examples.labels, examples=examples.past_tickets, vectors=vectors)


async def load_model(session: AsyncSession, organization_id: uuid.UUID) -> classifier.TriageModel | None:
    """The organization's latest model, or None (none stored, or stored by an incompatible version)."""
    return await STORE.load(session, organization_id)


@dataclass
class Decision:
    category_id: str | None  # None: out of scope (or no model)
    confidence: float | None
    best_category_id: str | None


def decide(model: classifier.TriageModel, texts: list[str]) -> list[Decision]:
    """The category (or none) for each text: the model's prediction and its calibrated threshold."""
    return [Decision(p.label, p.confidence, p.best) for p in classifier.classify(model, texts)]


def raised_criticality(current: str | None, ticket_text_: str) -> str | None:
    """The criticality the text calls for, when it is above `current`; else None (never lower)."""
    estimated = criticality.estimate(ticket_text_).level
    levels = criticality.LEVELS
    if current in levels and levels.index(estimated) <= levels.index(current):
        return None
    return estimated
