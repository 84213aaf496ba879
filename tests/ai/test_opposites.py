"""A question asking for the opposite of what a document describes is not answered with it."""

import pytest

from supportdesk.ai.opposites import asked_opposite

EXPORT = (
    "Exporting a project to CSV\nOpen the project, choose Export and pick CSV. The file downloads at once."
)
TWO_FACTOR = "Setting up two-factor authentication\nOpen Security, scan the QR code and enter the code."
REFUND = "Refund policy\nOpen Billing > Invoices, choose the invoice and click 'Request refund'."


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
        # removing, getting rid of and stopping using are switching off
        ("How do I remove two-factor authentication from my account?", TWO_FACTOR, ("disable", "enable")),
        (
            "How can I get rid of two-factor authentication? I don't want it anymore.",
            TWO_FACTOR,
            ("disable", "enable"),
        ),
        ("How do I stop using two-factor authentication?", TWO_FACTOR, ("disable", "enable")),
        ("How do I remove two-factor authentication?", TWO_FACTOR + " Remove it there too.", None),
        ("Can I mark it done but not remove it?", "Marking done\nSet up a checklist.", None),
        ("I've accidentally set up a trusted computer, how do I revoke it?", "Trust\nRemove it.", None),
        # cancelling asks about what was requested
        (
            "I requested a refund by mistake. How do I cancel my refund request?",
            REFUND,
            ("cancel", "request"),
        ),
        ("How do I cancel my refund request?", REFUND + " Cancellation is free.", None),
        ("The order I placed is late, can I cancel it?", "Orders\nEvery order placed ships in 2 days.", None),
        # a cancellation that is not of a request asks for the request
        ("If I cancel my subscription within 30 days, how do I request a refund?", REFUND, None),
        ("Can I get a refund if I cancel?", REFUND, None),
        ("I want to cancel my plan and request a refund", REFUND, None),
        ("How do I cancel the booking?", "Booking\nPick a slot and book it.", ("cancel", "request")),
    ],
)
def test_a_question_asking_the_opposite_of_the_document(question, document, opposite):
    assert asked_opposite(question, document) == opposite
