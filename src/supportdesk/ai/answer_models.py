"""Each organization's answer model (see `answers`): learned from its public documents and the tickets
people marked, stored (`answer_models`), and trained again when they change."""

from __future__ import annotations

import functools
import io
import pickle
import uuid

import numpy as np
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk import db, jobs
from supportdesk.ai import answers, classifier
from supportdesk.ai.stored_models import ModelStore, training_turn
from supportdesk.ai.triage import ticket_text

FORMAT_VERSION = 4
MAGIC = b"SDANSWER"
# The most recent tickets marked with the document that answers them (or none) a model learns from.
MAX_MARKS = 5_000


def dumps(model: answers.AnswerModel) -> bytes:
    buf = io.BytesIO()
    buf.write(MAGIC)
    buf.write(FORMAT_VERSION.to_bytes(2, "big"))
    vectors = model.vectors.astype(np.float16)
    fields = (model.documents, vectors, model.owners, model.sentences, model.weights, model.biases)
    pickle.dump(fields, buf, protocol=pickle.HIGHEST_PROTOCOL)
    return buf.getvalue()


def loads(data: bytes) -> answers.AnswerModel:
    """Load bytes written by `dumps` (only from our own storage: this unpickles)."""
    header = len(MAGIC) + 2
    if not data.startswith(MAGIC) or int.from_bytes(data[len(MAGIC) : header], "big") != FORMAT_VERSION:
        raise classifier.IncompatibleModel("answer model of another format: retrain")
    return answers.AnswerModel(*pickle.loads(data[header:]))


STORE = ModelStore("answer_models", loads)

_PUBLIC_DOCUMENTS = text(
    "SELECT id::text AS id, title, content FROM documents"
    " WHERE organization_id = :org AND is_public IS TRUE ORDER BY id"
)
# The tickets a person marked with the document that answers them, or with none (`no_document_answers`).
_MARKED = "organization_id = :org AND (answer_document_id IS NOT NULL OR no_document_answers)"
_MARKS = text(
    "SELECT answer_document_id::text AS document_id, title, description FROM tickets"
    f" WHERE {_MARKED} ORDER BY updated_at DESC LIMIT :limit"
)
# What the model learns from, summarized: when it differs from the stored model's, retrain. Two parts:
# the public documents (checked before every answer: a document made private must never be cited) and,
# after a '|', the marked tickets (learned by the training their marking defers, not by an answer that
# would otherwise read them all first). Without marks it reads as before there were any.
_DOCUMENTS_FINGERPRINT = text(
    "SELECT md5(coalesce(string_agg(id::text || ':' || updated_at::text, ',' ORDER BY id), ''))"
    " FROM documents WHERE organization_id = :org AND is_public IS TRUE"
)
_MARKS_FINGERPRINT = text(
    "SELECT count(*) || ':' || sum(hashtext(id::text || coalesce(answer_document_id::text, 'none')))"
    f" FROM tickets WHERE {_MARKED} HAVING count(*) > 0"
)


async def fingerprint(
    session: AsyncSession, organization_id: uuid.UUID, *, documents_only: bool = False
) -> str:
    org = {"org": organization_id}
    documents = str(await session.scalar(_DOCUMENTS_FINGERPRINT, org))
    marks = None if documents_only else await session.scalar(_MARKS_FINGERPRINT, org)
    return documents if marks is None else f"{documents}|{marks}"


async def _is_current(
    session: AsyncSession, organization_id: uuid.UUID, current: str, *, documents_only: bool
) -> bool:
    """Whether the stored model was trained from what `current` summarizes (its documents' part only,
    with `documents_only`)."""
    stored = await STORE.stored(session, organization_id)
    if stored is None:
        return False
    if documents_only:
        return stored.fingerprint.split("|")[0] == current.split("|")[0]
    return stored.fingerprint == current


async def train_organization(
    organization_id: uuid.UUID,
    *,
    force: bool = False,
    documents_only: bool = False,
    patience: float | None = None,
) -> int | None:
    """Train and store the organization's answer model when its public documents or its marked tickets
    changed (with `documents_only`, only when its documents did; or `force`), waiting at most `patience`
    seconds for another training of the process (`stored_models.TrainingBusy`); returns the new version,
    or None (up to date, no public document: model dropped, or the organization deleted meanwhile)."""
    if not force and await _up_to_date(organization_id, documents_only):
        return None  # without waiting for the training lock (another organization may hold it)
    async with training_turn(patience):
        async with db.tenant_session(organization_id) as session:
            current = await fingerprint(session, organization_id)
            if not force and await _is_current(
                session, organization_id, current, documents_only=documents_only
            ):
                return None
            rows = (await session.execute(_PUBLIC_DOCUMENTS, {"org": organization_id})).all()
            if not rows:
                await STORE.delete(session, organization_id)
                return None
            marked = (await session.execute(_MARKS, {"org": organization_id, "limit": MAX_MARKS})).all()
            previous = await STORE.load(session, organization_id)  # None if unreadable
        documents = [(row.id, row.title, row.content) for row in rows]
        marks = [(row.document_id, ticket_text(row.title, row.description)) for row in marked]
        model = await jobs.in_thread_until_stopping(answers.train, documents, previous, marks)
        async with db.tenant_session(organization_id) as session:
            return await STORE.save(
                session,
                organization_id,
                model,
                dumps(model),
                current,
                documents={row.id: row.title for row in rows},
            )


async def _up_to_date(organization_id: uuid.UUID, documents_only: bool) -> bool:
    async with db.tenant_session(organization_id) as session:
        current = await fingerprint(session, organization_id, documents_only=documents_only)
        return await _is_current(session, organization_id, current, documents_only=documents_only)


async def current_model(organization_id: uuid.UUID) -> answers.AnswerModel | None:
    """The answer model of the organization's public documents as they are now (retrained first when
    they changed since); None when it has none. A document made private since is never in it. Tickets
    marked since are learned by the training their marking deferred, not here."""
    return await STORE.trained(organization_id, functools.partial(train_organization, documents_only=True))
