"""Knowledge-base test helpers: documents made through the API, and the queue drained to index them."""

import uuid

from sqlalchemy import text

from supportdesk import db, jobs
from tests.factories import Org


async def add_document(client, org: Org, title: str, content: str, **fields) -> dict:
    response = await client.post(
        "/documents", headers=org.headers, json={"title": title, "content": content, **fields}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def run_jobs() -> None:
    """Run every queued job, the indexing of the documents just written among them."""
    async with jobs.app.open_async():
        await jobs.run_until_empty()


async def passages(document_id: str) -> list[dict]:
    async with db.system_session() as session:
        rows = await session.execute(
            text(
                "SELECT id, organization_id, position, heading, content, is_public,"
                " search_vector::text AS terms FROM document_passages"
                " WHERE document_id = :id ORDER BY position"
            ),
            {"id": uuid.UUID(document_id)},
        )
        return [dict(row._mapping) for row in rows]


async def search(client, org: Org, q: str, **params) -> list[dict]:
    response = await client.get("/kb/search", headers=org.headers, params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]


async def portal_search(client, org: Org, q: str, **params) -> list[dict]:
    response = await client.get(f"/portal/{org.id}/kb/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()["data"]
