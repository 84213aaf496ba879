"""The retrieval evaluation on a tiny slice of stackfaq: the product's own path, both rankings."""

from pathlib import Path

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.datasets import read_jsonl
from supportdesk.knowledge.evaluate import average_precision, evaluate_retrieval, metrics

STACKFAQ = Path("/work/shared/datasets/stackfaq")


def test_average_precision():
    assert average_precision(["a", "x", "b"], {"a", "b"}) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(["x"], {"a"}) == 0


def test_a_document_listed_twice_counts_once_and_no_query_measures_nothing():
    # two documents of the file with the same id "a", both found: MAP was 1.5
    assert metrics([(["a", "a", "x", "b"], {"a", "b"})], 0.0).map == pytest.approx((1 + 2 / 3) / 2)
    assert metrics([], 0.0).as_dict() == {
        "queries": 0,
        "recall@1": None,
        "recall@5": None,
        "MAP": None,
        "mean_ms": None,
    }


@pytest.mark.skipif(not STACKFAQ.exists(), reason="the shared datasets are not on this machine")
async def test_stackfaq_slice_is_loaded_indexed_and_ranked(client):
    docs = [doc for doc in read_jsonl(STACKFAQ / "docs.jsonl") if doc["id"] < "stackfaq:t004"]
    queries = [query for query in read_jsonl(STACKFAQ / "queries.jsonl") if query["id"] < "stackfaq:t004"]
    assert 4 <= len(docs) <= 16
    async with db.system_session() as session:
        organizations = await session.scalar(text("SELECT count(*) FROM organizations"))

    results = await evaluate_retrieval(docs, queries)

    assert set(results) == {"lexical", "hybrid"}
    assert results["hybrid"]["queries"] == len([query for query in queries if query["gold_doc_ids"]])
    assert results["hybrid"]["MAP"] >= results["lexical"]["MAP"]
    assert results["hybrid"]["recall@5"] >= 0.8
    async with db.system_session() as session:  # the scratch organization is gone
        assert await session.scalar(text("SELECT count(*) FROM organizations")) == organizations
