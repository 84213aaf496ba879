"""Ranking the knowledge base's passages for a query.

`search_passages` is the one ranking, hybrid:

- full-text candidates: the passages the GIN index finds for the websearch query (every term
  required; when that finds nothing, any term but the words common in the organization's passages),
  at most LEXICAL_POOL of them read, ranked by ts_rank_cd;
- vector candidates: the CANDIDATES nearest passages to the query's embedding (`embedding <=> :q`),
  no farther than MIN_SIMILARITY: from the HNSW index, searched deep enough for the organization's
  share of the table (`ef_search`), or, for an organization too small for that, its passages exactly;
- fused by reciprocal rank (RRF, k = RRF_K), then the category boost, then the best passage of each
  document.

Both candidate queries filter on the organization, and on is_public (written into the statement)
for the public search. Without an embedding model (not installed, or not loaded yet in this
process) the vector side is empty and the ranking is the full-text one.

Row-level security and the GIN index: under RLS the planner may use a query's condition as an index
condition only if its function is LEAKPROOF, and PostgreSQL does not mark `tsvector @@ tsquery`
(ts_match_vq) so. Then the full-text query reads every passage of the organization (a sequential
scan, @@ tested row by row on detoasted vectors: ~35 ms and ~31,000 buffers per 10,000 passages)
instead of the GIN index (~1 ms for an all-terms query, ~8 ms for an any-term one at 10,000). Only a
superuser can mark it, once per database:

    ALTER FUNCTION ts_match_vq(tsvector, tsquery) LEAKPROOF;

We do: the embedded server's start marks it (embedded.py), and an operator of an external server is
asked to. LEAKPROOF asserts that the function reveals nothing about its arguments but its result: no
side effect, no error that depends on the values. ts_match_vq evaluates the query against the row's
vector and returns a boolean; its errors (out of memory, stack depth) depend on the query, which is
the caller's own. PostgreSQL leaves most functions unmarked for want of an audit, not because they
leak. Marked, the planner may test @@ on other organizations' rows (inside the index) before the
policy's condition drops them; nothing of theirs reaches the result. Rejected: a SECURITY DEFINER
function doing the full-text selection and filtering on the tenant setting itself, which needs an
owner that bypasses RLS (a role only a superuser can make, so no help on an external server either)
and would be a second copy of the tenancy rule that the policies alone should hold.

`full_text_index_usable` tells whether it was done; the first search logs a warning if not, and then
one scan serves both the all-terms query and its any-term fallback (`search_sql.one_scan`).
"""

import asyncio
import logging
import math
import re
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from supportdesk.knowledge import search_sql, vectors
from supportdesk.knowledge.negation import split_negation, websearch_text

# Documents linked to the asked-for category have their fused score multiplied by this: such a document
# found by both sides, or in the top 30 of one, outranks any other document.
CATEGORY_BOOST = 3.0
# The OR fallback reads at most this many words of the query.
ANY_TERM_MAX = 32
# ... and leaves out the organization's common words: those in more than this share of its passages
# (estimated on COMMON_SAMPLE of them, again every STATISTICS_TTL seconds per process). They would bring
# thousands of matches, of which only the first LEXICAL_POOL found could be ranked (stackfaq, hybrid
# MAP: 0.862 with every word and a pool of 1,000; 0.865 without the words in 10 % of the passages,
# pool 300; 0.852 at 5 %; 0.804 at 2 %).
COMMON_SHARE = 0.1
COMMON_SAMPLE = 2000
STATISTICS_TTL = 600.0
# The vector side brings this many passages to the fusion, and the full-text side every one it ranked (at
# most LEXICAL_POOL), whatever the page asked: every page of a query is then cut from one ranking. (When
# a deeper page brought more candidates, a passage found by both sides only there jumped ahead of others,
# and walking a query's pages repeated some documents and skipped others.) At 100,000 passages, 102
# vector candidates took 9.7 ms where 51 took 5.7; the full text's 300 instead of 50 cost nothing
# measurable (p50/p95 42.0/55.2 against 41.7/57.2 ms, interleaved, a busy machine) and moved the
# stackfaq hybrid MAP 0.864 -> 0.866.
CANDIDATES = 50
# Full text: at most this many matching passages are ranked (a common word in a large knowledge base
# matches tens of thousands; ranking them all is what makes a search slow).
LEXICAL_POOL = 300
# Vectors: a passage less similar than this (cosine) is no candidate: an unrelated query finds nothing.
MIN_SIMILARITY = 0.3
# The HNSW search's candidate list, at least (`ef_search`): 200 took twice as long as 100 at 100,000
# passages, for the same stackfaq MAP.
EF_SEARCH = 100
# pgvector's largest: an organization whose share of the passages would need more is searched exactly.
MAX_EF_SEARCH = 1000
# Reciprocal-rank fusion: a passage scores the sum over the rankings of 1 / (RRF_K + its rank).
RRF_K = 60

