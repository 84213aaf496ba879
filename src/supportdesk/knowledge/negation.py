"""A search query's excluded terms. websearch_to_tsquery reads "-word" and '-"a phrase"' (first, or after
a space) as NOT, so the all-terms full-text query honours them by itself; the any-term fallback, the
query's embedding and the vector candidates are told here ("shipping -international" found, and
highlighted, "International shipping": the fallback dropped the "-", the vectors read the word)."""

import re
from dataclasses import dataclass

# "--id" (a command's option, more likely quoted than negated twice) is not an exclusion.
_EXCLUDED = re.compile(r'(?<!\S)-(?!-)("[^"]*"?|\S+)')
_WORD = re.compile(r"\w")
# websearch_to_tsquery stacks a NOT for each sign before no word, and fails past 32 of them ("tsquery
# stack too small", a 500): a line of dashes pasted from an email, "- - -", "-( -( -(".
_SIGNS = re.compile(r"[-!]{2,}")
_SIGN_BEFORE_NO_WORD = re.compile(r'[-!](?![\w"])')


def websearch_text(query: str) -> str:
    """The query without the signs that negate nothing: a run of them ("--id", "-----") and one before
    no word or phrase. What negates a word or a phrase ("-word", '-"a phrase"') stays."""
    return _SIGN_BEFORE_NO_WORD.sub(" ", _SIGNS.sub(" ", query))


@dataclass(frozen=True)
class Negation:
    wanted: str  # the query without its excluded terms
    excluded: tuple[str, ...]  # each as websearch syntax: a word, or a quoted phrase

    @property
    def any_excluded(self) -> str | None:
        """The websearch query a passage matches when it has any excluded term; None when none."""
        return " or ".join(self.excluded) or None


def split_negation(query: str) -> Negation:
    excluded = tuple(term for term in _EXCLUDED.findall(query) if _WORD.search(term))
    return Negation(" ".join(_EXCLUDED.sub(" ", query).split()), excluded)
