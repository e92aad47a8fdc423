"""The journey file format: phases → stages → steps, each step of a known kind.

A journey is content, not code. `docs/journeys.md` documents this format; the
models here are its single source of truth and validate every file on load.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Slug = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=4000)]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]


class Guidepost(StrEnum):
    reflect = "reflect"
    connect = "connect"
    explore = "explore"
    choose = "choose"
    repack = "repack"
    act = "act"


class Wave(StrEnum):
    pre = "pre"
    post = "post"
    followup = "followup"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Option(Strict):
    id: Slug
    label: ShortText


class RatingPoint(Strict):
    value: int = Field(ge=-10, le=10)
    label: ShortText


class Prompt(Strict):
    id: Slug
    text: Text
    hint: str = ""
    max_length: int = Field(default=5000, ge=1, le=20000)
    required: bool = True


class StatementPart(Strict):
    id: Slug
    label: ShortText
    prompt: Text
    hint: str = ""
    max_length: int = Field(default=300, ge=1, le=2000)


class StepBase(Strict):
    id: Slug
    title: ShortText
    guidance: str = Field(default="", max_length=8000)


class ContentStep(StepBase):
    kind: Literal["content"]
    body: Text


class ReflectionStep(StepBase):
    kind: Literal["reflection"]
    prompts: list[Prompt] = Field(min_length=1, max_length=10)


class ValuesSortStep(StepBase):
    kind: Literal["values_sort"]
    values: list[Option] = Field(min_length=2, max_length=80)
    choose: int = Field(ge=1, le=20)
    rank: bool = True

    @model_validator(mode="after")
    def _can_choose(self) -> "ValuesSortStep":
        if self.choose > len(self.values):
            count = len(self.values)
            raise ValueError(f"choose is {self.choose} but there are only {count} values")
        return self


class ChoiceStep(StepBase):
    kind: Literal["choice"]
    question: Text
    options: list[Option] = Field(min_length=2, max_length=40)
    multiple: bool = False
    other: bool = False
    max_selected: int | None = Field(default=None, ge=1)


class RatingListStep(StepBase):
    kind: Literal["rating_list"]
    question: Text
    item_label: ShortText = "Activity"
    scale: list[RatingPoint] = Field(min_length=2, max_length=11)
    suggestions: list[ShortText] = Field(default_factory=list, max_length=30)
    min_items: int = Field(default=1, ge=1, le=50)
    max_items: int = Field(default=15, ge=1, le=50)

    @model_validator(mode="after")
    def _min_within_max(self) -> "RatingListStep":
        if self.min_items > self.max_items:
            raise ValueError(f"min_items ({self.min_items}) is above max_items ({self.max_items})")
        return self


class PurposeStatementStep(StepBase):
    kind: Literal["purpose_statement"]
    parts: list[StatementPart] = Field(min_length=1, max_length=8)
    statement_prompt: Text
    max_length: int = Field(default=1000, ge=50, le=5000)


class FeedbackRequestStep(StepBase):
    kind: Literal["feedback_request"]
    question_hint: str = ""


class ReviseStep(StepBase):
    kind: Literal["revise"]
    prompt: Text
    max_length: int = Field(default=1000, ge=50, le=5000)


class PublishStep(StepBase):
    kind: Literal["publish"]
    prompt: Text


class ActionPlanStep(StepBase):
    kind: Literal["action_plan"]
    prompt: Text
    min_commitments: int = Field(default=1, ge=1, le=20)
    max_commitments: int = Field(default=7, ge=1, le=20)

    @model_validator(mode="after")
    def _min_within_max(self) -> "ActionPlanStep":
        if self.min_commitments > self.max_commitments:
            raise ValueError(f"min_commitments ({self.min_commitments}) is above "
                             f"max_commitments ({self.max_commitments})")
        return self


class SurveyStep(StepBase):
    kind: Literal["survey"]
    wave: Wave


class MatchStep(StepBase):
    kind: Literal["match"]
    suggest: Literal["mentors", "content", "both"] = "both"


Step = Annotated[
    ContentStep | ReflectionStep | ValuesSortStep | ChoiceStep | RatingListStep
    | PurposeStatementStep | FeedbackRequestStep | ReviseStep | PublishStep | ActionPlanStep
    | SurveyStep | MatchStep,
    Field(discriminator="kind"),
]

STEP_KINDS = (
    "content", "reflection", "values_sort", "choice", "rating_list", "purpose_statement",
    "feedback_request", "revise", "publish", "action_plan", "survey", "match",
)


class Stage(Strict):
    id: Slug
    title: ShortText
    guidepost: Guidepost
    summary: str = ""
    steps: list[Step] = Field(min_length=1)


class Phase(Strict):
    id: Slug
    title: ShortText
    summary: str = ""
    stages: list[Stage] = Field(min_length=1)


class Battery(Strict):
    """The instruments of each wave, in order."""

    pre: list[Slug] = Field(default_factory=list)
    post: list[Slug] = Field(default_factory=list)
    followup: list[Slug] = Field(default_factory=list)

    def instruments(self, wave: Wave) -> list[str]:
        return list(getattr(self, wave.value))

    def as_dict(self) -> dict[str, list[str]]:
        return {wave.value: self.instruments(wave) for wave in Wave}


class Waves(Battery):
    """Which survey instruments each wave gives, in order: the journey's default battery,
    which a study over the member's cohort may replace with its own."""

    # Other batteries by name, for a study to start from (the demo study gives "full").
    batteries: dict[Slug, Battery] = Field(default_factory=dict)
    # The post wave's step opens this many days after the member started (0: as soon as
    # they reach it), so that "after" measures the weeks of the journey, not one evening.
    post_after_days: int = Field(default=0, ge=0, le=3650)
    followup_after_days: int = Field(default=90, ge=1, le=3650)
    # E-mailed once the follow-up opens; then up to `followup_reminders` reminders, each
    # `followup_reminder_after_days` after the previous e-mail, while it is not sent.
    followup_reminders: int = Field(default=1, ge=0, le=5)
    followup_reminder_after_days: int = Field(default=7, ge=1, le=365)


class Journey(Strict):
    id: Slug
    title: ShortText
    summary: Text
    language: str = "en"
    waves: Waves = Field(default_factory=Waves)
    phases: list[Phase] = Field(min_length=1)

    def steps(self) -> list[Step]:
        return [step for phase in self.phases for stage in phase.stages for step in stage.steps]

    def step(self, step_id: str) -> Step | None:
        return next((step for step in self.steps() if step.id == step_id), None)
