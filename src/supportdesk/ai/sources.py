"""What the auto-responder reads of the knowledge base: the documents linked to a ticket's category,
and of a public document its version, its passages closest to the ticket, its title and its text. Public
documents only, each query saying so: what it quotes reaches a customer."""

import uuid
from datetime import datetime

from sqlalchemy import text

from supportdesk.knowledge.vectors import to_literal

# Passages of the chosen document an answer quotes (the LLM gets them all).
PASSAGES = 2
# A document not split into passages yet (its indexing job has not run) is quoted from its opening.
OPENING_CHARS = 1500


async def linked_documents(session, organization_id, category_id: uuid.UUID | None) -> set[str]:
    if category_id is None:
        return set()
    rows = await session.scalars(
        text(
            "SELECT document_id::text FROM document_categories"
            " WHERE category_id = :c AND organization_id = :org"
        ),
        {"c": category_id, "org": organization_id},
    )
    return set(rows.all())


async def public_version(session, organization_id, document_id: str, *, lock: bool = False):
    """The document's updated_at while it is public (None when private or gone); with `lock`, it stays so
    until the transaction ends (an edit waits for the answer being posted)."""
    return await session.scalar(
        text(
            "SELECT updated_at FROM documents WHERE id = :d AND organization_id = :org AND is_public IS TRUE"
            + (" FOR SHARE" if lock else "")
        ),
        {"d": uuid.UUID(document_id), "org": organization_id},
    )


async def passages(session, organization_id, document_id: str, version: datetime | None, vector) -> list[str]:
    """The chosen document's passages closest to the ticket, split from its version `version` (its
    updated_at while public: None, none), public ones of a public document only; its opening while the
    indexing job has not split that version yet. A passage of an older version may hold a sentence an
    edit removed, wrong or sensitive: it is never quoted."""
    if version is None:
        return []
    public = {"d": uuid.UUID(document_id), "org": organization_id, "version": version}
    rows = await session.scalars(
        text(
            "SELECT p.content FROM document_passages p JOIN documents d ON d.id = p.document_id"
            " WHERE p.document_id = :d AND p.organization_id = :org AND p.is_public AND d.is_public IS TRUE"
            " AND p.document_version = :version"
            " ORDER BY p.embedding <=> CAST(:v AS vector) NULLS LAST, p.position LIMIT :n"
        ),
        {**public, "v": to_literal(vector), "n": PASSAGES},
    )
    passages = [passage.strip() for passage in rows.all() if passage.strip()]
    if not passages:
        content = await session.scalar(
            text(
                "SELECT content FROM documents WHERE id = :d AND organization_id = :org AND is_public IS TRUE"
                " AND updated_at = :version"
            ),
            public,
        )
        passages = [opening(content)] if content and content.strip() else []
    return passages


def opening(content: str) -> str:
    """A document's first OPENING_CHARS, cut after a sentence when one ends in the second half."""
    content = content.strip()
    if len(content) <= OPENING_CHARS:
        return content
    cut = max(content.rfind(end, OPENING_CHARS // 2, OPENING_CHARS) for end in (". ", "\n"))
    return content[: cut + 1].strip() if cut > 0 else content[:OPENING_CHARS].strip() + " …"


async def titles(session, organization_id, document_ids: list[str]) -> dict[str, str]:
    rows = await session.execute(
        text(
            "SELECT id::text AS id, title FROM documents"
            " WHERE id = ANY(:ids) AND organization_id = :org AND is_public IS TRUE"
        ),
        {"ids": [uuid.UUID(d) for d in document_ids], "org": organization_id},
    )
    return {row.id: row.title for row in rows}


async def public_text(session, organization_id, document_id: str) -> str:
    """A public document's title and content ("" for one no longer public)."""
    row = (
        await session.execute(
            text(
                "SELECT title, content FROM documents"
                " WHERE id = :d AND organization_id = :org AND is_public IS TRUE"
            ),
            {"d": uuid.UUID(document_id), "org": organization_id},
        )
    ).one_or_none()
    return f"{row.title}\n{row.content}" if row else ""
