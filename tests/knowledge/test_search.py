"""GET /kb/search: full-text ranking over passages, best passage per document, category boost,
highlighted snippets; and the portal's search, which sees public documents only."""

import base64
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from supportdesk.knowledge import service as knowledge_service
from supportdesk.knowledge.search import search_passages
from supportdesk.pagination import encode_cursor
from tests.factories import add_category, add_user, sign_up
from tests.knowledge.helpers import add_document, portal_search, run_jobs, search
from tests.test_bad_input import NUL, assert_problem

KB = {
    "Resetting your password": (
        "If you forgot your password, click *Forgot password* on the sign-in page and enter the email"
        " address of your account. We send a reset link that is valid for one hour. Choose a new password"
        " of at least twelve characters.\n\nIf the reset email does not arrive, check your spam folder,"
        " then ask your administrator to confirm the address on your profile."
    ),
    "Two-factor authentication": (
        "Protect your account with an authenticator app. Open Security settings, choose *Enable two-factor"
        " authentication* and scan the QR code. Keep the recovery codes somewhere safe: they let you sign"
        " in if you lose your phone."
    ),
    "Refunds and cancellations": (
        "You can cancel your subscription at any time from the Billing page. Monthly plans stop at the end"
        " of the period. Annual plans cancelled within 30 days are refunded in full; after that we refund"
        " the unused months. Refunds reach your card within five to ten business days."
    ),
    "Downloading invoices": (
        "Every invoice is on the Billing page under *Invoices*. Click an invoice to download it as a PDF."
        " Invoices show your company name and VAT number as set in your billing profile."
    ),
    "API rate limits": (
        "The REST API accepts 600 requests per minute per token. Past the limit it answers 429 Too Many"
        " Requests with a Retry-After header. Use webhooks instead of polling to stay under the limit."
    ),
    "Exporting your data": (
        "Administrators can export tickets, customers and messages as CSV from Settings > Export. Large"
        " exports are prepared in the background and emailed as a download link."
    ),
    "Single sign-on with SAML": (
        "Enterprise plans can sign in through an identity provider such as Okta or Azure AD. Upload the"
        " provider's metadata XML in Security settings, then map the email attribute."
    ),
    "Deleting your account": (
        "The account owner can delete the organization from Settings > Danger zone. Deletion is permanent"
        " after a 14-day grace period, during which you can restore everything."
    ),
}


@pytest.fixture(scope="module")
async def kb(client):
    org = await sign_up(client, name="Helpful")
    billing = await add_category(client, org, name="Billing")
    documents = {}
    for title, content in KB.items():
        category_ids = [billing["id"]] if title == "Refunds and cancellations" else []
        documents[title] = await add_document(
            client, org, title, content, is_public=True, category_ids=category_ids
        )
    documents["Escalation runbook"] = await add_document(
        client,
        org,
        "Escalation runbook",
        "Internal only: page the on-call engineer through the escalation phone tree,"
        " then post in #incidents.",
        is_public=False,
    )
    await run_jobs()
    ids = {title: document["id"] for title, document in documents.items()}
    return org, billing, ids


def titles(hits: list[dict]) -> list[str]:
    return [hit["document"]["title"] for hit in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("how do I reset my password", "Resetting your password"),
        ("refund for my annual plan", "Refunds and cancellations"),
        ("download invoice pdf", "Downloading invoices"),
        ("too many requests 429", "API rate limits"),
        ("lost my phone, need my recovery codes", "Two-factor authentication"),
        ("export tickets to csv", "Exporting your data"),
        ("okta login", "Single sign-on with SAML"),
    ],
)
async def test_the_relevant_document_ranks_first(client, kb, query, expected):
    org, _, _ = kb
    hits = await search(client, org, query)
    assert titles(hits)[0] == expected, [(h["document"]["title"], h["score"]) for h in hits]


async def test_results_are_one_per_document_best_first_with_the_document(client, kb):
    org, _, ids = kb
    hits = await search(client, org, "billing page")
    assert len(titles(hits)) == len(set(titles(hits))) >= 2
    assert [hit["score"] for hit in hits] == sorted((hit["score"] for hit in hits), reverse=True)
    assert hits[0]["document"]["content"] == KB[hits[0]["document"]["title"]]
    assert set(hits[0]["document"]) >= {"id", "title", "content", "is_public", "category_ids", "created_at"}


async def test_when_no_passage_has_every_word_any_word_will_do(client, kb):
    org, _, _ = kb
    hits = await search(client, org, "password zebra")
    assert titles(hits)[0] == "Resetting your password"


async def test_a_query_of_stop_words_or_unknown_words_finds_nothing(client, kb):
    org, _, _ = kb
    assert await search(client, org, "the and of") == []
    assert await search(client, org, "xylophone") == []


async def test_the_limit_caps_the_documents(client, kb):
    org, _, _ = kb
    assert len(await search(client, org, "settings account billing sign", limit=2)) == 2


