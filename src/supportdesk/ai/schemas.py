"""Response bodies of the AI's routes."""

import uuid

from supportdesk.schemas import ResponseModel, Timestamp


class AutoAnswerOut(ResponseModel):
    """One decision: on the ticket's text (`source_message_id` null) or on a customer's follow-up.
    `outcome` is answered, suggested or declined; `document_ids` the best documents found, best first
    (an answer cites the first); `message_id` the answer or suggestion posted."""

    id: uuid.UUID
    source_message_id: uuid.UUID | None
    outcome: str
    reason: str
    confidence: float | None
    threshold: float
    document_ids: list[uuid.UUID]
    message_id: uuid.UUID | None
    created_at: Timestamp
