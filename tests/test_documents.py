"""Knowledge-base documents: CRUD by admins, linked categories, filters."""

import uuid

from tests.factories import add_category, add_user, sign_up


async def add_document(client, org, **fields) -> dict:
    body = {"title": "Resetting a password", "content": "Use the forgot-password link.", **fields}
    response = await client.post("/documents", headers=org.headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_a_document_is_created_with_its_categories(client):
    org = await sign_up(client)
    first, second = await add_category(client, org), await add_category(client, org)

    document = await add_document(client, org, is_public=True, category_ids=[first["id"], second["id"]])

    assert document["organization_id"] == org.id and document["is_public"] is True
    assert sorted(document["category_ids"]) == sorted([first["id"], second["id"]])
    fetched = (await client.get(f"/documents/{document['id']}", headers=org.headers)).json()
    assert fetched == document


async def test_a_document_is_private_and_uncategorized_by_default(client):
    org = await sign_up(client)

    document = await add_document(client, org)

    assert document["is_public"] is False and document["category_ids"] == []


async def test_an_unknown_category_is_refused_and_nothing_is_written(client):
    org, other = await sign_up(client), await sign_up(client)
    theirs = await add_category(client, other)

    for category_id in (str(uuid.uuid4()), theirs["id"]):
        response = await client.post(
            "/documents",
            headers=org.headers,
            json={"title": "Orphan", "content": "text", "category_ids": [category_id]},
        )
        assert response.status_code == 422
        assert response.json()["code"] == "validation_error"
    assert (await client.get("/documents", headers=org.headers)).json()["data"] == []


async def test_a_document_is_updated_and_its_categories_replaced(client):
    org = await sign_up(client)
    first, second = await add_category(client, org), await add_category(client, org)
    document = await add_document(client, org, category_ids=[first["id"]])

    response = await client.patch(
        f"/documents/{document['id']}",
        headers=org.headers,
        json={"title": "New title", "is_public": True, "category_ids": [second["id"]]},
    )

    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["title"], updated["is_public"], updated["category_ids"]) == (
        "New title",
        True,
        [second["id"]],
    )
    assert updated["content"] == document["content"]


async def test_a_patch_without_category_ids_keeps_them_and_an_empty_list_clears_them(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    document = await add_document(client, org, category_ids=[category["id"]])
    path = f"/documents/{document['id']}"

    kept = (await client.patch(path, headers=org.headers, json={"content": "Changed"})).json()
    cleared = (await client.patch(path, headers=org.headers, json={"category_ids": []})).json()

    assert kept["category_ids"] == [category["id"]]
    assert cleared["category_ids"] == []


async def test_a_patch_to_an_unknown_category_changes_nothing(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    document = await add_document(client, org, category_ids=[category["id"]])
    path = f"/documents/{document['id']}"

    response = await client.patch(
        path, headers=org.headers, json={"title": "Changed", "category_ids": [str(uuid.uuid4())]}
    )

    assert response.status_code == 422
    assert (await client.get(path, headers=org.headers)).json() == document


async def test_documents_filter_by_visibility_and_category(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    public = await add_document(client, org, is_public=True, category_ids=[category["id"]])
    private = await add_document(client, org, is_public=False)

    async def ids(**params) -> list[str]:
        response = await client.get("/documents", headers=org.headers, params=params)
        return [document["id"] for document in response.json()["data"]]

    assert set(await ids()) == {public["id"], private["id"]}
    assert await ids(is_public="true") == [public["id"]]
    assert await ids(is_public="false") == [private["id"]]
    assert await ids(category_id=category["id"]) == [public["id"]]
    assert await ids(category_id=category["id"], is_public="false") == []


async def test_documents_page_through_a_cursor(client):
    org = await sign_up(client)
    created = [await add_document(client, org, title=f"Doc {n}") for n in range(3)]

    first = (await client.get("/documents", headers=org.headers, params={"limit": 2})).json()
    second = (
        await client.get(
            "/documents", headers=org.headers, params={"limit": 2, "cursor": first["next_cursor"]}
        )
    ).json()

    assert second["next_cursor"] is None
    seen = [document["id"] for document in first["data"] + second["data"]]
    assert sorted(seen) == sorted(document["id"] for document in created)


async def test_a_deleted_document_is_gone(client):
    org = await sign_up(client)
    category = await add_category(client, org)
    document = await add_document(client, org, category_ids=[category["id"]])

    response = await client.delete(f"/documents/{document['id']}", headers=org.headers)

    assert response.status_code == 204
    assert (await client.get(f"/documents/{document['id']}", headers=org.headers)).status_code == 404
    assert (await client.delete(f"/documents/{document['id']}", headers=org.headers)).status_code == 404
    listed = await client.get("/documents", headers=org.headers, params={"category_id": category["id"]})
    assert listed.json()["data"] == []


async def test_only_admins_write_documents_but_everyone_reads_them(client):
    org = await sign_up(client)
    document = await add_document(client, org)
    _, agent = await add_user(client, org, "agent")
    _, analyst = await add_user(client, org, "analyst")
    path = f"/documents/{document['id']}"

    for headers in (agent, analyst):
        created = await client.post("/documents", headers=headers, json={"title": "t", "content": "c"})
        assert created.status_code == 403
        assert (await client.patch(path, headers=headers, json={"title": "x"})).status_code == 403
        assert (await client.delete(path, headers=headers)).status_code == 403
        assert (await client.get(path, headers=headers)).status_code == 200


async def test_another_organizations_document_is_not_found(client):
    mine, theirs = await sign_up(client), await sign_up(client)
    document = await add_document(client, theirs, is_public=True)
    path = f"/documents/{document['id']}"

    for response in (
        await client.get(path, headers=mine.headers),
        await client.patch(path, headers=mine.headers, json={"title": "Mine"}),
        await client.delete(path, headers=mine.headers),
    ):
        assert response.status_code == 404
    assert (await client.get("/documents", headers=mine.headers)).json()["data"] == []


async def test_bad_document_input_is_a_validation_error(client):
    org = await sign_up(client)

    for body in (
        {"title": "", "content": "c"},
        {"title": "t"},
        {"title": "t", "content": "c", "is_public": "yes"},
        {"title": "t", "content": "c", "category_ids": ["not-a-uuid"]},
    ):
        response = await client.post("/documents", headers=org.headers, json=body)
        assert response.status_code == 422, body
