"""A question that asks for the opposite of what a document describes: "How do I import a CSV file?"
answered with "Exporting a project to CSV". Sentence embeddings put an action and its opposite side by
side (a tester's knowledge base gave that answer 0.95, and "How do I disable two-factor authentication?"
the set-up document 0.87), so the auto-responder checks the words themselves before it answers.

A pair counts only when the question asks for one action, the document never names it (in any form)
and names the other: the document that explains both is the right one. Cancelling is asked about the
thing requested ("How do I cancel my refund request?"), so there the question may name both. Of the
development sets' 2,484 pairs of a question and a document that answers it, one reads as opposites:
"can I import contacts from my old account?" and a document on exporting them (`eval answer` figures
in the README); so it was before removing, getting rid of, stopping using and cancelling were added.
"""

import re
from typing import NamedTuple

# Pairs of opposite actions, each a few ways of saying it. Not an undoing ("unlock", "unarchive",
# "unpin"): the document on locking an account usually says how it is unlocked, in other words. Removing
# is switching off: "How do I remove two-factor authentication?" was answered with the set-up document
# (0.87). Not "add" (documents say "emphasis added", "they added an option": three gold pairs of the
# development sets read as opposites with it) nor "delete" ("what should I delete?" and a document that
# "enables me to" see file sizes: two).
OPPOSITE_ACTIONS = (
    (("import",), ("export",)),
    (
        ("enable", "activate", "turn on", "switch on", "set up", "start using"),
        ("disable", "deactivate", "turn off", "switch off", "stop using", "get rid of", "remove"),
    ),
    (("upload",), ("download",)),
    (("subscribe",), ("unsubscribe",)),
    (("install",), ("uninstall",)),
    (("upgrade",), ("downgrade",)),
    (("connect",), ("disconnect",)),
    (("encrypt",), ("decrypt",)),
)
# Cancelling names what it cancels ("I requested a refund by mistake. How do I cancel my refund
# request?"): a question asking to cancel a request may name it, and a document that says how to request
# one and never cancels does not answer it. Only a request cancelled: "If I cancel my subscription, how do
# I request a refund?" and "Can I get a refund if I cancel?" ask for the refund. Not "place", "make" or
# "order": "the order I placed", "make sure".
CANCELLING = (("cancel",), ("request", "book", "submit"))
_CANCELLING_A_REQUEST = re.compile(
    r"\bcancel\s+(?:(?:my|the|a|an|this|that|our)\s+)?(?:\w+\s+)?(?:request|booking|submission)s?\b",
    re.IGNORECASE,
)
# Words before an action that make it no request: "not remove it", "I've accidentally set up".
_NOT_ASKING = re.compile(
    r"\b(?:not|never|don't|dont|without|have|has|had|i've|ive|we've|been|was|were)\s+(?:\w+ly\s+)?$",
    re.IGNORECASE,
)


def _forms(phrases: tuple[str, ...], *, inflected: bool = True) -> re.Pattern[str]:
    """The phrases as words, their verb inflected: import, imports, imported, importing (not
    "important"); turn off, turned off, turn it off; set up, setting up, set-up; installation,
    cancellation. Not `inflected`: the verb as asked for ("how do I import", "I want to turn off")."""
    alternatives = []
    for phrase in phrases:
        verb, *rest = phrase.split()
        if inflected:
            stem, double = verb.removesuffix("e"), verb + verb[-1]
            verb = rf"(?:{verb}|{stem})(?:s|es|d|ed|ing|ation)?|{double}(?:ed|ing|ation)"
        # "turn it off": a word may come between the verb and its particle
        alternatives.append(rf"(?:{verb})" + "".join(rf"(?:[ -]+\w+)?[ -]+{word}" for word in rest))
    return re.compile(rf"\b(?:{'|'.join(alternatives)})\b", re.IGNORECASE)


class _Pair(NamedTuple):
    asked: str
    described: str
    asks: re.Pattern[str]
    names_asked: re.Pattern[str]
    names_described: re.Pattern[str]
    may_name_both: bool  # whether the question may name the described action too


def _pair(asked: tuple[str, ...], described: tuple[str, ...], *, may_name_both: bool = False) -> _Pair:
    return _Pair(
        asked[0],
        described[0],
        _forms(asked, inflected=False),
        _forms(asked),
        _forms(described),
        may_name_both,
    )


_PAIRS = [
    *(
        _pair(asked, described)
        for one, other in OPPOSITE_ACTIONS
        for asked, described in ((one, other), (other, one))
    ),
    _pair(*CANCELLING, may_name_both=True)._replace(asks=_CANCELLING_A_REQUEST),
    _pair(*reversed(CANCELLING)),
]


def _asks(action: re.Pattern[str], question: str) -> bool:
    return any(not _NOT_ASKING.search(question, 0, m.start()) for m in action.finditer(question))


def asked_opposite(question: str, document: str) -> tuple[str, str] | None:
    """(what the question asks to do, what the document describes instead), or None. The question
    asks for an action in its plain form, not negated and not done: "which files is it downloading",
    "I've set it up" report, not ask."""
    for pair in _PAIRS:
        if (
            _asks(pair.asks, question)
            and (pair.may_name_both or not pair.names_described.search(question))
            and pair.names_described.search(document)
            and not pair.names_asked.search(document)
        ):
            return pair.asked, pair.described
    return None
