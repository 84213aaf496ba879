"""The SQL of the passage search's candidate queries (see `search`): full text off the GIN index, the
vectors off the HNSW index or exactly, and one scan for both full-text queries without the GIN index.
The public filter is written into each statement, not bound: no plan can lose it."""

# ts_rank_cd normalization: 1 divides by 1 + log(length), 32 maps the rank into [0, 1).
RANK_NORMALIZATION = 1 | 32


def _in_category(with_category: bool) -> str:
    return (
        "EXISTS (SELECT 1 FROM document_categories c"
        " WHERE c.document_id = p.document_id AND c.category_id = :category_id)"
        if with_category
        else "false"
    )


def lexical(*, public_only: bool, with_category: bool) -> str:
    # The public filter is written into the statement, not bound: no plan can lose it. The inner
    # query reads at most LEXICAL_POOL matches off the GIN index; only those are ranked.
    visibility = "AND p.is_public" if public_only else ""
    return f"""
        SELECT m.id AS passage_id, m.document_id, m.score, {_in_category(with_category)} AS in_category
        FROM (
            SELECT p.id, p.document_id, ts_rank_cd(p.search_vector, q.query, {RANK_NORMALIZATION}) AS score
            FROM (
                SELECT p.id, p.document_id, p.search_vector
                FROM document_passages p
                WHERE p.organization_id = :organization_id
                  AND p.search_vector @@ websearch_to_tsquery('english', :query) {visibility}
                LIMIT :pool
            ) p, websearch_to_tsquery('english', :query) AS q(query)
        ) m JOIN document_passages p ON p.id = m.id
        ORDER BY m.score DESC, m.id
    """


def vector(*, public_only: bool, with_category: bool, exact: bool, excluding: bool) -> str:
    # `exact` orders by an expression the HNSW index cannot serve: every passage of the organization
    # is compared, for when the index's approximate search left too few after the filters. `excluding`:
    # passages having a term the query excludes are none, as on the full-text side.
    visibility = "AND p.is_public" if public_only else ""
    if excluding:
        visibility += " AND NOT p.search_vector @@ websearch_to_tsquery('english', :excluded)"
    distance = "(p.embedding <=> CAST(:vector AS vector))"
    order = f"{distance} + 0" if exact else distance
    return f"""
        SELECT m.id AS passage_id, m.document_id, 1 - m.distance AS score,
               {_in_category(with_category)} AS in_category
        FROM (
            SELECT p.id, p.document_id, {distance} AS distance
            FROM document_passages p
            WHERE p.organization_id = :organization_id AND p.embedding IS NOT NULL {visibility}
            ORDER BY {order}
            LIMIT :candidates
        ) m JOIN document_passages p ON p.id = m.id
        ORDER BY m.distance, m.id
    """


def one_scan(*, public_only: bool, with_category: bool) -> str:
    # Without the GIN index, each full-text query reads every passage: this one reads them once for
    # both the all-terms query and its any-term fallback. The passages having any term are sorted
    # those having all of them first, at most LEXICAL_POOL of them kept, and ranked each by the query
    # it matches; the caller keeps the all-terms ones if there are any, else the any-term ones.
    visibility = "AND p.is_public" if public_only else ""
    return f"""
        SELECT m.id AS passage_id, m.document_id, m.score, m.all_terms,
               {_in_category(with_category)} AS in_category
        FROM (
            SELECT p.id, p.document_id, p.all_terms,
                   ts_rank_cd(p.search_vector,
                              CASE WHEN p.all_terms THEN websearch_to_tsquery('english', :query)
                                   ELSE websearch_to_tsquery('english', :any_query) END,
                              {RANK_NORMALIZATION}) AS score
            FROM (
                SELECT p.id, p.document_id, p.search_vector,
                       p.search_vector @@ websearch_to_tsquery('english', :query) AS all_terms
                FROM document_passages p
                WHERE p.organization_id = :organization_id
                  AND p.search_vector @@ websearch_to_tsquery('english', :any_query) {visibility}
                ORDER BY all_terms DESC
                LIMIT :pool
            ) p
        ) m JOIN document_passages p ON p.id = m.id
        ORDER BY m.all_terms DESC, m.score DESC, m.id
    """
