"""What an export is made of: instrument specs and ordered rows, with no database behind them.

The study layer builds an `ExportSource`; every writer only iterates it, so the same
writers serve the web download, the CLI, the tests and the benchmark.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol, TypeVar

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
    versions: tuple[str, ...] = ()  # the instrument versions that ask it; () for all


@dataclass(frozen=True)
class ScoreSpec:
    name: str
    label: str
    better: str  # "higher" | "lower"
    min: float | None = None
    max: float | None = None
    versions: tuple[str, ...] = ()


@dataclass(frozen=True)
class InstrumentSpec:
    key: str
    version: str  # the newest of `versions`
    title: str
    items: Sequence[ItemSpec]
    scores: Sequence[ScoreSpec]
    versions: tuple[str, ...] = ()  # every version answered, oldest first; () for `version`

    @property
    def all_versions(self) -> tuple[str, ...]:
        return self.versions or (self.version,)


ANSWERED = "answered"
SKIPPED = "skipped"
DECLINED = "declined"  # "prefer not to answer": a declared missing value, not a gap
DECLINED_LABEL = "Prefer not to answer"
STATA_DECLINED = "a"  # Stata's extended missing value .a


class Declined:
    """The wide cell of a declined item: empty in CSV, a declared missing value in the
    .sav and .dta files."""

    def __repr__(self) -> str:
        return "DECLINED_CELL"


DECLINED_CELL = Declined()


def declined_code(item: ItemSpec) -> float:
    """The .sav user-missing code of a declined item: -9, or a longer run of nines when
    -9 is among the item's values or range."""
    code = -9.0
    while code in item.value_labels or (item.min is not None and item.max is not None
                                        and item.min <= code <= item.max):
        code = code * 10 - 9
    return code


@dataclass(frozen=True, slots=True)
class AnswerRow:
    participant: str
    wave: str
    days_since_enrolment: int | None
    instrument: str
    instrument_version: str
    item: str
    value: float | None  # the raw answer as given, not reverse-keyed
    status: str = ANSWERED  # ANSWERED, SKIPPED or DECLINED; value is None unless answered


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


def merged_spec(specs: Sequence[InstrumentSpec]) -> InstrumentSpec:
    """One spec over the versions of an instrument answered in a study, oldest first:
    every item and score any of them has, each as the newest version that has it defines
    it, in the newest version's order and then the dropped ones."""
    if len(specs) == 1:
        return specs[0]
    versions = tuple(dict.fromkeys(spec.version for spec in specs))
    newest = specs[-1]
    return replace(newest, versions=versions,
                   items=_union([spec.items for spec in specs], [s.version for s in specs],
                                lambda item: item.id, versions),
                   scores=_union([spec.scores for spec in specs], [s.version for s in specs],
                                 lambda score: score.name, versions))


Part = TypeVar("Part", ItemSpec, ScoreSpec)


def _union(parts: list[Sequence[Part]], of: list[str], key: Callable[[Part], str],
           versions: tuple[str, ...]) -> list[Part]:
    asked: dict[str, list[str]] = {}
    newest: dict[str, Part] = {}
    for version, group in zip(of, parts, strict=True):
        for part in group:
            asked.setdefault(key(part), []).append(version)
    for group in reversed(parts):
        for part in group:
            newest.setdefault(key(part), part)
    return [replace(part, versions=() if set(asked[name]) == set(versions)
                    else tuple(dict.fromkeys(asked[name])))
            for name, part in newest.items()]


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
