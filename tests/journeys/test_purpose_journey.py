"""The default journey, journeys/purpose.yaml, is whole and uses the real survey battery."""

import pytest

from app.journeys.definitions import (
    STEP_KINDS,
    ChoiceStep,
    ContentStep,
    Guidepost,
    Journey,
    SurveyStep,
    Wave,
)
from app.journeys.loader import JOURNEYS_DIR, load_journey
from app.surveys import batteries
from app.surveys.definitions import load_battery


@pytest.fixture(scope="module")
def battery() -> set[str]:
    return set(load_battery())


@pytest.fixture(scope="module")
def journey(battery: set[str]) -> Journey:
    return load_journey(JOURNEYS_DIR / "purpose.yaml", instruments=battery).definition


def test_phases_are_discover_refine_express(journey: Journey) -> None:
    assert [phase.title for phase in journey.phases] == ["Discover", "Refine", "Express"]


def test_stages_carry_the_six_guideposts_in_order(journey: Journey) -> None:
    guideposts = [stage.guidepost for phase in journey.phases for stage in phase.stages]

    assert guideposts == list(Guidepost)


def test_has_between_15_and_25_steps(journey: Journey) -> None:
    assert 15 <= len(journey.steps()) <= 25


def test_uses_every_step_kind(journey: Journey) -> None:
    assert {step.kind for step in journey.steps()} == set(STEP_KINDS)


def test_pre_wave_is_the_first_step_and_post_wave_the_last(journey: Journey) -> None:
    steps = journey.steps()
    surveys = [step for step in steps if isinstance(step, SurveyStep)]

    assert [step.wave for step in surveys] == [Wave.pre, Wave.post]
    assert (steps[0], steps[-1]) == (surveys[0], surveys[1])


def test_the_full_battery_gives_every_questionnaire_before_and_after(
    journey: Journey, battery: set[str],
) -> None:
    full = journey.waves.batteries["full"]
    assert len(battery) >= 20
    assert sorted(full.pre) == sorted(full.post) == sorted(battery)
    assert full.followup == journey.waves.followup


def test_the_default_core_battery_asks_the_same_before_and_after_in_under_ten_minutes(
    journey: Journey,
) -> None:
    instruments = load_battery()
    core = journey.waves.pre
    assert core == journey.waves.post
    assert {"presence_of_meaning", "happiness", "loneliness", "resilience",
            "depressive_mood"} <= set(core)
    seconds = batteries.estimated_seconds(instruments[key] for key in core)
    assert seconds < 10 * 60
    assert batteries.minutes(seconds) == 6  # 26 items: what members are told


def test_followup_is_a_part_of_the_battery_after_90_days(
    journey: Journey, battery: set[str],
) -> None:
    followup = journey.waves.followup

    assert 5 <= len(followup) < len(battery)
    assert set(followup) <= set(journey.waves.batteries["full"].pre)
    assert len(set(followup)) == len(followup)
    assert journey.waves.followup_after_days == 90


def test_some_choice_accepts_an_answer_of_ones_own(journey: Journey) -> None:
    assert any(isinstance(step, ChoiceStep) and step.other for step in journey.steps())


def test_introduction_says_reflections_are_private(journey: Journey) -> None:
    welcome = journey.steps()[1]

    assert isinstance(welcome, ContentStep)
    assert "private" in welcome.body
