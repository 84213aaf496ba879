"""Criticality from ticket text: urgency, impact and anger cues → low / medium / high / critical.

Deliberately rules, not a model: no public data labels ticket criticality, the cues are few and stable,
and every decision can be explained (``cues`` lists what was found). Costs microseconds.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

LEVELS = ("low", "medium", "high", "critical")
HIGH, CRITICAL = 3, 6  # the scores at which those levels start
SEVERE_KINDS = ("outage", "security", "data loss", "money taken")  # each at least high on its own

# (weight, kind, pattern); patterns are matched on lowercased text at word boundaries.
_CUES: list[tuple[int, str, str]] = [
    # severe impact: outage, security, money lost, legal
    (
        4,
        "outage",
        r"(?:is|are|went|goes|been) (?:completely |totally )?(?:down|unavailable)|outage"
        r"|not loading for anyone",
    ),
    (4, "outage", r"production (?:is )?(?:down|broken)|site (?:is )?down|service (?:is )?down"),
    # nobody can use it: "completely unusable for everyone", "nobody in our company can sign in"
    (
        4,
        "outage",
        r"(?:completely|totally|entirely) (?:unusable|inaccessible)|unusable for (?:everyone|all|anyone)"
        r"|(?:nobody|no one)(?: [\w']+){0,6} can (?:sign ?in|log ?in|login|access|use)"
        r"|(?:won't|doesn't|does not|will not|isn't|is not) (?:load|loading|open|opening|start|work|working)"
        r" for (?:anyone|anybody|everyone|everybody|any of us|all of us)",
    ),
    # "401 unauthorized" is a status line, a "memory leak" a bug
    (
        4,
        "security",
        r"hack(?:ed|er)|breach|compromised|(?<!401 )unauthori[sz]ed|fraud(?:ulent)?|stolen|phishing"
        r"|(?<!memory )leak(?:ed|ing)?|exposed|(?:used|using|accessed|charged|taken|withdrawn|made|changed"
        r"|opened) (?:\w+ ){0,3}without (?:my|our) (?:permission|consent|authori[sz]ation)",
    ),
    # a stranger in the account, or someone else's data in it
    (
        4,
        "security",
        r"(?<!whether )(?<!if )(?:someone|somebody|a stranger) (?:else )?(?:has |had )?"
        r"(?:logged|signed|got|broken) (?:in|into|on)"
        r"|(?:someone|somebody|a stranger) (?:has |had )?accessed"
        r"|(?:someone|somebody) else's (?:data|notes|files|documents|orders|messages|invoices)"
        r" (?:is|are|was|were|show|shows|showing|appear|appears|appearing)"
        r"|(?:another|other) (?:user|users|customer|customers|person|people)'s?"
        r" (?:data|notes|files|documents|orders|messages|invoices)"
        # "someone from another company can see all our projects"
        r"|(?:someone|somebody|people|strangers?|users?) (?:from|at|in|outside) (?:another|other|a different"
        r"|our) (?:company|companies|organi[sz]ations?|teams?|accounts?) (?:can|could|is able to|are able to)"
        r" (?:see|view|read|access|open|edit)"
        # a change the customer did not make: "my password was changed and it wasn't me"
        r"|(?:password|email|e-mail|phone number|account)(?: address)? (?:was|has been|got|were) changed"
        r"(?: \w+){0,4},? (?:and|but) (?:it )?(?:wasn't|was not|i didn't|i did not|we didn't|we did not)",
    ),
    (
        4,
        "data loss",
        r"data loss|lost (?:all )?(?:my |our )?data|deleted (?:all|everything)|data (?:was |is )?gone"
        r"|lost everything|lost (?:all|half|most|every) (?:of )?(?:my|our|the|\w+ and)"
        r"|lost (?:hours|days|weeks|months|years) of (?:work|data)"
        r"|(?:days|weeks|months|years) of work (?:is |are )?gone"
        r"|deleted (?:half|most) (?:of )?(?:my|our|the)"
        # the product did it: "your service deleted my workspace", "the import wiped our notes"
        r"|(?:you|your \w+|the \w+|it) (?:has |have )?(?:deleted|wiped|erased)"
        r" (?:all |half |most )?(?:of )?(?:my|our)"
        r"|(?:data|notes|files|documents|projects|tickets|tasks|boards|comments|emails|messages|orders|contacts"
        r"|photos|records|money|funds|everything) (?:\w+ ){0,4}(?:disappeared|vanished"
        r"|(?:are|is|were|was|got) (?:all )?(?:gone|deleted|wiped))",
    ),
    (3, "legal", r"lawyer|lawsuit|legal action|sue you|regulator|chargeback"),
    # impact: many people, blocked, money
    (
        2,
        "impact",
        r"all (?:of )?(?:our |my )?(?:users|customers|employees|staff)|everyone|entire (?:team|company)"
        r"|(?:nobody|no one) can",
    ),
    (
        2,
        "impact",
        r"blocked|can ?not (?:work|access|log ?in|login|pay)|can't (?:work|access|log ?in|login|pay)",
    ),
    (3, "impact", r"losing (?:money|revenue|customers|sales)"),
    (
        3,
        "money taken",
        r"(?:charged|billed) (?:me |us |(?:my|our) (?:credit |debit )?card )?"
        r"(?:twice|two times|2 times|double)(?! (?:a|per|each|every) )"
        r"|double[- ](?:charged|billed)|paid twice|duplicate (?:charges?|payments?|transactions?)"
        r"|(?:two|2) (?:identical |duplicate )?charges"
        r"|(?:two|2) (?:identical|duplicate) (?:payments|transactions)"
        r"|charged (?:\w+ ){0,3}(?:after|though|despite) (?:(?:i|we|having) (?:had )?)?cancell?(?:ed|ing)"
        r"|(?:did not|didn't|never) authori[sz]e",
    ),
    (
        1,
        "impact",
        r"not working|doesn't work|does not work|broken|error|fail(?:s|ed|ing)?|crash(?:es|ed|ing)?",
    ),
    # urgency
    (3, "urgency", r"emergency|critical|sev ?1|p1\b"),
    (2, "urgency", r"urgent(?:ly)?|asap|immediately|right (?:now|away)|as soon as possible|deadline"),
    # a day as a demand, not a date: "fixed today", "by tonight" ("I ordered today" is no hurry)
    (
        2,
        "urgency",
        r"(?:by|before) (?:today|tonight|tomorrow|(?:the )?end of (?:the )?day)"
        r"|(?:fixed|done|solved|resolved|sorted|working|need(?:ed)? (?:it|this)) (?:by )?(?:today|tonight)",
    ),
    # anger
    (1, "anger", r"unacceptable|ridiculous|furious|angry|outrage(?:d|ous)?|worst|terrible|disgusted|fed up"),
    (1, "anger", r"cancel (?:my|our) (?:account|subscription)|switch(?:ing)? to (?:a )?competitor"),
    # calm, low stakes
    (-2, "low", r"no rush|whenever you (?:can|get a chance)|when you get a chance|not urgent|just curious"),
    (
        -2,
        "low",
        r"feature request|suggestion|would be nice|is it possible to|how do i|wondering|quick question",
    ),
]
_COMPILED = [(w, kind, re.compile(r"\b(?:" + p + r")\b")) for w, kind, p in _CUES]
# A cue right after a negation is no cue: "not urgent", "there is no outage", "avoid a duplicate payment".
_NEGATED = re.compile(r"\b(?:no|not|never|without|isn't|wasn't|aren't|avoid|prevent)\s+(?:\w+\s+)?$")
_SHOUT = re.compile(r"\b[A-Z]{4,}\b")


@dataclass
class Criticality:
    level: str
    score: int
    cues: list[str] = field(default_factory=list)


def estimate(text: str) -> Criticality:
    """Score the cues found in ``text`` and map the score to a level."""
    text = text or ""
    lower = text.lower()
    score = 0
    cues: list[str] = []
    seen: set[str] = set()
    for weight, kind, pattern in _COMPILED:
        m = next((m for m in pattern.finditer(lower) if not _NEGATED.search(lower, 0, m.start())), None)
        # each kind counts once, except impact: many users *and* blocked is worse than either
        if not m or (kind in seen and kind != "impact"):
            continue
        seen.add(kind)
        score += weight
        cues.append(m.group(0))
    if any(kind in seen for kind in SEVERE_KINDS):
        # however calmly asked: "Our account was hacked, how do I reset my password?" is not medium
        score = max(score, HIGH)
    shouting = len(_SHOUT.findall(text)) >= 2 or "!!" in text
    if shouting:
        score += 1
        cues.append("shouting")
    if score >= CRITICAL:
        level = "critical"
    elif score >= HIGH:
        level = "high"
    elif score >= 1:
        level = "medium"
    else:
        level = "low"  # no cue: the seed's default, so triage leaves such a ticket as it was created
    return Criticality(level=level, score=score, cues=cues)
