"""Dataset files of the evaluations (JSON lines, the formats of ../shared/datasets/README.md).

Read with an error that names the file and the line, not a traceback; their rows made into what the
product accepts from a person: real datasets have empty or overlong titles, documents longer than the
API takes and stray NUL characters, and an evaluation should measure the product on them, not stop.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Collection, Sequence

from supportdesk.schemas import DOCUMENT_MAX, LONG_TEXT_MAX, NAME_MAX


class DatasetError(ValueError):
    """A dataset file that cannot be read: the message says where."""


def read_jsonl(path: str, required: Sequence[str | tuple[str, ...]] = ()) -> list[dict]:
    """The file's rows (JSON objects, blank lines skipped), each with the `required` fields (a tuple:
    one of them at least)."""
    rows = []
    try:
        with open(path, encoding="utf-8-sig") as lines:  # a byte order mark is no JSON error
            for number, line in enumerate(lines, start=1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line.rstrip("\r\n"))
                except json.JSONDecodeError as error:
                    raise DatasetError(
                        f"{path}, line {number}, column {error.colno}: not JSON: {error.msg}"
                    ) from None
                if not isinstance(row, dict):
                    raise DatasetError(f"{path}, line {number}: not a JSON object")
                missing = [
                    " or ".join(names)
                    for names in ((need,) if isinstance(need, str) else need for need in required)
                    if not any(name in row for name in names)
                ]
                if missing:
                    raise DatasetError(f"{path}, line {number}: no {', '.join(missing)}")
                rows.append(row)
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: {error}") from None
    return rows


# NUL, which PostgreSQL text cannot hold, and lone UTF-16 surrogates ("\ud83d" of an emoji cut in
# half by a scraper), which no UTF-8 text can.
_UNTYPABLE = re.compile("[\x00\ud800-\udfff]")


def clean(value: object) -> str:
    """A row's text as a person could have typed it: a string, without NUL characters or lone
    surrogates, trimmed."""
    return _UNTYPABLE.sub("", "" if value is None else str(value)).strip()


def _split(text: str, limit: int) -> int:
    """Where to cut `text` to at most `limit` characters: the last space before it, if any."""
    if len(text) <= limit:
        return len(text)
    space = text.rfind(" ", 0, limit)
    return space if space > 0 else limit


def as_ticket(value: object) -> tuple[str, str]:
    """(title, description) of a dataset row's text: all of it in the title when it fits."""
    text = clean(value)
    cut = _split(text, NAME_MAX)
    return text[:cut], text[cut:].strip()[:LONG_TEXT_MAX]


def as_document(row: dict) -> tuple[str, str]:
    """(title, content) of a knowledge-base row: without a title, its content's first line (or its id)
    stands for one; without content, its title."""
    content = clean(row.get("content"))[:DOCUMENT_MAX]
    title = clean(row.get("title")) or clean(content.split("\n", 1)[0]) or clean(row.get("id"))
    title = title[: _split(title, NAME_MAX)]
    return title, content or title


def knowledge_bases(docs: Sequence[dict]) -> dict[str, list[dict]]:
    """The documents of each knowledge base, by its `kb` ("" for documents without one)."""
    by_kb: dict[str, list[dict]] = defaultdict(list)
    for doc in docs:
        by_kb[str(doc.get("kb") or "")].append(doc)
    return dict(by_kb)


def knowledge_base_of(query: dict, names: Collection[str]) -> str:
    """The knowledge base a query is asked of, of those `names`: with one, that one, whatever the query's
    `kb`; with several, its own (a name none has when it has none of them)."""
    return next(iter(names)) if len(names) == 1 else str(query.get("kb") or "")


def gold_documents(query: dict) -> set[str]:
    """A query's gold document ids, as strings (a lone id is read as a list of one; none: unanswerable)."""
    gold = query.get("gold_doc_ids")
    if gold is None:
        return set()
    return {str(gold)} if isinstance(gold, str | int) else {str(document_id) for document_id in gold}
