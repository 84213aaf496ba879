"""Passages are computed by a background job when a document is written, and replaced, not added to."""

import asyncio
import threading
import uuid

import pytest

from supportdesk import db
from supportdesk.knowledge import vectors
from supportdesk.knowledge.indexing import index_document
from supportdesk.knowledge.passages import split_passages
from tests.factories import sign_up
from tests.knowledge.helpers import add_document, passages, run_jobs, search

LONG_GUIDE = "\n\n".join(
    f"Step {i}: open the settings page, choose the integration tab and paste the key number {i}. " * 4
    for i in range(10)
)


async def test_writing_a_document_indexes_it_in_the_background_not_in_the_request(client):
    org = await sign_up(client)
    document = await add_document(client, org, "Connecting Slack", LONG_GUIDE)
    assert await passages(document["id"]) == []  # only queued so far

    await run_jobs()

    rows = await passages(document["id"])
    assert len(rows) > 1
    assert all(row["heading"] == "Connecting Slack" for row in rows)
    assert all(len(row["content"].split()) <= 250 for row in rows)
    assert {str(row["organization_id"]) for row in rows} == {org.id}
    assert "'slack':2A" in rows[0]["terms"]  # the title weighs A


async def test_an_update_replaces_the_passages_and_a_delete_removes_them(client):
    org = await sign_up(client)
    document = await add_document(client, org, "Exporting data", "Use the CSV export button on reports.")
    await run_jobs()
    assert [hit["document"]["id"] for hit in await search(client, org, "csv export")] == [document["id"]]

    response = await client.patch(
        f"/documents/{document['id']}", headers=org.headers, json={"content": LONG_GUIDE}
    )
    assert response.status_code == 200, response.text
    await run_jobs()

    rows = await passages(document["id"])
    assert len(rows) > 1 and all("CSV" not in row["content"] for row in rows)
    assert await search(client, org, "csv") == []
    assert [hit["document"]["id"] for hit in await search(client, org, "integration key")] == [document["id"]]

    response = await client.delete(f"/documents/{document['id']}", headers=org.headers)
    assert response.status_code == 204
    assert await passages(document["id"]) == []
    await run_jobs()  # the job of the update, if still queued, finds no document and writes nothing
    assert await passages(document["id"]) == []


async def test_the_indexing_job_run_again_changes_nothing(client):
    org = await sign_up(client)
    document = await add_document(client, org, "Connecting Slack", LONG_GUIDE)
    await run_jobs()
    before = await passages(document["id"])

    for _ in range(2):
        async with db.tenant_session(uuid.UUID(org.id)) as session:
            assert await index_document(session, uuid.UUID(document["id"])) == len(before)

    after = await passages(document["id"])
    strip = [{k: v for k, v in row.items() if k != "id"} for row in after]
    assert strip == [{k: v for k, v in row.items() if k != "id"} for row in before]


async def test_two_queued_jobs_for_one_document_leave_one_set_of_passages(client):
    org = await sign_up(client)
    document = await add_document(client, org, "Exporting data", LONG_GUIDE)
    response = await client.patch(
        f"/documents/{document['id']}", headers=org.headers, json={"title": "Export"}
    )
    assert response.status_code == 200
    await run_jobs()
    rows = await passages(document["id"])
    assert [row["position"] for row in rows] == list(range(len(rows)))
    assert {row["heading"] for row in rows} == {"Export"}


async def test_making_a_document_private_reaches_its_passages_with_the_change_itself(client):
    org = await sign_up(client)
    document = await add_document(client, org, "Refund policy", LONG_GUIDE, is_public=True)
    await run_jobs()
    assert {row["is_public"] for row in await passages(document["id"])} == {True}

    response = await client.patch(
        f"/documents/{document['id']}", headers=org.headers, json={"is_public": False}
    )
    assert response.status_code == 200

    # Before any job has run.
    assert {row["is_public"] for row in await passages(document["id"])} == {False}


UNIT_VECTOR = "[" + ",".join(["1"] + ["0"] * 383) + "]"


@pytest.fixture
def slow_embedder(monkeypatch):
    """The embedder, its first batch held until `release` is set; `asked` lists each batch's texts."""

    class Embedder:
        def __init__(self):
            self.started = threading.Event()
            self.release = threading.Event()
            self.asked: list[list[str]] = []

        def __call__(self, texts):
            self.asked.append(list(texts))
            if len(self.asked) == 1:
                self.started.set()
                self.release.wait(30)
            return [UNIT_VECTOR] * len(texts)

    embedder = Embedder()
    monkeypatch.setattr(vectors, "embed_passages", embedder)
    yield embedder
    embedder.release.set()


async def index_while(org, document_id: str, embedder, change):
    """Index the document, `change` (an API call) made while its first batch is embedded; returns what
    the indexing returned and the change's response."""

    async def index() -> int:
        async with db.tenant_session(uuid.UUID(org.id)) as session:
            return await index_document(session, uuid.UUID(document_id))

    indexing = asyncio.create_task(index())
    assert await asyncio.to_thread(embedder.started.wait, 10)
    try:
        response = await asyncio.wait_for(change(), timeout=10)  # not waiting for the embedding
    finally:
        embedder.release.set()
    return await indexing, response


async def test_an_edit_does_not_wait_for_the_embedding_and_the_indexing_takes_its_text(client, slow_embedder):
    org = await sign_up(client)
    document = await add_document(client, org, "Connecting Slack", LONG_GUIDE)
    edited = LONG_GUIDE.replace("key number 9", "token number 9")

    def edit():
        return client.patch(f"/documents/{document['id']}", headers=org.headers, json={"content": edited})

    count, response = await index_while(org, document["id"], slow_embedder, edit)

    assert response.status_code == 200, response.text
    expected = split_passages("Connecting Slack", edited)
    assert count == len(expected)
    assert [row["content"] for row in await passages(document["id"])] == [p.content for p in expected]
    before = split_passages("Connecting Slack", LONG_GUIDE)
    assert slow_embedder.asked == [[p.text for p in before], [p.text for p in expected if p not in before]]


async def test_a_document_deleted_while_its_passages_are_embedded_gets_none(client, slow_embedder):
    org = await sign_up(client)
    document = await add_document(client, org, "Connecting Slack", LONG_GUIDE)

    def remove():
        return client.delete(f"/documents/{document['id']}", headers=org.headers)

    count, response = await index_while(org, document["id"], slow_embedder, remove)

    assert response.status_code == 204
    assert count == 0
    assert await passages(document["id"]) == []