_WORD = re.compile(r"\w+")

log = logging.getLogger(__name__)
_index_usable: bool | None = None  # full_text_index_usable, asked once per process


@dataclass(frozen=True)
class PassageHit:
    """The best passage of one document: `score` orders the results (the fused rank, in (0, 1],
    times the category boost); `text_score` is the full-text rank alone, in [0, 1), 0 when only the
    vectors found it; `vector_score` the cosine similarity, None when not a vector candidate."""

    passage_id: uuid.UUID
    document_id: uuid.UUID
    score: float
    text_score: float
    in_category: bool
    vector_score: float | None = None


@dataclass(frozen=True)
class PassageSearch:
    query: str  # the websearch query that found the full-text hits: the user's, or its any-term fallback
    all_terms: bool
    hits: list[PassageHit]


@dataclass(frozen=True)
class _Candidate:
    passage_id: uuid.UUID
    document_id: uuid.UUID
    score: float
    in_category: bool


async def any_term_query(
    session: AsyncSession, organization_id: uuid.UUID, query: str, *, public_only: bool
) -> str | None:
    """The query as a websearch OR of its words but the organization's common ones (all of them when
    every word is common), each without the query's excluded terms; None when the query has one word
    (the fallback would change nothing)."""
    negation = split_negation(query)
    words = [word for word in _WORD.findall(negation.wanted) if word.lower() != "or"][:ANY_TERM_MAX]
    if len(words) < 2:
        return None
    common = (await _statistics(session, organization_id, public_only=public_only)).common
    if common:
        rows = await session.execute(
            text(
                "SELECT w.word, ARRAY(SELECT lexeme FROM unnest(to_tsvector('english', w.word))) AS lexemes"
                " FROM unnest(CAST(:words AS text[])) WITH ORDINALITY AS w(word, position)"
                " ORDER BY w.position"
            ),
            {"words": words},
        )
        rare = [row.word for row in rows if row.lexemes and not common.intersection(row.lexemes)]
        words = rare or words
    excluding = "".join(f" -{term}" for term in negation.excluded)  # NOT binds tighter than OR
    return " or ".join(f"{word}{excluding}" for word in words)


@dataclass(frozen=True)
class _Statistics:
    """What a search needs to know of an organization's (public) passages; computed once per
    STATISTICS_TTL seconds per process."""

    at: float
    common: frozenset[str]  # lexemes in more than COMMON_SHARE of them (of a sample)
    share: float | None  # their share of the table's passages, all organizations' (None: unknown)


_statistics_cache: dict[tuple[uuid.UUID, bool], _Statistics] = {}


async def _statistics(session: AsyncSession, organization_id: uuid.UUID, *, public_only: bool) -> _Statistics:
    cached = _statistics_cache.get((organization_id, public_only))
    if cached is not None and time.monotonic() - cached.at < STATISTICS_TTL:
        return cached
    visibility = "AND is_public" if public_only else ""
    own = f"FROM document_passages WHERE organization_id = '{organization_id}' {visibility}"
    # ts_stat reads a statement's text: the id is a UUID, the rest ours
    sample = f"SELECT search_vector {own} LIMIT {COMMON_SAMPLE}"
    counts = (
        await session.execute(
            text(
                f"SELECT (SELECT count(*) {own}) AS own, (SELECT count(*) FROM ({sample}) s) AS sampled,"
                " (SELECT reltuples FROM pg_class WHERE oid = 'document_passages'::regclass) AS everyone"
            )
        )
    ).one()
    common: frozenset[str] = frozenset()
    if counts.sampled > LEXICAL_POOL:  # else every match is ranked: no word needs leaving out
        rows = await session.scalars(
            text("SELECT word FROM ts_stat(:sample) WHERE ndoc > :most"),
            {"sample": sample, "most": COMMON_SHARE * counts.sampled},
        )
        common = frozenset(rows)
    share = min(1.0, counts.own / counts.everyone) if counts.everyone > 0 else None  # -1: not analyzed
    statistics = _Statistics(time.monotonic(), common, share)
    _statistics_cache[(organization_id, public_only)] = statistics
    return statistics


