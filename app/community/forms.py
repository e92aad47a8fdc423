from datetime import date

from pydantic import Field, field_validator, model_validator

from app.forms import Form


class CohortForm(Form):
    name: str = Field(min_length=1, max_length=120)
    journey: str = Field(min_length=1, max_length=64)
    starts_on: date
    ends_on: date | None = None

    @field_validator("ends_on", mode="before")
    @classmethod
    def _blank_is_none(cls, value: object) -> object:
        return value or None

    @model_validator(mode="after")
    def _ends_after_start(self) -> "CohortForm":
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("The end date must be on or after the start date.")
        return self