async def test_documents_of_the_asked_for_category_rank_first(client, kb):
    org, billing, _ = kb
    # Both billing documents mention the billing page; the refund one is linked to the category.
    plain = await search(client, org, "billing page")
    boosted = await search(client, org, "billing page", category_id=billing["id"])
    assert titles(plain)[0] == "Downloading invoices"
    assert titles(boosted)[0] == "Refunds and cancellations"


async def test_the_snippet_is_short_and_marks_the_matched_words(client, kb):
    org, _, _ = kb
    (hit, *_) = await search(client, org, "spam folder")
    assert "<mark>spam</mark> <mark>folder</mark>" in hit["snippet"]
    assert len(hit["snippet"].split()) <= 60
    assert "twelve characters" not in hit["snippet"] or "spam" in hit["snippet"]


@pytest.mark.parametrize("where", ["staff", "portal"])
async def test_a_hit_whose_passage_a_reindex_replaced_keeps_its_snippet(client, kb, monkeypatch, where):
    org, _, _ = kb

    async def reindexed_after_the_search(session, *args, **kwargs):
        found = await search_passages(session, *args, **kwargs)
        # what the indexing job of an edit does meanwhile: the same passages under new ids
        await session.execute(text("UPDATE document_passages SET id = gen_random_uuid()"))
        return found

    monkeypatch.setattr(knowledge_service, "search_passages", reindexed_after_the_search)
    hits = await (portal_search if where == "portal" else search)(client, org, "spam folder")
    assert "<mark>spam</mark> <mark>folder</mark>" in hits[0]["snippet"]


async def test_the_snippet_escapes_the_documents_html(client):
    org = await sign_up(client)
    await add_document(client, org, "Widgets", 'Embed the widget with <script src="x.js"></script> & enjoy.')
    await run_jobs()
    (hit,) = await search(client, org, "widget")
    assert "<script" not in hit["snippet"]
    assert '&lt;script src="x.js"&gt;&lt;/script&gt; &amp; enjoy' in hit["snippet"]
    assert "<mark>widget</mark>" in hit["snippet"]


async def test_the_snippet_keeps_the_text_between_angle_brackets(client):
    org = await sign_up(client)
    await add_document(
        client,
        org,
        "Contact billing",
        "For a refund write to <billing@example.com> or run: refund --id <ORDER_ID> and press <Enter>.",
    )
    await run_jobs()
    (hit,) = await search(client, org, "refund")
    snippet = hit["snippet"]
    assert (
        "write to &lt;billing@example.com&gt; or run: <mark>refund</mark> --id &lt;ORDER_ID&gt; and"
        in snippet
    )
    assert "<" not in snippet.replace("<mark>", "").replace("</mark>", "")


async def test_every_staff_role_may_search(client, kb):
    org, _, _ = kb
    for role in ("agent", "analyst"):
        _, headers = await add_user(client, org, role)
        response = await client.get("/kb/search", headers=headers, params={"q": "password"})
        assert response.status_code == 200, response.text
    assert_problem(await client.get("/kb/search", params={"q": "password"}), 401)


async def test_staff_find_private_documents(client, kb):
    org, _, ids = kb
    hits = await search(client, org, "Escalation runbook")
    assert hits[0]["document"]["id"] == ids["Escalation runbook"]
    assert hits[0]["document"]["is_public"] is False


async def test_the_portal_never_shows_a_private_document_even_asked_for_by_its_exact_title(client, kb):
    org, _, ids = kb
    for query in ("Escalation runbook", '"Escalation runbook"', "escalation phone tree on-call", "incidents"):
        hits = await portal_search(client, org, query)
        assert ids["Escalation runbook"] not in {hit["document"]["id"] for hit in hits}, query
        assert all("runbook" not in hit["snippet"].lower() for hit in hits)


async def test_the_portal_finds_public_documents_without_a_token(client, kb):
    org, _, ids = kb
    hits = await portal_search(client, org, "reset my password")
    assert hits[0]["document"]["id"] == ids["Resetting your password"]
    assert set(hits[0]["document"]) == {"id", "title", "content", "updated_at"}
    assert "<mark>" in hits[0]["snippet"]


async def test_a_document_made_private_leaves_the_portal_at_once(client):
    org = await sign_up(client)
    document = await add_document(client, org, "Pricing secrets", "Our discount ladder.", is_public=True)
    await run_jobs()
    assert len(await portal_search(client, org, "discount ladder")) == 1

    response = await client.patch(
        f"/documents/{document['id']}", headers=org.headers, json={"is_public": False}
    )
    assert response.status_code == 200

    assert await portal_search(client, org, "discount ladder") == []  # before the job runs
    await run_jobs()
    assert await portal_search(client, org, "discount ladder") == []
    assert len(await search(client, org, "discount ladder")) == 1