def ef_search(candidates: int, share: float | None) -> int | None:
    """The HNSW candidate list for an organization holding `share` of the passages: long enough that its
    filter leaves `candidates` (twice the expectation), at least EF_SEARCH; None when that would exceed
    MAX_EF_SEARCH (a small organization: the exact scan of its own passages is then the cheaper)."""
    if share is None:
        return EF_SEARCH
    if share <= 0:
        return None
    ef = max(EF_SEARCH, math.ceil(2 * candidates / share))
    return ef if ef <= MAX_EF_SEARCH else None


async def _lexical_one_scan(
    session: AsyncSession, query: str, any_query: str, params: dict, *, public_only: bool
) -> tuple[list[_Candidate], bool]:
    """The all-terms candidates if any passage has every term, else the any-term ones; and which."""
    sql = search_sql.one_scan(public_only=public_only, with_category=params["category_id"] is not None)
    rows = (
        await session.execute(
            text(sql), {**params, "query": query, "any_query": any_query, "pool": LEXICAL_POOL}
        )
    ).all()
    all_terms = bool(rows) and rows[0].all_terms
    return [
        _Candidate(row.passage_id, row.document_id, float(row.score), row.in_category)
        for row in rows
        if row.all_terms == all_terms
    ], all_terms


async def _candidates(session: AsyncSession, sql: str, params: dict) -> list[_Candidate]:
    rows = await session.execute(text(sql), params)
    return [_Candidate(row.passage_id, row.document_id, float(row.score), row.in_category) for row in rows]


async def _lexical(session: AsyncSession, query: str, params: dict, *, public_only: bool) -> list[_Candidate]:
    sql = search_sql.lexical(public_only=public_only, with_category=params["category_id"] is not None)
    return await _candidates(session, sql, {**params, "query": query, "pool": LEXICAL_POOL})


async def _semantic(
    session: AsyncSession, vector: str, excluded: str | None, params: dict, *, public_only: bool
) -> list[_Candidate]:
    statistics = await _statistics(session, params["organization_id"], public_only=public_only)
    ef = ef_search(params["candidates"], statistics.share)
    params = {**params, "vector": vector, "excluded": excluded}
    shape = {
        "public_only": public_only,
        "with_category": params["category_id"] is not None,
        "excluding": excluded is not None,
    }
    found: list[_Candidate] = []
    if ef is not None:
        await session.execute(text("SELECT set_config('hnsw.ef_search', :ef, true)"), {"ef": str(ef)})
        found = await _candidates(session, search_sql.vector(**shape, exact=False), params)
    if len(found) < params["candidates"]:
        # Fewer than asked: the organization has few passages, most are too far, or the filters
        # dropped the index's candidates (other organizations', private ones). The exact scan says which.
        found = await _candidates(session, search_sql.vector(**shape, exact=True), params)
    return [candidate for candidate in found if candidate.score >= MIN_SIMILARITY]


