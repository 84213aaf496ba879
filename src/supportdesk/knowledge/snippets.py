"""Snippets: each search hit's passage, shortened around the matched words, as HTML."""

import html
import uuid
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.knowledge.search import PassageSearch

# One or two short fragments of the best passage, the matched words in <mark>.
SNIPPET_OPTIONS = (
    'StartSel="\x02", StopSel="\x03", MaxWords=25, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "'
)
# ... and what stands for "<" in the text ts_headline reads (see snippets).
OPEN_BRACKET = "\x04"
_HEADLINE = (
    "ts_headline('english', translate(p.content, E'\\x02\\x03\\x04<', E'   \\x04'),"
    " websearch_to_tsquery('english', :query), :options) AS headline"
)
_OF_PASSAGES = text(f"SELECT p.id AS key, {_HEADLINE} FROM document_passages p WHERE p.id = ANY(:ids)")
# A document's best passage for the query (any, for a hit the vectors alone found).
_OF_DOCUMENTS = text(
    f"SELECT DISTINCT ON (p.document_id) p.document_id AS key, {_HEADLINE} FROM document_passages p"
    " WHERE p.document_id = ANY(:ids) AND (p.is_public OR NOT :public_only) ORDER BY p.document_id,"
    " ts_rank(p.search_vector, websearch_to_tsquery('english', :query)) DESC, p.position"
)


async def snippets(
    session: AsyncSession, search: PassageSearch, *, public_only: bool
) -> dict[uuid.UUID, str]:
    """Each hit's passage, shortened around the matched words, as HTML: its text escaped and the
    matches in <mark>…</mark>. A passage a re-index replaced since the search read it (the same text
    under a new id) gives way to its document's best passage now (a public one for `public_only`).

    ts_headline's parser reads "<…>" as an XML tag and leaves it out ("refund --id <ORDER_ID>" came out
    as "refund --id"), so every "<" goes in as OPEN_BRACKET, which it keeps as it is, and comes back
    as an escaped "<"; the marks and that stand-in are taken out of the text first."""
    if not search.hits:
        return {}
    found = await _headlines(session, _OF_PASSAGES, search.query, ids=[hit.passage_id for hit in search.hits])
    replaced = [hit for hit in search.hits if hit.passage_id not in found]
    if replaced:
        ids = [hit.document_id for hit in replaced]
        now = await _headlines(session, _OF_DOCUMENTS, search.query, ids=ids, public_only=public_only)
        found |= {hit.passage_id: now[hit.document_id] for hit in replaced if hit.document_id in now}
    return found


async def _headlines(
    session: AsyncSession, statement: TextClause, query: str, **values: Any
) -> dict[uuid.UUID, str]:
    rows = await session.execute(statement, {"query": query, "options": SNIPPET_OPTIONS, **values})
    return {row.key: _marked_html(row.headline) for row in rows}


def _marked_html(headline: str) -> str:
    escaped = html.escape(" ".join(headline.split()), quote=False)
    return escaped.replace(OPEN_BRACKET, "&lt;").replace("\x02", "<mark>").replace("\x03", "</mark>")
