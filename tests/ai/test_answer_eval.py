"""`supportdesk eval answer`: the threshold chosen for a target precision, the answer metrics, and a run
through the production path (scratch organization, tickets, jobs) on a tiny knowledge base."""

import pytest
from sqlalchemy import text

from supportdesk import db
from supportdesk.ai import answer_eval
from tests.ai.test_auto_answer import PUBLIC_DOCUMENTS


def scored(confidence, right, gold=True, outcome="suggested"):
    return {"confidence": confidence, "right": right, "gold": {"d"} if gold else set(), "outcome": outcome}


def test_the_threshold_is_the_lowest_reaching_the_target_precision():
    rows = [scored(0.9, True), scored(0.8, True), scored(0.7, False), scored(0.6, True), scored(0.5, False)]
    assert answer_eval.choose_threshold(rows, 1.0) == 0.8
    assert answer_eval.choose_threshold(rows, 0.75) == 0.6
    assert answer_eval.choose_threshold([scored(0.9, False)], 0.95) == 1.0
    assert answer_eval.choose_threshold([], 0.95) == 1.0


def test_the_calibration_says_what_its_precision_rests_on():
    rows = [scored(0.9 - i / 100, i != 5) for i in range(20)] + [scored(None, False)]
    summary = answer_eval.calibration_summary(rows, 0.8)  # the 11 best: one wrong among them
    assert (summary["answered"], summary["answered_correctly"], summary["precision"]) == (11, 10, 0.9091)
    low, high = summary["precision_interval_90"]
    assert 0.6 < low < 0.9091 < high < 1.0
    assert answer_eval.calibration_summary(rows, 1.0) == {"answered": 0, "answered_correctly": 0}


def test_answer_metrics_count_rightful_hand_offs():
    rows = [
        scored(0.9, True, outcome="answered"),
        scored(0.9, False, outcome="answered"),
        scored(0.3, False, gold=False, outcome="declined"),  # rightly handed off
        scored(0.5, True, outcome="suggested"),  # answerable, handed off
    ]
    m = answer_eval.answer_metrics(rows)
    assert (m["answered"], m["answered_correctly"], m["answered_wrongly"], m["handed_off"]) == (2, 1, 1, 2)
    assert m["precision"] == 0.5 and m["coverage"] == 0.5 and m["accuracy"] == 0.5
    assert m["accuracy_if_always_handed_off"] == 0.25


async def test_a_run_through_the_production_path(client):
    docs = [{"id": f"doc{i}", "title": t, "content": c} for i, (t, c) in enumerate(PUBLIC_DOCUMENTS)]
    queries = [
        {"id": "q1", "text": "How do I reset my password?", "gold_doc_ids": ["doc0"]},
        {"id": "q2", "text": "How long does shipping take?", "gold_doc_ids": ["doc2"]},
        {"id": "q3", "text": "Which restaurant do you recommend for a birthday dinner?", "gold_doc_ids": []},
    ]
    async with db.system_session() as session:
        organizations = await session.scalar(text("SELECT count(*) FROM organizations"))
    result = await answer_eval.evaluate(docs, queries, calibration=queries, target_precision=0.95)
    answers = result["overall"]
    assert answers["queries"] == 3 and answers["answered_wrongly"] == 0
    assert answers["answered_correctly"] == 2 and answers["accuracy"] == 1.0
    [kb] = result["knowledge_bases"].values()
    assert kb["threshold"] == pytest.approx(kb["calibration"]["threshold"], abs=1e-4) and kb["threshold"] < 1
    assert kb["calibration"]["answered"] == kb["calibration"]["answered_correctly"] == 2
    assert kb["calibration"]["marked"] == 3  # each calibration ticket marked with its document, or none
    assert kb["retrieval"]["answer_model"]["recall@1"] == 1.0
    assert set(kb["retrieval"]) == {"answer_model", "search_hybrid", "search_lexical"}
    async with db.system_session() as session:  # the scratch organization is gone
        assert await session.scalar(text("SELECT count(*) FROM organizations")) == organizations


async def test_rows_the_api_would_refuse_are_measured_all_the_same(client):
    """Real datasets have documents without a title or content, titles longer than a ticket's, empty
    questions and NUL characters: each becomes what a person could have typed, none stops the run."""
    (title, content), *_ = PUBLIC_DOCUMENTS
    docs = [
        {"id": "untitled", "title": "", "content": content},
        {"id": "empty", "title": "Refunds \ud83d", "content": ""},  # half an emoji
        {"id": "long", "title": "Shipping " * 60, "content": "Parcels\u0000 ship in two days."},
    ]
    queries = [
        {"id": "q1", "text": title, "gold_doc_ids": ["untitled"]},
        {"id": "q2", "text": "", "gold_doc_ids": []},
        {"id": "q3", "text": "When does my parcel ship? " * 30, "gold_doc_ids": "long"},  # one, not a list
        {"id": "q4", "text": "refund\u0000 please \udc00"},
        {"id": "q5", "text": "Where is my invoice?", "gold_doc_ids": ["invoices"]},  # no such document
    ]
    result = await answer_eval.evaluate(docs, [{**query, "kb": "elsewhere"} for query in queries])
    assert result["overall"]["queries"] == 5  # one knowledge base: every question is asked of it
    [kb] = result["knowledge_bases"].values()
    assert kb["documents"] == 3 and kb["retrieval"]["search_hybrid"]["queries"] == 3
    assert kb["answers"]["gold_not_in_documents"] == 1


async def test_a_knowledge_base_without_calibration_questions_keeps_the_default_threshold(client):
    docs = [
        {"id": f"doc{i}", "title": t, "content": c, "kb": "a"} for i, (t, c) in enumerate(PUBLIC_DOCUMENTS)
    ]
    docs.append({"id": "other", "title": "Opening hours", "content": "We are open 9 to 5.", "kb": "b"})
    calibration = [{"id": "c1", "text": "How do I reset my password?", "gold_doc_ids": ["doc0"], "kb": "a"}]
    query = {"id": "q1", "text": "When are you open?", "gold_doc_ids": ["other"], "kb": "b"}
    result = await answer_eval.evaluate(docs, [query], calibration=calibration)
    b = result["knowledge_bases"]["b"]
    assert b["calibration"] == {"queries": 0, "threshold": None} and b["threshold"] == pytest.approx(0.8)
    assert result["knowledge_bases"]["a"]["calibration"]["queries"] == 1
