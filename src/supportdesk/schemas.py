"""Building blocks shared by every domain's request and response bodies."""

import unicodedata
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

# Text limits: the seed's VARCHAR(255) for names and titles, and generous but finite bodies.
NAME_MAX = 255
SHORT_TEXT_MAX = 5_000
LONG_TEXT_MAX = 50_000
DOCUMENT_MAX = 200_000
PASSWORD_MIN = 8
PASSWORD_MAX = 1_024

# Characters that show nothing: format characters (zero-width spaces and joiners, direction marks, a
# byte-order mark) and the letters drawn blank. Trimmed with the whitespace around a text ("\u200b" is as
# blank a title as "   "), and refused anywhere in an address ("c\u200b@ex.com" looked like c@ex.com).
_BLANK_LETTERS = frozenset("\u115f\u1160\u2800\u3164\uffa0")


def _shows_nothing(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) == "Cf" or char in _BLANK_LETTERS


def _trimmed(text: str) -> str:
    start, end = 0, len(text)
    while start < end and _shows_nothing(text[start]):
        start += 1
    while end > start and _shows_nothing(text[end - 1]):
        end -= 1
    return text[start:end]


Name = Annotated[str, Field(min_length=1, max_length=NAME_MAX)]
# Addresses are checked for shape only (deliverability is the mail server's business) and kept
# lower-case, so that one person is one user or customer however they type it. A display name's
# brackets, quoted local parts and address literals ("<a@b.com>", "a@[127.0.0.1]") are not addresses
# a support team can write to.
_ADDRESS_PART = r"[^@\s<>()\[\],;:\"\\]+"


def _fits_once_lowered(email: str) -> str:
    # The length is checked as sent; lower-casing can lengthen it ("İ" becomes two characters).
    if len(email) > NAME_MAX:
        raise ValueError(f"must have at most {NAME_MAX} characters once lower-cased")
    if any(_shows_nothing(char) for char in email):
        raise ValueError("must not contain characters that show nothing")
    return email


Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=NAME_MAX,
        pattern=rf"^{_ADDRESS_PART}@{_ADDRESS_PART}\.{_ADDRESS_PART}$",
    ),
    AfterValidator(_fits_once_lowered),
]

# Passwords are kept exactly as typed: trimming them would make " secret" and "secret" the same.
Password = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=PASSWORD_MIN, max_length=PASSWORD_MAX)
]


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(key) or _contains_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_contains_nul(item) for item in value)
    return False


class NulFree(BaseModel):
    """Refuses NUL characters anywhere in a field, nested ones included: PostgreSQL cannot store
    them in text, and a query with one fails, so they must be a 422 before they reach it."""

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_nul(cls, value: Any) -> Any:
        if _contains_nul(value):
            raise ValueError("must not contain NUL (\\u0000) characters")
        return value


class RequestModel(NulFree):
    """Request bodies: surrounding whitespace, and characters that show nothing, trimmed (except where a
    field keeps its text as typed: a password). Numbers and booleans are declared with the strict types
    below, so that "3" or "yes" is a validation error rather than a guess."""

    model_config = ConfigDict(str_strip_whitespace=True)

    @field_validator("*", mode="before")
    @classmethod
    def _trim_blanks(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str) or info.field_name is None:
            return value
        metadata = cls.model_fields[info.field_name].metadata
        if any(getattr(constraint, "strip_whitespace", None) is False for constraint in metadata):
            return value
        return _trimmed(value)


def _null_only_where_allowed(schema: dict[str, Any], model: type["PatchModel"]) -> None:
    """The OpenAPI document says what `PatchModel` accepts: null only in its `nullable` fields."""
    for name, field in schema.get("properties", {}).items():
        if name not in model.nullable and "anyOf" in field:
            kept = [choice for choice in field.pop("anyOf") if choice != {"type": "null"}]
            field.update(kept[0] if len(kept) == 1 else {"anyOf": kept})


class PatchModel(RequestModel):
    """PATCH bodies: a field left out keeps its value, and null is refused (422) rather than ignored,
    except in the fields named in `nullable`, where it means something (no category, nobody)."""

    model_config = ConfigDict(json_schema_extra=_null_only_where_allowed)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_null(cls, data: Any) -> Any:
        if isinstance(data, dict):
            refused = [
                k for k, v in data.items() if v is None and k in cls.model_fields and k not in cls.nullable
            ]
            if refused:
                raise ValueError(f"may not be null: {', '.join(refused)} (leave a field out to keep it)")
        return data


class QueryModel(NulFree):
    """Query-string filters: strings in, so not strict; NUL refused like in bodies."""


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


def _iso_text(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


# A date in a request body: ISO text only (a number would otherwise be read as seconds since 1970).
IsoDate = Annotated[date, BeforeValidator(_iso_text)]

# Timestamps always carry their UTC offset.
Timestamp = Annotated[datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str)]

__all__ = ["StrictBool", "StrictFloat", "StrictInt"]
