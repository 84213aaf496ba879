"""The periodic backfill embeds the passages stored without a vector (written while the model was not
available), in small batches, every organization's, and changes nothing when run again."""

import uuid

from sqlalchemy import text

from supportdesk import db
from supportdesk.knowledge import indexing, vectors
from supportdesk.knowledge.jobs import backfill_embeddings
from tests.factories import sign_up
from tests.knowledge.helpers import add_document, run_jobs
from tests.knowledge.test_hybrid import embeddings_of

GUIDE = "\n\n".join(
    f"Step {i}: open the billing page and download invoice number {i}. " * 6 for i in range(8)
)


async def forget_embeddings(document_ids: list[str]) -> None:
    async with db.system_session() as session:
        await session.execute(
            text("UPDATE document_passages SET embedding = NULL WHERE document_id = ANY(:ids)"),
            {"ids": [uuid.UUID(i) for i in document_ids]},
        )


async def test_the_backfill_embeds_passages_stored_without_a_vector_in_every_organization(client):
    first, second = await sign_up(client), await sign_up(client)
    documents = [
        await add_document(client, first, "Downloading invoices", GUIDE),
        await add_document(client, second, "Refunds", "Refunds take five business days to reach the card."),
    ]
    await run_jobs()
    before = {d["id"]: await embeddings_of(d["id"]) for d in documents}
    assert all(vector is not None for vectors_ in before.values() for vector in vectors_)
    await forget_embeddings(list(before))

    assert await backfill_embeddings(max_batches=1000) >= sum(len(v) for v in before.values())

    after = {d["id"]: await embeddings_of(d["id"]) for d in documents}
    assert after.keys() == before.keys()
    for document_id, vectors_ in after.items():
        assert len(vectors_) == len(before[document_id])
        assert all(vector is not None for vector in vectors_)
    assert await backfill_embeddings() == 0  # nothing left: a second run writes nothing


async def test_the_backfill_works_in_small_batches_and_stops_without_a_model(client, monkeypatch):
    org = await sign_up(client)
    document = await add_document(client, org, "Downloading invoices", GUIDE)
    await run_jobs()
    count = len(await embeddings_of(document["id"]))
    assert count > 2
    await forget_embeddings([document["id"]])

    monkeypatch.setattr(vectors, "embed_passages", lambda texts: [None] * len(texts))
    assert await backfill_embeddings() == 0  # no model: nothing written, the rows wait for the next run
    assert await embeddings_of(document["id"]) == [None] * count
    monkeypatch.undo()

    async with db.tenant_session(uuid.UUID(org.id)) as session:
        assert await indexing.embed_missing(session, batch=2) == 2  # one small batch, this tenant's rows
    assert sum(vector is not None for vector in await embeddings_of(document["id"])) == 2
    await backfill_embeddings(max_batches=1000)
    assert None not in await embeddings_of(document["id"])
