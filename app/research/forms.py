from typing import Any

from pydantic import Field, field_validator
from starlette.datastructures import FormData

from app.forms import Form, email_address
from app.research.service import SLUG, WAVES

# The form fields that carry several values (check boxes); the rest carry one.
LISTS = ("cohorts", *WAVES, "wave", "instrument")


def form_values(form: FormData) -> dict[str, Any]:
    """The form as a dict, with the check-box groups as lists."""
    values: dict[str, Any] = {key: value for key, value in form.items() if key not in LISTS}
    for key in LISTS:
        values[key] = [value for value in form.getlist(key) if isinstance(value, str)]
    return values


class StudyDetails(Form):
    """What can be changed after a study is created."""

    multi_line = frozenset({"description"})

    title: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=4000)
    cohorts: list[int] = Field(default_factory=list)
    free_text: bool = False

    @field_validator("cohorts")
    @classmethod
    def _some_cohort(cls, value: list[int]) -> list[int]:
        if not value:
            raise ValueError("Choose at least one cohort.")
        return value

    @field_validator("free_text", mode="before")
    @classmethod
    def _checkbox(cls, value: object) -> bool:
        return value in ("on", "true", "1", True)


class StudyForm(StudyDetails):
    slug: str = Field(default="", max_length=64)
    consent: str = Field(min_length=1, max_length=64)
    pre: list[str] = Field(default_factory=list)
    post: list[str] = Field(default_factory=list)
    followup: list[str] = Field(default_factory=list)

    @field_validator("slug")
    @classmethod
    def _slug(cls, value: str) -> str:
        if value and not SLUG.match(value):
            raise ValueError("Use lower-case letters, digits and hyphens (for example "
                             "purpose-pilot-2026), starting with a letter or digit.")
        return value

    def battery(self) -> dict[str, list[str]]:
        return {"pre": self.pre, "post": self.post, "followup": self.followup}


class EditStudyForm(StudyDetails):
    version: int = 0


class ResearcherForm(Form):
    email: str

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return email_address(value)
