"""Snippets: each search hit's passage, shortened around the matched words, as HTML."""

import html
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.knowledge.search import PassageSearch

# One or two short fragments of the best passage, the matched words in <mark>.
SNIPPET_OPTIONS = (
    'StartSel="\x02", StopSel="\x03", MaxWords=25, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "'
)
# ... and what stands for "<" in the text ts_headline reads (see snippets).
OPEN_BRACKET = "\x04"


async def snippets(session: AsyncSession, search: PassageSearch) -> dict[uuid.UUID, str]:
    """Each hit's passage, shortened around the matched words, as HTML: its text escaped and the
    matches in <mark>…</mark>.

    ts_headline's parser reads "<…>" as an XML tag and leaves it out ("refund --id <ORDER_ID>" came out
    as "refund --id"), so every "<" goes in as OPEN_BRACKET, which it keeps as it is, and comes back
    as an escaped "<"; the marks and that stand-in are taken out of the text first."""
    if not search.hits:
        return {}
    rows = await session.execute(
        text(
            "SELECT p.id, ts_headline('english', translate(p.content, E'\\x02\\x03\\x04<', E'   \\x04'),"
            " websearch_to_tsquery('english', :query), :options) AS headline"
            " FROM document_passages p WHERE p.id = ANY(:ids)"
        ),
        {"query": search.query, "options": SNIPPET_OPTIONS, "ids": [hit.passage_id for hit in search.hits]},
    )
    return {row.id: _marked_html(row.headline) for row in rows}


def _marked_html(headline: str) -> str:
    escaped = html.escape(" ".join(headline.split()), quote=False)
    return escaped.replace(OPEN_BRACKET, "&lt;").replace("\x02", "<mark>").replace("\x03", "</mark>")
