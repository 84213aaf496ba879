"""The full-text condition under row-level security: the embedded server marks ts_match_vq LEAKPROOF at
start, so the search reads the GIN index; without the mark (an external server whose operator did not)
one scan of the organization's passages gives the same answers. Either way, one organization's
passages only, and public ones only for the portal."""

import uuid

import pytest

from supportdesk import db
from supportdesk.knowledge import search as knowledge_search
from tests.factories import sign_up
from tests.knowledge.helpers import add_document, run_jobs
from tests.markers import embedded_only
from tests.plans import plan_as_tenant


@pytest.fixture(params=[True, False], ids=["gin-index", "one-scan"])
def index_usable(request, monkeypatch):
    """Both full-text paths, whatever the server says."""
    monkeypatch.setattr(knowledge_search, "_index_usable", request.param)
    return request.param


@embedded_only
async def test_the_embedded_server_marks_the_full_text_match_leakproof(client):
    async with db.system_session() as session:
        assert await knowledge_search.full_text_index_usable(session)


@embedded_only
async def test_under_row_level_security_the_full_text_condition_reads_the_gin_index(client):
    org = await sign_up(client)
    query = (
        "SELECT id FROM document_passages WHERE search_vector @@ websearch_to_tsquery('english', 'password')"
    )
    assert "idx_document_passages_search" in await plan_as_tenant(org.id, query)


async def found(org, query: str, *, public_only: bool = False) -> tuple[bool, list[uuid.UUID]]:
    organization_id = uuid.UUID(org.id)
    async with db.tenant_session(organization_id) as session:
        search = await knowledge_search.search_passages(
            session, organization_id, query, category_id=None, public_only=public_only, limit=10, hybrid=False
        )
    return search.all_terms, [hit.document_id for hit in search.hits]


@pytest.fixture(scope="module")
async def twins(client):
    """Two organizations with the same words: ours has a public and a private document."""
    ours, theirs = await sign_up(client, name="Ours"), await sign_up(client, name="Theirs")
    documents = {
        "public": await add_document(
            client, ours, "Pallet returns", "Return a damaged pallet within ten days.", is_public=True
        ),
        "private": await add_document(
            client, ours, "Pallet fraud", "Damaged pallet claims: call the auditor.", is_public=False
        ),
        "theirs": await add_document(
            client, theirs, "Pallet returns", "Return a damaged pallet within ten days.", is_public=True
        ),
    }
    await run_jobs()
    return ours, {name: uuid.UUID(document["id"]) for name, document in documents.items()}


async def test_every_term_first_then_any_term_on_either_path(twins, index_usable):
    ours, ids = twins
    assert await found(ours, "damaged pallet return") == (True, [ids["public"]])
    all_terms, hits = await found(ours, "pallet auditor refund")
    assert not all_terms and hits == [ids["private"], ids["public"]]


async def test_the_search_never_reads_another_organizations_or_for_the_portal_a_private_passage(
    twins, index_usable
):
    ours, ids = twins
    assert set((await found(ours, "damaged pallet"))[1]) == {ids["public"], ids["private"]}
    assert (await found(ours, "damaged pallet", public_only=True))[1] == [ids["public"]]
    assert (await found(ours, "pallet auditor", public_only=True))[1] == [ids["public"]]


async def test_the_any_term_fallback_leaves_out_words_most_passages_have(client, index_usable, monkeypatch):
    """With more passages than a search ranks, a word they nearly all have would fill the pool with
    whichever passages come first: the any-term fallback leaves it out."""
    org = await sign_up(client, name="Common words")
    for n in range(4):
        await add_document(
            client, org, f"Pallet note {n}", f"Every pallet story, number {n}.", is_public=True
        )
    auditor = await add_document(
        client, org, "Pallet fraud", "Damaged pallet claims go to the auditor.", is_public=True
    )
    await run_jobs()
    monkeypatch.setattr(knowledge_search, "LEXICAL_POOL", 2)
    monkeypatch.setattr(knowledge_search, "COMMON_SHARE", 0.5)  # of 5 passages: 'pallet' and 'note'
    monkeypatch.setattr(knowledge_search, "_statistics_cache", {})
    assert await found(org, "pallet auditor refund") == (False, [uuid.UUID(auditor["id"])])


def test_the_vector_index_is_searched_deep_enough_for_the_organizations_share_of_the_passages():
    ef_search, floor = knowledge_search.ef_search, knowledge_search.EF_SEARCH
    assert ef_search(50, 1.0) == floor  # the whole table: the index's shortest list leaves enough
    assert ef_search(50, 0.25) == 400  # a quarter: twice the 200 that would leave 50 on average
    assert ef_search(50, 0.05) is None  # beyond pgvector's 1,000: its own passages, exactly
    assert ef_search(50, None) == floor  # the table never analyzed: the index, then exact if short