def _fuse(rankings: list[list[_Candidate]], limit: int) -> list[PassageHit]:
    """Reciprocal-rank fusion of the rankings, the category boost, the best passage per document."""
    fused: dict[uuid.UUID, float] = {}
    for ranking in rankings:
        for rank, candidate in enumerate(ranking, start=1):
            fused[candidate.passage_id] = fused.get(candidate.passage_id, 0.0) + 1.0 / (RRF_K + rank)
    top = len(rankings) / (RRF_K + 1)  # first in every ranking: the score is then 1
    lexical = {c.passage_id: c for c in rankings[0]} if rankings else {}
    semantic = {c.passage_id: c for c in rankings[1]} if len(rankings) > 1 else {}
    best: dict[uuid.UUID, PassageHit] = {}
    for passage_id, rrf in fused.items():
        candidate = lexical.get(passage_id) or semantic[passage_id]
        score = rrf / top * (CATEGORY_BOOST if candidate.in_category else 1.0)
        hit = PassageHit(
            passage_id,
            candidate.document_id,
            score,
            lexical[passage_id].score if passage_id in lexical else 0.0,
            candidate.in_category,
            semantic[passage_id].score if passage_id in semantic else None,
        )
        kept = best.get(candidate.document_id)
        if kept is None or (hit.score, str(kept.passage_id)) > (kept.score, str(hit.passage_id)):
            best[candidate.document_id] = hit
    ordered = sorted(best.values(), key=lambda hit: (-hit.score, str(hit.document_id)))
    return ordered[:limit]


async def full_text_index_usable(session: AsyncSession) -> bool:
    """Whether the full-text condition can use the GIN index under row-level security (see above)."""
    return bool(
        await session.scalar(
            text(
                "SELECT proleakproof FROM pg_proc WHERE oid = 'ts_match_vq(tsvector, tsquery)'::regprocedure"
            )
        )
    )


async def _gin_index_usable(session: AsyncSession) -> bool:
    global _index_usable
    if _index_usable is None:
        _index_usable = await full_text_index_usable(session)
        if not _index_usable:
            log.warning(
                "knowledge-base full-text search reads every passage of an organization: under row-level"
                " security the GIN index needs ts_match_vq to be LEAKPROOF (as a superuser:"
                " ALTER FUNCTION ts_match_vq(tsvector, tsquery) LEAKPROOF)"
            )
    return _index_usable


async def search_passages(
    session: AsyncSession,
    organization_id: uuid.UUID,
    query: str,
    *,
    category_id: uuid.UUID | None,
    public_only: bool,
    limit: int,
    hybrid: bool = True,
) -> PassageSearch:
    """The best passage of each of the `limit` best documents for `query`, best first.

    Full text: every term is required first (websearch_to_tsquery); when no passage has them all,
    any term will do. Vectors: when `hybrid` and the model is loaded, the nearest passages to the
    query (its wanted words: a passage having a term it excludes is not a candidate). With
    `public_only`, passages of private documents are never read, on either side."""
    params = {
        "organization_id": organization_id,
        "category_id": category_id,
        "candidates": CANDIDATES,
    }
    query = websearch_text(query)
    negation = split_negation(query)
    # The query's embedding (CPU, in a thread) is computed while the full-text query runs.
    embed = hybrid and bool(negation.wanted)
    embedding = asyncio.ensure_future(vectors.query_vector(negation.wanted)) if embed else None
    try:
        used, all_terms, lexical = await _full_text(session, query, params, public_only=public_only)
    except BaseException:
        if embedding is not None:
            embedding.cancel()
        raise
    rankings = [lexical]
    vector = await embedding if embedding is not None else None
    if vector is not None:
        rankings.append(
            await _semantic(session, vector, negation.any_excluded, params, public_only=public_only)
        )
    return PassageSearch(used, all_terms, _fuse(rankings, limit))


async def _full_text(
    session: AsyncSession, query: str, params: dict, *, public_only: bool
) -> tuple[str, bool, list[_Candidate]]:
    """The full-text candidates, the websearch query that found them, and whether it was the user's."""
    organization_id = params["organization_id"]
    # One scan for both queries when each would read every passage anyway, unless the query negates a
    # word (a passage can then have all terms and none of the any-term query's words).
    if "-" not in query and not await _gin_index_usable(session):
        fallback = await any_term_query(session, organization_id, query, public_only=public_only)
        if fallback is not None:
            lexical, all_terms = await _lexical_one_scan(
                session, query, fallback, params, public_only=public_only
            )
            return (query if all_terms else fallback), all_terms, lexical
    lexical = await _lexical(session, query, params, public_only=public_only)
    if not lexical:
        fallback = await any_term_query(session, organization_id, query, public_only=public_only)
        if fallback is not None:
            return fallback, False, await _lexical(session, fallback, params, public_only=public_only)
    return query, True, lexical