async def test_a_private_text_stays_out_of_the_portal_when_the_document_is_published_with_a_new_one(client):
    org = await sign_up(client)
    document = await add_document(
        client, org, "Vault", "Staff only: the vault code is quokka.", is_public=False
    )
    await run_jobs()

    response = await client.patch(
        f"/documents/{document['id']}",
        headers=org.headers,
        json={"is_public": True, "content": "Opening hours of the vault: nine to five."},
    )
    assert response.status_code == 200

    assert await portal_search(client, org, "quokka") == []  # before the job runs: the old text is there
    await run_jobs()
    assert await portal_search(client, org, "quokka") == []
    assert len(await portal_search(client, org, "opening hours")) == 1


async def test_another_organizations_documents_never_appear(client, kb):
    org, _, ids = kb
    other = await sign_up(client, name="Other")
    theirs = await add_document(
        client, other, "Resetting your password", KB["Resetting your password"], is_public=True
    )
    await run_jobs()

    mine = await search(client, org, "reset password")
    assert theirs["id"] not in {hit["document"]["id"] for hit in mine}
    assert ids["Resetting your password"] in {hit["document"]["id"] for hit in mine}
    assert [hit["document"]["id"] for hit in await search(client, other, "reset password")] == [theirs["id"]]
    assert [hit["document"]["id"] for hit in await portal_search(client, other, "password")] == [theirs["id"]]
    # Their only document is no answer to a refund (the vectors may still offer it), and ours never come.
    assert {hit["document"]["id"] for hit in await search(client, other, "refund")} <= {theirs["id"]}


async def follow(client, path: str, headers: dict, q: str, limit: int) -> list[dict]:
    """Every page of a search, by its cursors."""
    hits, params = [], {"q": q, "limit": limit}
    while True:
        response = await client.get(path, headers=headers, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["data"]) <= limit
        hits += page["data"]
        if page["next_cursor"] is None:
            return hits
        params["cursor"] = page["next_cursor"]


@pytest.mark.parametrize("portal", [False, True])
async def test_a_search_pages_by_its_cursor_in_the_order_of_one_page(client, kb, portal):
    org, _, _ = kb
    path, headers = (f"/portal/{org.id}/kb/search", {}) if portal else ("/kb/search", org.headers)
    whole = (await client.get(path, headers=headers, params={"q": "account billing password"})).json()
    assert whole["next_cursor"] is None and len(whole["data"]) >= 5  # the default page holds them all
    paged = await follow(client, path, headers, "account billing password", limit=2)
    assert [hit["document"]["id"] for hit in paged] == [hit["document"]["id"] for hit in whole["data"]]


async def test_walking_the_pages_of_a_search_with_more_results_than_candidates_meets_each_once(client):
    org = await sign_up(client)
    for i in range(70):  # more matches than the vector side's candidates
        await add_document(client, org, f"Printer {i}", f"Printer troubleshooting guide number {i}.")
    await run_jobs()

    whole = (
        await client.get("/kb/search", headers=org.headers, params={"q": "printer", "limit": 100})
    ).json()
    paged = await follow(client, "/kb/search", org.headers, "printer", limit=7)

    ids = [hit["document"]["id"] for hit in paged]
    assert len(ids) == len(set(ids)) == 70
    assert ids == [hit["document"]["id"] for hit in whole["data"]]
    assert [hit["score"] for hit in paged] == [hit["score"] for hit in whole["data"]]


def offset_cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "not a cursor",
        offset_cursor([0]),
        offset_cursor([200]),  # as deep as a search goes
        offset_cursor([True]),
        offset_cursor(["2"]),
        offset_cursor([2, 3]),
        encode_cursor(datetime.now(UTC), uuid.uuid4()),  # a list's cursor
    ],
)
async def test_a_cursor_the_search_did_not_issue_is_a_422(client, kb, cursor):
    org, _, _ = kb
    params = {"q": "password", "cursor": cursor}
    assert_problem(await client.get("/kb/search", headers=org.headers, params=params), 422, "invalid_cursor")
    assert_problem(await client.get(f"/portal/{org.id}/kb/search", params=params), 422, "invalid_cursor")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "   "},
        {"q": "x" * 501},
        {"q": NUL},
        {"q": "password", "limit": "0"},
        {"q": "password", "limit": "101"},
        {"q": "password", "limit": "ten"},
        {"q": "password", "cursor": "c" * 201},
        {"q": "password", "category_id": "not-a-uuid"},
    ],
)
async def test_bad_input_is_a_422(client, kb, params):
    org, _, _ = kb
    assert_problem(await client.get("/kb/search", headers=org.headers, params=params), 422)
    assert_problem(await client.get(f"/portal/{org.id}/kb/search", params=params), 422)


async def test_the_portal_search_of_an_unknown_organization_is_a_404(client):
    assert_problem(await client.get("/portal/not-a-uuid/kb/search", params={"q": "x"}), 422)
    response = await client.get(
        "/portal/00000000-0000-4000-8000-000000000000/kb/search", params={"q": "password"}
    )
    assert_problem(response, 404)
