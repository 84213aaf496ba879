"""A question asking for the opposite of what a document describes is not answered with it."""

import pytest

from supportdesk.ai.opposites import asked_opposite

EXPORT = (
    "Exporting a project to CSV\nOpen the project, choose Export and pick CSV. The file downloads at once."
)
TWO_FACTOR = "Setting up two-factor authentication\nOpen Security, scan the QR code and enter the code."


@pytest.mark.parametrize(
    ("question", "document", "opposite"),
    [
        ("How do I import a CSV file into a project?", EXPORT, ("import", "export")),
        ("How do I disable two-factor authentication?", TWO_FACTOR, ("disable", "enable")),
        ("How do I export a project to CSV?", EXPORT, None),
        ("How do I enable two-factor authentication?", TWO_FACTOR, None),
        ("How do I turn off two-factor authentication?", TWO_FACTOR, ("disable", "enable")),
        ("Can I turn on two-factor authentication for my team?", TWO_FACTOR, None),
        # a document that names both is the right one
        ("How do I disable two-factor authentication?", TWO_FACTOR + " Turn it off there too.", None),
        # a question naming both asks about the pair
        ("Can I import what I exported?", EXPORT, None),
        ("Is this important for the export?", EXPORT, None),  # "important" is no import
        # a report, not a request
        ("Which files is Dropbox downloading?", "Syncing\nFiles you upload sync to every device.", None),
    ],
)
def test_a_question_asking_the_opposite_of_the_document(question, document, opposite):
    assert asked_opposite(question, document) == opposite
