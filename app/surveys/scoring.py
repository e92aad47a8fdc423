"""Scores from answers: pure functions, shared by the app and the offline CLI.

Answers are keyed by item id; None or an absent key is a missing answer. Every
number is taken as the decimal it is written as (0.1 is 1/10) and all arithmetic
is exact, in fractions. `score` returns each score as the float nearest to its
exact value, rounded no further, or None when too few items were answered;
`exact_scores` returns the exact fractions themselves.
"""

import math
from collections.abc import Mapping
from fractions import Fraction

from app.errors import TelosError
from app.surveys.definitions import Band, Instrument, Item, ScoreDef, exact, show

Answers = Mapping[str, float | None]


class AnswerError(TelosError):
    def __init__(self, item_id: str, value: object, message: str) -> None:
        super().__init__(message)
        self.item_id = item_id
        self.value = value


def check_answers(instrument: Instrument, answers: Answers) -> dict[str, Fraction | None]:
    """Every item's answer as an exact number (before reversing), or AnswerError."""
    for item_id in answers:
        if item_id not in instrument.items_by_id:
            raise AnswerError(item_id, answers[item_id],
                              f"{item_id!r} is not an item of instrument {instrument.id!r}")
    return {item.id: _checked(instrument, item, answers.get(item.id)) for item in instrument.items}


def _checked(instrument: Instrument, item: Item, value: object) -> Fraction | None:
    if value is None:
        return None
    options = instrument.options_of(item)
    allowed = {exact(option.value) for option in options}
    number = _number(value)
    if number is None or number not in allowed:
        choices = ", ".join(f"{show(exact(o.value))} ({o.label})" for o in options)
        raise AnswerError(item.id, value,
                          f"{value!r} is not an allowed answer to {item.id!r}; allowed: {choices}")
    return number


def _number(value: object) -> Fraction | None:
    # bool is an int to Python, but True is not an answer on any scale.
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return exact(value) if math.isfinite(value) else None


def keyed(instrument: Instrument, item: Item, value: Fraction) -> Fraction:
    """The value as it counts in scores: a reversed item gives (scale min + scale max) - value."""
    if not item.reverse:
        return value
    low, high = instrument.bounds(item)
    return low + high - value


def scored_value(instrument: Instrument, item_id: str, value: float) -> float:
    """One answer as it counts in scores (reversed where the item is), e.g. for exports."""
    checked = check_answers(instrument, {item_id: value})[item_id]
    assert checked is not None  # a number is checked, never skipped
    return float(keyed(instrument, instrument.items_by_id[item_id], checked))


def exact_scores(instrument: Instrument, answers: Answers) -> dict[str, Fraction | None]:
    values = check_answers(instrument, answers)
    return {score.name: _exact_score(instrument, score, values) for score in instrument.scores}


def _exact_score(
    instrument: Instrument, score: ScoreDef, values: Mapping[str, Fraction | None]
) -> Fraction | None:
    items = instrument.items_of(score)
    answered = [
        keyed(instrument, item, value)
        for item in items
        if (value := values[item.id]) is not None
    ]
    if not answered or len(answered) < instrument.min_answered(score):
        return None
    total = sum(answered, Fraction(0))
    if score.aggregation == "mean":
        return total / len(answered)
    if score.missing == "prorate":
        return total * len(items) / len(answered)
    return total


def score(instrument: Instrument, answers: Answers) -> dict[str, float | None]:
    """Every score of the instrument by name, in file order; AnswerError for a bad answer."""
    return {
        name: None if value is None else float(value)
        for name, value in exact_scores(instrument, answers).items()
    }


def band_for(score_def: ScoreDef, value: float | Fraction | None) -> Band | None:
    """The band `value` falls in (min included, max excluded, but the last band's max
    included); None when the value or the bands are missing."""
    if value is None or not score_def.bands:
        return None
    number = value if isinstance(value, Fraction) else exact(value)
    low, high = exact(score_def.range[0]), exact(score_def.range[1])
    if not low <= number <= high:
        raise ValueError(f"{float(number)!r} is outside the range of score {score_def.name!r} "
                         f"[{show(low)}, {show(high)}]")
    return next(band for band in reversed(score_def.bands) if number >= exact(band.min))


def unanswered(instrument: Instrument, answers: Answers) -> list[str]:
    """Required items still to answer before a response can be submitted.

    An absent key is not answered yet. None is "prefer not to answer": it counts
    as an answer only where the instrument allows missing answers.
    """
    return [
        item.id
        for item in instrument.items
        if item.required
        and (item.id not in answers or (answers[item.id] is None and not instrument.allow_missing))
    ]
