"""Forms of the matching pages: mentor profile, member preferences, cohort weights, answers."""

import math
from collections.abc import Iterable
from typing import Any

from pydantic import Field, field_validator, model_validator
from starlette.datastructures import FormData

from app.accounts.forms import LOCALES
from app.forms import Form
from app.matching.service import WISHES

MAX_CAPACITY = 20
MAX_WEIGHT = 10.0


def form_data(form: FormData, *, lists: Iterable[str]) -> dict[str, Any]:
    """The submitted form as a dict, with the checkbox groups in `lists` as lists."""
    data: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    for name in lists:
        data[name] = [value for value in form.getlist(name) if isinstance(value, str)]
    return data


def _known(values: list[str], allowed: Iterable[str], what: str) -> list[str]:
    allowed = list(allowed)
    unknown = [value for value in values if value not in allowed]
    if unknown:
        raise ValueError(f"Choose {what} from the list.")
    return [value for value in allowed if value in values]


class MentorProfileForm(Form):
    multi_line = frozenset({"bio", "experience"})

    bio: str = Field(min_length=1, max_length=2000)
    experience: str = Field(default="", max_length=2000)
    languages: list[str] = Field(default_factory=list)
    themes: list[str] = Field(default_factory=list)
    offers: list[str] = Field(default_factory=list)
    capacity: int = 2
    accepting: bool = False

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("Choose at least one language you can mentor in.")
        return _known(value, LOCALES, "languages")

    @field_validator("offers")
    @classmethod
    def _offers(cls, value: list[str]) -> list[str]:
        return _known(value, WISHES, "what you offer")

    @field_validator("capacity", mode="before")
    @classmethod
    def _capacity(cls, value: object) -> int:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("Give a whole number, for example 2.") from None
        if not 0 <= number <= MAX_CAPACITY:
            raise ValueError(f"Give a number from 0 to {MAX_CAPACITY}.")
        return number

    @field_validator("accepting", mode="before")
    @classmethod
    def _ticked(cls, value: object) -> bool:
        return value in ("yes", "on", "true", True)


class PreferencesForm(Form):
    multi_line = frozenset({"wants"})

    themes: list[str] = Field(default_factory=list)
    languages: list[str] = Field(default_factory=list)
    wishes: list[str] = Field(default_factory=list)
    wants: str = Field(default="", max_length=1000)

    @field_validator("languages")
    @classmethod
    def _languages(cls, value: list[str]) -> list[str]:
        return _known(value, LOCALES, "languages")

    @field_validator("wishes")
    @classmethod
    def _wishes(cls, value: list[str]) -> list[str]:
        return _known(value, WISHES, "what you want")


class WeightsForm(Form):
    text: float
    themes: float
    time_zone: float
    wishes: float

    @field_validator("text", "themes", "time_zone", "wishes", mode="before")
    @classmethod
    def _weight(cls, value: object) -> float:
        try:
            number = float(str(value).strip().replace(",", "."))
        except ValueError:
            raise ValueError("Give a number, for example 0.3.") from None
        if not math.isfinite(number) or not 0 <= number <= MAX_WEIGHT:
            raise ValueError(f"Give a number from 0 to {MAX_WEIGHT:g}.")
        return number

    @model_validator(mode="after")
    def _something_counts(self) -> "WeightsForm":
        if self.text + self.themes + self.time_zone + self.wishes <= 0:
            raise ValueError("At least one weight must be above 0, or nothing would count.")
        return self


class DeclineForm(Form):
    multi_line = frozenset({"reason"})

    reason: str = Field(default="", max_length=500)
