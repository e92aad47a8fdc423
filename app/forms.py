"""Form validation that ends in messages beside the fields, never in a raw 422."""

from collections.abc import Mapping
from typing import Any, TypeVar

from email_validator import EmailNotValidError, validate_email
from pydantic import BaseModel, ConfigDict, ValidationError

T = TypeVar("T", bound=BaseModel)

SECRET_FIELDS = frozenset({"password", "current_password", "new_password", "csrf_token"})


class Form(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


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
