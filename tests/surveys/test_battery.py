"""The default battery in surveys/: complete, honest about what it is, and consistent."""

from collections.abc import Callable
from fractions import Fraction

import pytest

from app.surveys.definitions import SURVEYS_DIR, Instrument, exact, instrument_files, load_battery
from app.surveys.scoring import band_for, exact_scores, keyed

CONSTRUCTS = {
    "happiness": "happiness",
    "life_satisfaction": "life satisfaction",
    "resilience": "resilience",
    "presence_of_meaning": "presence of meaning",
    "search_for_meaning": "search for meaning",
    "calling": "calling",
    "career_decision_self_efficacy": "career decision self-efficacy",
    "hope": "hope",
    "optimism": "optimism",
    "loneliness": "loneliness",
    "depressive_mood": "depressive mood",
    "anxiety": "anxiety",
    "stress": "stress",
    "flourishing": "flourishing",
    "social_connectedness": "social connectedness",
    "self_esteem": "self-esteem",
    "gratitude": "gratitude",
    "purpose_clarity": "purpose clarity",
    "engagement": "engagement at work or study",
    "general_self_efficacy": "general self-efficacy",
}
LOWER_IS_BETTER = {"loneliness", "depressive_mood", "anxiety", "stress"}
NEEDS_SUPPORT_MESSAGE = {"depressive_mood", "anxiety", "stress"}
# Wording distinctive of published instruments that our items must not echo.
PUBLISHED_PHRASES = [
    "bounce back", "snap back", "left out", "lack companionship", "isolated from others",
    "interest or pleasure", "down, depressed", "nervous, anxious", "on edge", "on top of things",
    "piling up", "close to my ideal", "conditions of my life", "life's meaning",
    "purpose or mission", "energetically pursue", "ways around any problem", "expect the best",
    "good qualities", "person of worth", "so much in life to be thankful", "bursting with energy",
    "time flies", "immersed", "solve difficult problems", "resourcefulness", "go my way",
    "unable to control the important things",
]

BATTERY = load_battery()


def test_every_file_loads_and_covers_the_constructs() -> None:
    assert len(instrument_files([SURVEYS_DIR])) == len(BATTERY) >= 20
    for instrument_id, construct in CONSTRUCTS.items():
        assert BATTERY[instrument_id].construct_name == construct


@pytest.mark.parametrize("instrument", BATTERY.values(), ids=list(BATTERY))
def test_each_says_plainly_it_is_not_validated(instrument: Instrument) -> None:
    assert instrument.metadata.validated is False
    assert instrument.metadata.note.startswith("NOT a published validated instrument")
    assert "Telos" in instrument.metadata.citation


@pytest.mark.parametrize("instrument", BATTERY.values(), ids=list(BATTERY))
def test_each_is_short_labelled_and_banded(instrument: Instrument) -> None:
    assert 3 <= len(instrument.items) <= 6
    assert instrument.allow_missing
    for item in instrument.items:
        assert len(item.text) <= 100, item.text
        assert all(option.label for option in instrument.options_of(item))
    assert instrument.scores
    assert all(score.bands for score in instrument.scores)


@pytest.mark.parametrize("instrument", BATTERY.values(), ids=list(BATTERY))
def test_direction(instrument: Instrument) -> None:
    better = instrument.id not in LOWER_IS_BETTER
    assert all(score.higher_is_better is better for score in instrument.scores)


@pytest.mark.parametrize("instrument_id", sorted(NEEDS_SUPPORT_MESSAGE))
def test_the_highest_band_of_distress_scales_points_to_help(instrument_id: str) -> None:
    message = BATTERY[instrument_id].scores[0].bands[-1].support_message or ""
    for words in ("someone you trust", "doctor", "crisis line", "danger", "cannot diagnose"):
        assert words in message
    assert all(band.support_message is None for band in BATTERY[instrument_id].scores[0].bands[:-1])


def test_some_items_are_reverse_keyed() -> None:
    reversed_in = [i for i in BATTERY.values() if any(item.reverse for item in i.items)]
    assert len(reversed_in) >= 12


@pytest.mark.parametrize("instrument", BATTERY.values(), ids=list(BATTERY))
def test_extreme_answers_reach_the_ends_of_each_range_and_band(instrument: Instrument) -> None:
    for score_def in instrument.scores:
        for end, pick, band in ((0, min, 0), (1, max, -1)):
            answers = {item.id: float(_answer_giving(instrument, item.id, pick))
                       for item in instrument.items_of(score_def)}
            value = exact_scores(instrument, answers)[score_def.name]
            assert value == exact(score_def.range[end])
            assert band_for(score_def, value) == score_def.bands[band]


@pytest.mark.parametrize("instrument", BATTERY.values(), ids=list(BATTERY))
def test_no_published_wording(instrument: Instrument) -> None:
    texts = [instrument.instructions, *(item.text for item in instrument.items)]
    for text in texts:
        for phrase in PUBLISHED_PHRASES:
            assert phrase not in text.lower(), (instrument.id, text)


def test_item_wording_is_not_repeated_across_the_battery() -> None:
    texts = [item.text for instrument in BATTERY.values() for item in instrument.items]
    assert len(texts) == len(set(texts))


def _answer_giving(instrument: Instrument, item_id: str, pick: Callable[..., Fraction]) -> Fraction:
    item = instrument.items_by_id[item_id]
    values = [exact(option.value) for option in instrument.options_of(item)]
    return pick(values, key=lambda value: keyed(instrument, item, value))
