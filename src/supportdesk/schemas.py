"""Building blocks shared by every domain's request and response bodies."""

from datetime import datetime
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
)

# Text limits: the seed's VARCHAR(255) for names and titles, and generous but finite bodies.
NAME_MAX = 255
SHORT_TEXT_MAX = 5_000
LONG_TEXT_MAX = 50_000
DOCUMENT_MAX = 200_000
PASSWORD_MIN = 8
PASSWORD_MAX = 1_024

Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
# Addresses are checked for shape only (deliverability is the mail server's business) and kept
# lower-case, so that one person is one user or customer however they type it.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=NAME_MAX, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]


class RequestModel(BaseModel):
    """Request bodies: surrounding whitespace trimmed. Numbers and booleans are declared with the
    strict types below, so that "3" or "yes" is a validation error rather than a guess."""

    model_config = ConfigDict(str_strip_whitespace=True)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# Timestamps always carry their UTC offset.
Timestamp = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]

__all__ = ["StrictBool", "StrictFloat", "StrictInt"]
