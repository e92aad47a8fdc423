"""Scoring: hand-computed cases, then properties that must hold for any instrument."""

from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.surveys.definitions import Instrument
from app.surveys.scoring import (
    AnswerError,
    band_for,
    check_answers,
    exact_scores,
    keyed,
    score,
    scored_value,
    unanswered,
)

FIVE = [{"value": value, "label": f"Point {value}"} for value in range(1, 6)]


def build(items: list[dict[str, Any]], scores: list[dict[str, Any]],
          options: list[dict[str, Any]] | None = None, **extra: Any) -> Instrument:
    return Instrument.model_validate({
        "id": "test", "title": "Test", "construct": "testing", "version": "1",
        "scales": {"five": {"options": options or FIVE}},
        "items": [{"text": "A sentence.", "scale": "five", **item} for item in items],
        "scores": scores, "metadata": {"licence": "CC0", "validated": False}, **extra,
    })


FOUR = [{"id": "a"}, {"id": "b"}, {"id": "c", "reverse": True}, {"id": "d"}]
ALL = ["a", "b", "c", "d"]


def test_sum_with_a_reversed_item() -> None:
    instrument = build(FOUR, [{"name": "total", "items": ALL, "aggregation": "sum",
                               "range": [4, 20], "higher_is_better": True}])
    # c = 2 reversed on 1..5 is (1 + 5) - 2 = 4, so 4 + 5 + 4 + 3.
    assert score(instrument, {"a": 4, "b": 5, "c": 2, "d": 3}) == {"total": 16}


def test_a_sum_that_skips_needs_every_item() -> None:
    instrument = build(FOUR, [{"name": "total", "items": ALL, "aggregation": "sum",
                               "range": [4, 20], "higher_is_better": True}])
    assert score(instrument, {"a": 4, "b": 5, "c": 2, "d": None}) == {"total": None}
    assert score(instrument, {"a": 4, "b": 5, "c": 2}) == {"total": None}


def test_prorated_sum() -> None:
    instrument = build(FOUR, [{"name": "total", "items": ALL, "aggregation": "sum",
                               "missing": "prorate", "min_answered": 3, "range": [4, 20],
                               "higher_is_better": True}])
    # Answered 4, 5 and c = 2 → 4: mean 13/3, times 4 items = 52/3.
    assert score(instrument, {"a": 4, "b": 5, "c": 2, "d": None}) == {"total": 52 / 3}
    assert exact_scores(instrument, {"a": 4, "b": 5, "c": 2}) == {"total": Fraction(52, 3)}
    assert score(instrument, {"a": 4, "b": 5, "c": 2, "d": 1}) == {"total": 14}
    assert score(instrument, {"a": 4, "b": 5}) == {"total": None}


def test_mean_of_the_answered_items_and_min_answered() -> None:
    instrument = build(FOUR, [{"name": "average", "items": ALL, "aggregation": "mean",
                               "min_answered": 2, "range": [1, 5], "higher_is_better": True}])
    # c = 4 reversed is 2: (1 + 2 + 2 + 5) / 4.
    assert score(instrument, {"a": 1, "b": 2, "c": 4, "d": 5}) == {"average": 2.5}
    # 1 and c = 1 → 5: (1 + 5) / 2.
    assert score(instrument, {"a": 1, "c": 1}) == {"average": 3}
    assert score(instrument, {"a": 2, "b": 3, "d": 3}) == {"average": 8 / 3}
    assert score(instrument, {"a": 1}) == {"average": None}
    assert score(instrument, {}) == {"average": None}


def test_subscales_and_totals_side_by_side() -> None:
    items = [{"id": "a", "subscale": "x"}, {"id": "b", "subscale": "x", "reverse": True},
             {"id": "c", "subscale": "y"}]
    instrument = build(items, [
        {"name": "total", "items": ["a", "b", "c"], "aggregation": "sum", "range": [3, 15],
         "higher_is_better": True},
        {"name": "x", "subscale": "x", "aggregation": "mean", "range": [1, 5],
         "higher_is_better": True},
        {"name": "y", "subscale": "y", "aggregation": "sum", "range": [1, 5],
         "higher_is_better": False},
    ])
    assert score(instrument, {"a": 5, "b": 2, "c": 1}) == {"total": 10, "x": 4.5, "y": 1}


def test_decimal_option_values_are_exact() -> None:
    tenths = [{"value": value, "label": f"{value}"} for value in (0.1, 0.2, 0.3)]
    items = [{"id": "a"}, {"id": "b"}, {"id": "c", "reverse": True}]
    instrument = build(items, [
        {"name": "mean", "items": ["a", "b"], "aggregation": "mean", "range": [0.1, 0.3],
         "higher_is_better": True},
        {"name": "sum", "items": ["a", "b", "c"], "aggregation": "sum", "range": [0.3, 0.9],
         "higher_is_better": True},
    ], options=tenths)
    # In binary floats (0.1 + 0.2) / 2 is 0.15000000000000002 and 0.1 + 0.2 + 0.1 is not 0.4.
    assert score(instrument, {"a": 0.1, "b": 0.2, "c": 0.3}) == {"mean": 0.15, "sum": 0.4}
    assert scored_value(instrument, "c", 0.2) == 0.2
    assert scored_value(instrument, "c", 0.1) == 0.3


def test_an_answer_that_is_not_an_option_is_refused() -> None:
    instrument = build(FOUR, [])
    with pytest.raises(AnswerError) as caught:
        score(instrument, {"a": 6})
    assert caught.value.item_id == "a"
    assert "6 is not an allowed answer to 'a'" in caught.value.message
    assert "1 (Point 1)" in caught.value.message


