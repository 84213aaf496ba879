"""Passages are computed by a background job when a document is written, and replaced, not added to."""

import uuid

from supportdesk import db
from supportdesk.knowledge.indexing import index_document
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
