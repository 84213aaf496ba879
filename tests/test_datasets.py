"""Dataset files of the evaluations: clear errors for unreadable files, and rows made into what the API
accepts."""

import pytest

from supportdesk import datasets
from supportdesk.schemas import DOCUMENT_MAX, NAME_MAX


def test_rows_are_read_with_their_required_fields(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "a", "text": "hi"}\n\n{"id": "b", "text": "yo", "extra": 1}\n')
    assert [row["id"] for row in datasets.read_jsonl(str(path), ["id", "text"])] == ["a", "b"]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ('{"id": "a", "text": "hi"}\n{"id": \n', "line 2, column 8: not JSON"),
        ('{"id": "a", "text": "hi"}\n["a"]\n', "line 2: not a JSON object"),
        ('{"id": "a", "text": "hi"}\n{"text": "yo"}\n', "line 2: no id"),
    ],
)
def test_an_unreadable_row_is_named_by_its_line(tmp_path, content, error):
    path = tmp_path / "rows.jsonl"
    path.write_text(content)
    with pytest.raises(datasets.DatasetError, match=error):
        datasets.read_jsonl(str(path), ["id", "text"])


def test_a_missing_or_undecodable_file_is_a_dataset_error(tmp_path):
    with pytest.raises(datasets.DatasetError, match="nowhere.jsonl"):
        datasets.read_jsonl(str(tmp_path / "nowhere.jsonl"))
    binary = tmp_path / "binary.jsonl"
    binary.write_bytes(b"\xff\xfe{")
    with pytest.raises(datasets.DatasetError, match="binary.jsonl"):
        datasets.read_jsonl(str(binary))


def test_a_long_text_becomes_a_title_cut_between_words_and_a_description():
    title, description = datasets.as_ticket("word " * 100 + "\x00end")
    assert len(title) <= NAME_MAX and title.endswith("word") and "\x00" not in description
    assert f"{title} {description}".split() == ["word"] * 100 + ["end"]
    assert datasets.as_ticket(None) == ("", "")


def test_a_document_without_a_title_or_content_borrows_one_from_the_other():
    assert datasets.as_document({"id": "d1", "title": " ", "content": "First line\nSecond"}) == (
        "First line",
        "First line\nSecond",
    )
    assert datasets.as_document({"id": "d2", "title": "Refunds", "content": ""}) == ("Refunds", "Refunds")
    assert datasets.as_document({"id": "d3"}) == ("d3", "d3")
    title, content = datasets.as_document(
        {"id": "d4", "title": "t " * 200, "content": "x" * (DOCUMENT_MAX + 5)}
    )
    assert len(title) <= NAME_MAX and len(content) == DOCUMENT_MAX


def test_a_query_is_asked_of_the_lone_knowledge_base_or_else_of_its_own():
    one = datasets.knowledge_bases([{"id": "d1", "kb": "shop"}, {"id": "d2", "kb": "shop"}])
    several = datasets.knowledge_bases([{"id": "d1", "kb": "shop"}, {"id": "d2"}])
    assert list(one) == ["shop"] and sorted(several) == ["", "shop"]
    assert datasets.knowledge_base_of({"text": "q", "kb": "other"}, one) == "shop"
    assert datasets.knowledge_base_of({"text": "q"}, one) == "shop"
    assert datasets.knowledge_base_of({"text": "q", "kb": "other"}, several) == "other"
    assert datasets.knowledge_base_of({"text": "q"}, several) == ""


def test_a_byte_order_mark_and_lone_surrogates_are_read_past(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_text('{"id": "a", "text": "cut emoji \\ud83d here\\u0000"}\n', encoding="utf-8-sig")
    [row] = datasets.read_jsonl(str(path), ["id", "text"])
    assert datasets.clean(row["text"]) == "cut emoji  here"
    assert datasets.as_ticket(row["text"]) == ("cut emoji  here", "")


def test_gold_documents_are_a_set_of_strings_however_written():
    assert datasets.gold_documents({"gold_doc_ids": ["a", 2]}) == {"a", "2"}
    assert datasets.gold_documents({"gold_doc_ids": "a"}) == {"a"}  # not {"a"} by its letters
    assert datasets.gold_documents({"gold_doc_ids": []}) == datasets.gold_documents({}) == set()
