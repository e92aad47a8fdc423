"""Form validation that ends in messages beside the fields, never in a raw 422."""

import re
from collections.abc import Mapping
from typing import Any, ClassVar, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, ValidationError, ValidationInfo, field_validator

T = TypeVar("T", bound=BaseModel)

SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "csrf_token"})
LARGEST_NUMBER = 2**63 - 1  # what a 64-bit integer column holds

# No place in what a person typed: control characters (a line break in a display name made
# every e-mail naming that person fail to build), line and paragraph separators, and the
# bidirectional overrides that make text read otherwise than it is stored. Joiners and
# direction marks stay: names and emoji need them.
_LINE_BREAKS = "\n\r\x0b\x0c\x85\u2028\u2029"
_NOT_IN_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def typed_text_problem(text: str, *, multi_line: bool = False) -> str | None:
    """Why `text` cannot be kept as typed, or None; one-line fields take no line break."""
    found = (_NOT_IN_TEXT if multi_line else _NOT_IN_ONE_LINE).search(text)
    if found is None:
        return None
    if found[0] in _LINE_BREAKS and not multi_line:
        return "Keep this on one line: remove the line break."
    if found[0] == "\t":
        return "Remove the tab character; use spaces instead."
    return (f"Remove the invisible control character (U+{ord(found[0]):04X}) from this field; "
            "it often comes with text pasted from another program.")


class Form(BaseModel):
    """Every text field is one line unless the form names it in `multi_line`, and no field
    takes control characters or a number too large to store."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")
    multi_line: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*")
    @classmethod
    def _storable(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name in SECRET_FIELDS:
            return value
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, str):
                problem = typed_text_problem(part, multi_line=info.field_name in cls.multi_line)
                if problem:
                    raise ValueError(problem)
            elif isinstance(part, int) and abs(part) > LARGEST_NUMBER:
                raise ValueError("That number is too large.")
        return value


def validate(model: type[T], data: Mapping[str, Any]) -> tuple[T | None, dict[str, str]]:
    """The parsed form, or the first message for each field that is wrong."""
    try:
        return model.model_validate(dict(data)), {}
    except ValidationError as error:
        errors: dict[str, str] = {}
        for item in error.errors():
            field = str(item["loc"][0]) if item["loc"] else "__all__"
            errors.setdefault(field, _message(item))
        return None, errors


def _message(item: Any) -> str:
    if item["type"] == "missing":
        return "This field is required."
    if item["type"] == "value_error":
        return str(item["ctx"]["error"])
    if item["type"] == "string_too_short" and item["ctx"].get("min_length") == 1:
        return "This field is required."
    if item["type"].startswith("date"):
        return "Give the date as year-month-day, for example 2026-12-31."
    if item["type"] == "string_too_long":
        return f"Use at most {item['ctx']['max_length']} characters."
    return str(item["msg"])


def kept(data: Mapping[str, Any]) -> dict[str, str]:
    """What the person typed, to put back in the form; secrets are never echoed."""
    return {
        key: value
        for key, value in data.items()
        if key not in SECRET_FIELDS and isinstance(value, str)
    }


def email_address(value: str) -> str:
    if not value:
        raise ValueError("Enter your e-mail address.")
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValueError(f"That does not look like an e-mail address: {error}") from None


def record_id(value: object) -> int | None:
    """A database id sent in a form, or None: ASCII digits only (str.isdigit() also takes
    "²", which int() refuses) and small enough for any integer column."""
    text = value if isinstance(value, str) else ""
    if text.isascii() and text.isdecimal() and len(text) < 10:
        return int(text)
    return None
