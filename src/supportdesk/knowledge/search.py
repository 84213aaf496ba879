"""Ranking the knowledge base's passages for a query.

`search_passages` is the one ranking: full text now (websearch syntax, every term required, and any
term when that finds nothing), a category boost, and the best passage of each document. A hybrid
ranker adds a vector ranking of the same candidates (`embedding <=> :vector` on the HNSW index)
and fuses the two by reciprocal rank before the boost; callers keep the same answer.
"""

import html
import re
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Documents linked to the asked-for category have their score multiplied by this.
CATEGORY_BOOST = 2.0
# ts_rank_cd normalization: 1 divides by 1 + log(length), 32 maps the rank into [0, 1).
RANK_NORMALIZATION = 1 | 32
# The OR fallback reads at most this many words of the query.
ANY_TERM_MAX = 32
# Snippets: one or two short fragments of the best passage, the matched words in <mark>.
SNIPPET_OPTIONS = (
    'StartSel="\x02", StopSel="\x03", MaxWords=25, MinWords=10, MaxFragments=2, FragmentDelimiter=" … "'
)

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class PassageHit:
    """The best passage of one document: `score` orders the results; `text_score` is the full-text
    rank alone, in [0, 1), before the category boost."""

    passage_id: uuid.UUID
    document_id: uuid.UUID
    score: float
    text_score: float
    in_category: bool


@dataclass(frozen=True)
class PassageSearch:
    query: str  # the websearch query that found the hits: the user's, or its any-term fallback
    all_terms: bool
    hits: list[PassageHit]


def any_term_query(query: str) -> str | None:
    """The query as a websearch OR of its words; None when that would change nothing."""
    words = [word for word in _WORD.findall(query) if word.lower() != "or"][:ANY_TERM_MAX]
    return " or ".join(words) if len(words) > 1 else None


def _ranking_sql(*, public_only: bool, with_category: bool) -> str:
    # The public filter is written into the statement, not bound: no plan can lose it.
    visibility = "AND p.is_public" if public_only else ""
    in_category = (
        "EXISTS (SELECT 1 FROM document_categories c"
        " WHERE c.document_id = p.document_id AND c.category_id = :category_id)"
        if with_category
        else "false"
    )
    return f"""
        WITH matched AS (
            SELECT p.id AS passage_id, p.document_id,
                   ts_rank_cd(p.search_vector, q.query, {RANK_NORMALIZATION}) AS text_score,
                   {in_category} AS in_category
            FROM document_passages p, websearch_to_tsquery('english', :query) AS q(query)
            WHERE p.organization_id = :organization_id AND p.search_vector @@ q.query {visibility}
        ), scored AS (
            SELECT *, text_score * CASE WHEN in_category THEN :boost ELSE 1 END AS score FROM matched
        ), best_of_document AS (
            SELECT DISTINCT ON (document_id) * FROM scored ORDER BY document_id, score DESC, passage_id
        )
        SELECT passage_id, document_id, score, text_score, in_category
        FROM best_of_document ORDER BY score DESC, document_id LIMIT :limit
    """


async def _rank(
    session: AsyncSession,
    organization_id: uuid.UUID,
    query: str,
    *,
    category_id: uuid.UUID | None,
    public_only: bool,
    limit: int,
) -> list[PassageHit]:
    rows = await session.execute(
        text(_ranking_sql(public_only=public_only, with_category=category_id is not None)),
        {
            "organization_id": organization_id,
            "query": query,
            "category_id": category_id,
            "boost": CATEGORY_BOOST,
            "limit": limit,
        },
    )
    return [
        PassageHit(row.passage_id, row.document_id, float(row.score), float(row.text_score), row.in_category)
        for row in rows
    ]


async def search_passages(
    session: AsyncSession,
    organization_id: uuid.UUID,
    query: str,
    *,
    category_id: uuid.UUID | None,
    public_only: bool,
    limit: int,
) -> PassageSearch:
    """The best passage of each of the `limit` best documents for `query`, best first.

    Every term is required first (websearch_to_tsquery); when no passage has them all, any term
    will do. With `public_only`, passages of private documents are never read."""
    options = {"category_id": category_id, "public_only": public_only, "limit": limit}
    hits = await _rank(session, organization_id, query, **options)
    fallback = any_term_query(query)
    if hits or fallback is None:
        return PassageSearch(query, True, hits)
    return PassageSearch(fallback, False, await _rank(session, organization_id, fallback, **options))


async def snippets(session: AsyncSession, search: PassageSearch) -> dict[uuid.UUID, str]:
    """Each hit's passage, shortened around the matched words, as HTML: its text escaped and the
    matches in <mark>…</mark>."""
    if not search.hits:
        return {}
    rows = await session.execute(
        text(
            "SELECT p.id, ts_headline('english', translate(p.content, E'\\x02\\x03', '  '),"
            " websearch_to_tsquery('english', :query), :options) AS headline"
            " FROM document_passages p WHERE p.id = ANY(:ids)"
        ),
        {"query": search.query, "options": SNIPPET_OPTIONS, "ids": [hit.passage_id for hit in search.hits]},
    )
    return {row.id: _marked_html(row.headline) for row in rows}


def _marked_html(headline: str) -> str:
    escaped = html.escape(" ".join(headline.split()), quote=False)
    return escaped.replace("\x02", "<mark>").replace("\x03", "</mark>")
