from supportdesk.knowledge.negation import split_negation


def test_excluded_terms_are_those_websearch_negates():
    negation = split_negation('refund --id e-mail -"gift card" -international -')
    assert negation.wanted == "refund --id e-mail -"
    assert negation.excluded == ('"gift card"', "international")
    assert negation.any_excluded == '"gift card" or international'
    assert split_negation("shipping").any_excluded is None
