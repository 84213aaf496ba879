"""A question that asks for the opposite of what a document describes: "How do I import a CSV file?"
answered with "Exporting a project to CSV". Sentence embeddings put an action and its opposite side by
side (a tester's knowledge base gave that answer 0.95, and "How do I disable two-factor authentication?"
the set-up document 0.87), so the auto-responder checks the words themselves before it answers.

A pair counts only when the question asks for one action, the document never names it (in any form)
and names the other: the document that explains both is the right one. Of the development sets' 2,484
pairs of a question and a document that answers it, one reads as opposites: "can I import contacts
from my old account?" and a document on exporting them (`eval answer` figures in the README).
"""

import re

# Pairs of opposite actions, each a few ways of saying it. Not an undoing ("unlock", "unarchive",
# "unpin"): the document on locking an account usually says how it is unlocked, in other words.
OPPOSITE_ACTIONS = (
    (("import",), ("export",)),
    (
        ("enable", "activate", "turn on", "switch on", "set up"),
        ("disable", "deactivate", "turn off", "switch off"),
    ),
    (("upload",), ("download",)),
    (("subscribe",), ("unsubscribe",)),
    (("install",), ("uninstall",)),
    (("upgrade",), ("downgrade",)),
    (("connect",), ("disconnect",)),
    (("encrypt",), ("decrypt",)),
)


def _forms(phrases: tuple[str, ...], *, inflected: bool = True) -> re.Pattern[str]:
    """The phrases as words, their verb inflected: import, imports, imported, importing (not
    "important"); turn off, turned off, turn it off; set up, setting up, set-up. Not
    `inflected`: the verb as asked for ("how do I import", "I want to turn off")."""
    alternatives = []
    for phrase in phrases:
        verb, *rest = phrase.split()
        if inflected:
            verb = rf"(?:{verb}|{verb.removesuffix('e')})(?:s|es|d|ed|ing)?|{verb}{verb[-1]}(?:ed|ing)"
        # "turn it off": a word may come between the verb and its particle
        alternatives.append(rf"(?:{verb})" + "".join(rf"(?:[ -]+\w+)?[ -]+{word}" for word in rest))
    return re.compile(rf"\b(?:{'|'.join(alternatives)})\b", re.IGNORECASE)


_PAIRS = [
    (asked[0], described[0], _forms(asked, inflected=False), _forms(asked), _forms(described))
    for one, other in OPPOSITE_ACTIONS
    for asked, described in ((one, other), (other, one))
]


def asked_opposite(question: str, document: str) -> tuple[str, str] | None:
    """(what the question asks to do, what the document describes instead), or None. The question
    asks for an action in its plain form: "which files is it downloading" reports, not asks."""
    for asked, described, asks, names_asked, names_described in _PAIRS:
        if (
            asks.search(question)
            and not names_described.search(question)
            and names_described.search(document)
            and not names_asked.search(document)
        ):
            return asked, described
    return None
