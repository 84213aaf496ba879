from supportdesk.knowledge.negation import split_negation, websearch_text


def test_excluded_terms_are_those_websearch_negates():
    negation = split_negation('refund --id e-mail -"gift card" -international -')
    assert negation.wanted == "refund --id e-mail -"
    assert negation.excluded == ('"gift card"', "international")
    assert negation.any_excluded == '"gift card" or international'
    assert split_negation("shipping").any_excluded is None


def test_signs_that_negate_nothing_are_left_out_of_the_websearch_text():
    # Each stacks a NOT in websearch_to_tsquery, which fails past 32 of them.
    assert websearch_text("refund " + "-" * 40 + " order").split() == ["refund", "order"]
    assert websearch_text("- - - -( -| shipping").split() == ["(", "|", "shipping"]
    assert websearch_text('shipping -international -"gift card" e-mail') == (
        'shipping -international -"gift card" e-mail'
    )
    assert websearch_text("--id").split() == ["id"]  # not an exclusion: see split_negation
