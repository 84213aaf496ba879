"""Splitting documents into passages: whole paragraphs and sentences, 100–250 words, titled."""

from supportdesk.knowledge.passages import PASSAGE_MAX_WORDS, split_passages


def paragraph(words: int, word: str = "lorem") -> str:
    return " ".join([word] * (words - 1) + [f"{word}."])


def test_a_short_document_is_one_passage_headed_by_its_title():
    (passage,) = split_passages("Resetting your password", "Click *Forgot password* on the login page.")
    assert passage.heading == "Resetting your password"
    assert passage.content == "Click *Forgot password* on the login page."
    assert passage.text.startswith("Resetting your password\n\n")


def test_a_long_document_is_split_on_paragraphs_into_passages_of_100_to_250_words():
    content = "\n\n".join(paragraph(60, f"w{i}") for i in range(12))  # 720 words
    passages = split_passages("Guide", content)
    sizes = [len(p.content.split()) for p in passages]
    assert len(passages) > 1
    assert all(100 <= size <= PASSAGE_MAX_WORDS for size in sizes), sizes
    assert sum(sizes) == 720
    assert [p.position for p in passages] == list(range(len(passages)))
    # No paragraph is cut in two.
    assert all(chunk.count("w") % 60 == 0 for chunk in (p.content for p in passages))


def test_a_paragraph_too_long_for_a_passage_is_split_between_sentences():
    sentences = [f"Sentence {i} says " + "word " * 30 + "end." for i in range(20)]  # ~680 words
    passages = split_passages("Guide", " ".join(sentences))
    assert len(passages) >= 3
    for passage in passages:
        assert len(passage.content.split()) <= PASSAGE_MAX_WORDS
        assert passage.content.startswith("Sentence") and passage.content.endswith("end.")


def test_text_without_sentences_is_cut_by_words():
    passages = split_passages("Log", "x " * 1000)
    assert all(len(p.content.split()) <= PASSAGE_MAX_WORDS for p in passages)
    assert sum(len(p.content.split()) for p in passages) == 1000


def test_markdown_sections_start_passages_headed_by_title_and_section():
    content = "Intro text.\n\n## Billing\nWe bill monthly.\n\n## Refunds\n\nRefunds take five days."
    passages = split_passages("Payments", content)
    assert [(p.heading, p.content) for p in passages] == [
        ("Payments", "Intro text."),
        ("Payments — Billing", "We bill monthly."),
        ("Payments — Refunds", "Refunds take five days."),
    ]


def test_a_short_last_piece_joins_the_passage_before_it():
    passages = split_passages("Guide", paragraph(150) + "\n\n" + paragraph(20, "tail"))
    assert len(passages) == 1
