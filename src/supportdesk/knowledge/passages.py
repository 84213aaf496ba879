"""Splitting a document into passages: the unit that search ranks, snippets quote and (later)
embeddings describe.

A passage is about 100–250 words of whole paragraphs, or whole sentences of a paragraph too long
for one, never crossing a Markdown section heading. Its heading is the document's title (and the
section's heading), which search weighs above the text and an embedding reads first.
"""

import re
from dataclasses import dataclass

PASSAGE_MIN_WORDS = 100
PASSAGE_MAX_WORDS = 250
# A section's last piece shorter than this joins the passage before it when both fit in one.
TAIL_MIN_WORDS = 40
HEADING_SEPARATOR = " — "

_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(?P<text>.+?)\s*#*\s*$")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class Passage:
    position: int
    heading: str
    content: str

    @property
    def text(self) -> str:
        """What a model reads: the heading for context, then the passage."""
        return f"{self.heading}\n\n{self.content}"


def _words(text: str) -> int:
    return len(text.split())


def _pieces(paragraph: str) -> list[str]:
    """A paragraph as pieces of at most PASSAGE_MAX_WORDS: whole sentences where they fit."""
    if _words(paragraph) <= PASSAGE_MAX_WORDS:
        return [paragraph]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        words = sentence.split()
        # A "sentence" longer than a passage (a list without full stops, a log dump) is cut by words.
        pieces.extend(
            " ".join(words[start : start + PASSAGE_MAX_WORDS])
            for start in range(0, len(words), PASSAGE_MAX_WORDS)
        )
    return pieces


def _pack(pieces: list[str]) -> list[str]:
    """Consecutive pieces joined into passages of PASSAGE_MIN_WORDS to PASSAGE_MAX_WORDS words."""
    passages: list[list[str]] = []
    current: list[str] = []
    current_words = 0
    for piece in pieces:
        words = _words(piece)
        if current and (current_words >= PASSAGE_MIN_WORDS or current_words + words > PASSAGE_MAX_WORDS):
            passages.append(current)
            current, current_words = [], 0
        current.append(piece)
        current_words += words
    if current:
        last_words = sum(_words(piece) for piece in current)
        previous_words = sum(_words(piece) for piece in passages[-1]) if passages else 0
        if passages and last_words < TAIL_MIN_WORDS and previous_words + last_words <= PASSAGE_MAX_WORDS:
            passages[-1].extend(current)
        else:
            passages.append(current)
    return ["\n\n".join(passage) for passage in passages]


def _sections(content: str) -> list[tuple[str | None, list[str]]]:
    """The content's paragraphs, grouped under the Markdown heading (if any) they follow."""
    sections: list[tuple[str | None, list[str]]] = [(None, [])]
    for block in _PARAGRAPH_BREAK.split(content.replace("\r\n", "\n")):
        lines = block.strip().split("\n")
        match = _HEADING.match(lines[0])
        if match:
            sections.append((match.group("text"), []))
            lines = lines[1:]
        paragraph = "\n".join(lines).strip()
        if paragraph:
            sections[-1][1].append(paragraph)
    return [(heading, paragraphs) for heading, paragraphs in sections if paragraphs]


def split_passages(title: str, content: str) -> list[Passage]:
    """The passages of one document, in reading order. A document with no text has one: its title."""
    passages: list[Passage] = []
    for section, paragraphs in _sections(content):
        heading = f"{title}{HEADING_SEPARATOR}{section}" if section else title
        pieces = [piece for paragraph in paragraphs for piece in _pieces(paragraph)]
        for text in _pack(pieces):
            passages.append(Passage(position=len(passages), heading=heading, content=text))
    return passages or [Passage(position=0, heading=title, content=content.strip() or title)]
