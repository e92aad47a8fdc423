"""What an export is made of: instrument specs and ordered rows, with no database behind them.

The study layer builds an `ExportSource`; every writer only iterates it, so the same
writers serve the web download, the CLI, the tests and the benchmark.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from app.surveys.definitions import Instrument


class ExportError(ValueError):
    """The rows do not fit the specs or their promised order; the message says where."""


class Progress(Protocol):
    def advance(self, n: int) -> None: ...


@dataclass(frozen=True)
class ItemSpec:
    id: str
    text: str
    value_labels: Mapping[float, str]
    reverse: bool
    min: float | None
    max: float | None
    numeric: bool = True  # False for a nominal scale: codes, not amounts


@dataclass(frozen=True)
class ScoreSpec:
    name: str
    label: str
    better: str  # "higher" | "lower"
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class InstrumentSpec:
    key: str
    version: str
    title: str
    items: Sequence[ItemSpec]
    scores: Sequence[ScoreSpec]


@dataclass(frozen=True, slots=True)
class AnswerRow:
    participant: str
    wave: str
    days_since_enrolment: int | None
    instrument: str
    instrument_version: str
    item: str
    value: float | None  # the raw answer as given, not reverse-keyed


@dataclass(frozen=True, slots=True)
class ScoreRow:
    participant: str
    wave: str
    days_since_enrolment: int | None
    instrument: str
    instrument_version: str
    score: str
    value: float | None


@dataclass(frozen=True, slots=True)
class TextRow:
    participant: str
    wave: str
    days_since_enrolment: int | None
    source: str
    field: str
    text: str


@dataclass
class ExportSource:
    study: str
    waves: Sequence[str]
    instruments: Sequence[InstrumentSpec]
    # Ordered by participant (string order), wave, instrument, item; callable again for
    # a second pass (the bundle reads the answers once per file).
    answers: Callable[[], Iterator[AnswerRow]]
    scores: Callable[[], Iterator[ScoreRow]]
    texts: Callable[[], Iterator[TextRow]] | None = None
    filters: Mapping[str, str] = field(default_factory=dict)
    # Which instruments each wave gave; None means every instrument in every wave.
    # It only trims the wide columns that could never hold a value.
    wave_instruments: Mapping[str, Sequence[str]] | None = None


def instrument_spec(instrument: Instrument) -> InstrumentSpec:
    items = [ItemSpec(
        id=item.id,
        text=item.text,
        value_labels={option.value: option.label for option in instrument.options_of(item)},
        reverse=item.reverse,
        min=float(instrument.bounds(item)[0]),
        max=float(instrument.bounds(item)[1]),
        numeric=instrument.is_numeric(item),
    ) for item in instrument.items]
    scores = [ScoreSpec(
        name=score.name,
        label=f"{instrument.title}: {score.name.replace('_', ' ')}",
        better="higher" if score.higher_is_better else "lower",
        min=score.range[0],
        max=score.range[1],
    ) for score in instrument.scores]
    return InstrumentSpec(key=instrument.id, version=instrument.version,
                          title=instrument.title, items=items, scores=scores)


def number_text(value: float | None) -> str:
    """A value as a person would write it: 3 not 3.0, empty when missing."""
    if value is None or value != value:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)



class NumberTexts(dict[float | None, str]):
    """`number_text` through a cache: answers repeat a handful of option values, so the
    long writers look most of them up instead of formatting 3 million floats."""

    def __missing__(self, value: float | None) -> str:
        text = number_text(value)
        if len(self) < 4096:  # scores are continuous; keep the cache small
            self[value] = text
        return text
