"""Hybrid search: passages embedded by the indexing job, vector candidates fused with the full-text
ones, the portal's public-only guarantee on both sides, and full text alone without a model."""

import uuid

from sqlalchemy import text

from supportdesk import db
from supportdesk.knowledge import search as knowledge_search
from supportdesk.knowledge import vectors
from supportdesk.knowledge.indexing import index_document
from tests.factories import sign_up
from tests.knowledge.helpers import add_document, portal_search, run_jobs, search
from tests.knowledge.test_search import kb, titles  # noqa: F401 (the module's fixture, shared)


async def embeddings_of(document_id: str) -> list[str | None]:
    async with db.system_session() as session:
        rows = await session.execute(
            text("SELECT embedding::text FROM document_passages WHERE document_id = :id ORDER BY position"),
            {"id": uuid.UUID(document_id)},
        )
        return [row[0] for row in rows]


async def test_the_indexing_job_embeds_every_passage_and_a_rerun_keeps_the_same_vectors(client, kb):  # noqa: F811
    org, _, ids = kb
    document_id = ids["Refunds and cancellations"]
    before = await embeddings_of(document_id)
    assert before and all(vector is not None for vector in before)
    assert len(before[0].strip("[]").split(",")) == 384

    async with db.tenant_session(uuid.UUID(org.id)) as session:
        await index_document(session, uuid.UUID(document_id))
    assert await embeddings_of(document_id) == before


async def test_a_question_without_a_shared_word_finds_its_document(client, kb):  # noqa: F811
    org, _, _ = kb
    query = "how can I get my money back"
    assert await search_lexically(org, query) == []
    assert titles(await search(client, org, query))[0] == "Refunds and cancellations"
    assert titles(await portal_search(client, org, query))[0] == "Refunds and cancellations"


async def search_lexically(org, query: str) -> list[uuid.UUID]:
    async with db.tenant_session(uuid.UUID(org.id)) as session:
        found = await knowledge_search.search_passages(
            session, uuid.UUID(org.id), query, category_id=None, public_only=False, limit=10, hybrid=False
        )
    return [hit.document_id for hit in found.hits]


async def test_the_portal_never_shows_a_private_document_asked_for_by_its_meaning(client, kb):  # noqa: F811
    org, _, ids = kb
    private = ids["Escalation runbook"]
    paraphrases = [
        "who should I phone to wake up the engineer on duty during an outage",
        "internal procedure for escalating a production incident",
    ]
    for query in paraphrases:
        assert private in {hit["document"]["id"] for hit in await search(client, org, query)}, query
        hits = await portal_search(client, org, query)
        assert private not in {hit["document"]["id"] for hit in hits}, query
        assert all("on-call" not in hit["snippet"] for hit in hits)


async def test_without_a_model_the_search_is_full_text(client, kb, monkeypatch):  # noqa: F811
    org, _, _ = kb

    async def no_vector(query: str) -> None:
        return None

    monkeypatch.setattr(vectors, "query_vector", no_vector)
    assert titles(await search(client, org, "how do I reset my password"))[0] == "Resetting your password"
    assert await search(client, org, "how can I get my money back") == []


async def test_without_a_model_passages_are_stored_unembedded_and_found_by_their_words(client, monkeypatch):
    monkeypatch.setattr(vectors, "_unavailable", True)
    org = await sign_up(client)
    document = await add_document(
        client, org, "Shipping times", "Parcels leave our warehouse within two days."
    )
    await run_jobs()
    assert await embeddings_of(document["id"]) == [None]
    assert titles(await search(client, org, "warehouse parcels")) == ["Shipping times"]


async def test_a_term_the_query_excludes_keeps_its_passages_out_of_both_sides(client):
    org = await sign_up(client)
    await add_document(
        client, org, "International shipping", "International orders ship by air and take ten days."
    )
    await add_document(client, org, "Gift cards", "Gift cards never expire and can be used on any order.")
    await run_jobs()
    assert titles(await search(client, org, "air shipping"))[0] == "International shipping"

    for query in ["shipping -international", "air shipping -international", 'orders -"international orders"']:
        for hits in (await search(client, org, query), await portal_search(client, org, query)):
            assert "International shipping" not in titles(hits), query
            assert all("international" not in hit["snippet"].lower() for hit in hits), query
    assert titles(await search(client, org, "orders -international")) == ["Gift cards"]


async def test_a_line_of_dashes_in_a_search_negates_nothing(client):
    # 33 signs before no word failed in PostgreSQL ("tsquery stack too small"): a 500, even unauthenticated.
    org = await sign_up(client)
    await add_document(client, org, "Gift cards", "Gift cards never expire.", is_public=True)
    await run_jobs()
    dashes = "-" * 40
    for query in [dashes, "- " * 40, "-( " * 40, f"gift {dashes} cards"]:
        for hits in (await search(client, org, query), await portal_search(client, org, query)):
            assert titles(hits) == ([] if query.strip("-( ") == "" else ["Gift cards"]), query