@pytest.mark.parametrize("value", [2.5, 0, float("nan"), float("inf"), True, "3"])
def test_odd_values_are_refused(value: Any) -> None:
    with pytest.raises(AnswerError):
        check_answers(build(FOUR, []), {"b": value})


def test_an_unknown_item_is_refused() -> None:
    with pytest.raises(AnswerError, match="'z' is not an item of instrument 'test'"):
        score(build(FOUR, []), {"z": 1})


def test_answers_equal_to_an_option_in_another_type_are_accepted() -> None:
    assert check_answers(build(FOUR, []), {"a": 3.0, "b": 2})["a"] == 3


def test_band_boundaries() -> None:
    instrument = build(FOUR, [{
        "name": "total", "items": ALL, "aggregation": "sum", "range": [4, 20],
        "higher_is_better": True, "bands": [
            {"label": "low", "min": 4, "max": 10}, {"label": "mid", "min": 10, "max": 15},
            {"label": "high", "min": 15, "max": 20, "support_message": "Talk to someone."}],
    }])
    total = instrument.scores[0]

    def label(value: float | Fraction | None) -> str | None:
        band = band_for(total, value)
        return band.label if band else None

    assert [label(v) for v in (4, 9.99, 10, 14.5, 15, 20)] == [
        "low", "low", "mid", "mid", "high", "high"]
    assert label(None) is None
    assert label(Fraction(29, 2)) == "mid"
    top = band_for(total, 20)
    assert top is not None and top.support_message == "Talk to someone."
    with pytest.raises(ValueError, match="outside the range"):
        band_for(total, 21)
    with pytest.raises(ValueError, match="outside the range"):
        band_for(total, 3.999)


def test_band_for_a_score_without_bands_is_none() -> None:
    instrument = build(FOUR, [{"name": "t", "items": ALL, "aggregation": "sum",
                               "range": [4, 20], "higher_is_better": True}])
    assert band_for(instrument.scores[0], 12) is None


def test_unanswered_distinguishes_not_yet_from_prefer_not_to_say() -> None:
    items = [{"id": "a"}, {"id": "b"}, {"id": "c", "required": False}]
    assert unanswered(build(items, []), {"a": None}) == ["b"]
    assert unanswered(build(items, [], allow_missing=False), {"a": None}) == ["a", "b"]
    assert unanswered(build(items, []), {"a": 1, "b": 2}) == []


# Properties. Values are decimals with at most two places, as a researcher writes them.

decimals = st.decimals(min_value=-20, max_value=20, places=2, allow_nan=False,
                       allow_infinity=False)


@st.composite
def mirrored_scales(draw: st.DrawFn) -> list[Decimal]:
    centre = draw(decimals)
    offsets = draw(st.sets(st.decimals(min_value="0.01", max_value=10, places=2), min_size=1,
                           max_size=4))
    middle = [centre] if draw(st.booleans()) else []
    return sorted({*middle, *(centre - d for d in offsets), *(centre + d for d in offsets)})


def options_for(values: list[Decimal]) -> list[dict[str, Any]]:
    return [{"value": float(value), "label": f"Option {value}"} for value in values]


@given(mirrored_scales())
def test_reverse_scoring_is_an_involution_onto_the_options(values: list[Decimal]) -> None:
    instrument = build([{"id": "a", "reverse": True}], [], options=options_for(values))
    item = instrument.items[0]
    allowed = {Fraction(value) for value in values}
    for value in allowed:
        once = keyed(instrument, item, value)
        assert once in allowed
        assert keyed(instrument, item, once) == value
    assert keyed(instrument, item, min(allowed)) == max(allowed)


@st.composite
def scored_cases(draw: st.DrawFn, aggregation: str) -> tuple[Instrument, dict[str, Any], int]:
    values = draw(mirrored_scales())
    count = draw(st.integers(min_value=1, max_value=6))
    needed = draw(st.integers(min_value=1, max_value=count))
    items = [{"id": f"i{n}", "reverse": draw(st.booleans())} for n in range(count)]
    low, high = min(values), max(values)
    factor = 1 if aggregation == "mean" else count
    instrument = build(items, [{
        "name": "s", "items": [item["id"] for item in items], "aggregation": aggregation,
        "missing": "skip" if aggregation == "mean" else "prorate", "min_answered": needed,
        "range": [float(low * factor), float(high * factor)], "higher_is_better": True,
    }], options=options_for(values))
    answer = st.none() | st.sampled_from([float(value) for value in values])
    answers = {item["id"]: draw(answer) for item in items}
    return instrument, answers, needed


@given(scored_cases("mean"))
def test_a_mean_score_stays_in_its_range_and_respects_min_answered(
    case: tuple[Instrument, dict[str, Any], int],
) -> None:
    instrument, answers, needed = case
    value = exact_scores(instrument, answers)["s"]
    answered = sum(answer is not None for answer in answers.values())
    assert (value is None) == (answered < needed)
    if value is not None:
        low, high = instrument.scores[0].range
        assert Fraction(str(low)) <= value <= Fraction(str(high))
        assert band_for(instrument.scores[0], value) is None


@given(scored_cases("sum"))
def test_prorating_is_the_mean_of_the_answered_items_times_the_number_of_items(
    case: tuple[Instrument, dict[str, Any], int],
) -> None:
    instrument, answers, needed = case
    value = exact_scores(instrument, answers)["s"]
    keyed_values = [
        keyed(instrument, instrument.items_by_id[item_id], Fraction(str(answer)))
        for item_id, answer in answers.items()
        if answer is not None
    ]
    if len(keyed_values) < needed:
        assert value is None
        return
    assert value == sum(keyed_values) / len(keyed_values) * len(answers)
    low, high = instrument.scores[0].range
    assert Fraction(str(low)) <= value <= Fraction(str(high))
    if len(keyed_values) == len(answers):
        assert value == sum(keyed_values)
