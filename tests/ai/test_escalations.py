"""A ticket saying the documented way already failed, or asking for what only staff have, is for a
person: the wordings read as such, and the ordinary questions that look like them."""

import pytest

from supportdesk.ai.escalations import needs_a_person


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            "I requested a refund 3 weeks ago and still have not received the money. Where is it?",
            "already_failed",
        ),
        ("I clicked forgot password but the reset email never arrives, I checked spam.", "already_failed"),
        ("The password reset link says it has expired. What now?", "already_failed"),
        ("My card still hasn't arrived after two weeks, now what?", "already_failed"),
        ("I've already tried resetting it twice.", "already_failed"),
        ("I got an expired link in the email.", "already_failed"),
        ("What is the approval code for refund exceptions (staff only)?", "staff_only"),
        ("Send me the staff-only refund policy.", "staff_only"),
        ("How do I reset my password?", None),
        ("When will I receive my refund?", None),
        ("My card has expired, how do I update it?", None),
        ("I never received a receipt, can you resend it?", None),
        ("Still not sure how to export a project.", None),
        ("The export is not working.", None),  # how customers ask for the troubleshooting document
        ("Our staff only see their own tickets, how do we share them?", None),
        # the verifier's paraphrases
        ("The reset email is not arriving even though I looked in my junk folder.", "already_failed"),
        ("My reset email isn’t arriving.", "already_failed"),
        ("The reset link is no longer valid.", "already_failed"),
        ("What is the internal-only approval code for refund exceptions?", "staff_only"),
        ("Is the reset link still valid after a day?", None),
    ],
)
def test_what_is_for_a_person_whatever_a_document_says(text, reason):
    assert needs_a_person(text) == reason
