"""Survey instruments: the file format as Pydantic models, and the loader.

`docs/surveys.md` documents the format; these models are its single source of
truth. An `Instrument` that exists is consistent: every check that needs more
than one field runs in its validator, so scoring can rely on it.
"""

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from functools import cached_property
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from app.definitions import DefinitionError, Problem, key_path, line_of
from app.settings import ROOT

__all__ = [
    "SURVEYS_DIR", "Band", "DefinitionError", "Instrument", "Item", "Metadata", "Option",
    "Problem", "Scale", "ScoreDef", "check_paths", "exact", "instrument_files", "load_battery",
    "load_instrument", "load_paths", "parse_instrument", "show",
]

SURVEYS_DIR = ROOT / "surveys"
RESERVED = "participant"  # the id column of answer and score tables

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
InstrumentId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
ShortText = Annotated[str, Field(min_length=1, max_length=200)]
Text = Annotated[str, Field(min_length=1, max_length=2000)]
# Strict: YAML `yes` or "3" must not quietly become True or 3.0 in a research instrument.
Number = Annotated[float, Field(strict=True)]
Flag = Annotated[bool, Field(strict=True)]
Count = Annotated[int, Field(strict=True)]
# A score's published reliability (e.g. Cronbach's alpha), for reliable change when the
# study's own baseline answers cannot give one.
ReliabilityValue = Annotated[float, Field(strict=True, ge=0, lt=1)]
Where = tuple[str | int, ...]


def exact(number: float) -> Fraction:
    """The decimal a number is written as (0.1 is 1/10), so sums and reversals are exact."""
    return Fraction(repr(float(number)))


def show(number: Fraction) -> str:
    return str(number.numerator) if number.denominator == 1 else repr(float(number))


class Strict(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, serialize_by_alias=True
    )


class Option(Strict):
    value: Number
    label: ShortText


class Scale(Strict):
    options: list[Option] = Field(min_length=2)
    numeric: Flag = True


class Item(Strict):
    id: Id
    text: Text
    scale: Id | None = None
    options: list[Option] | None = Field(default=None, min_length=2)
    reverse: Flag = False
    subscale: Id | None = None
    required: Flag = True


class Band(Strict):
    label: ShortText
    min: Number
    max: Number
    support_message: Text | None = None


class ScoreDef(Strict):
    name: Id
    items: list[Id] | None = None
    subscale: Id | None = None
    aggregation: Literal["sum", "mean"]
    min_answered: Count | None = None
    missing: Literal["skip", "prorate"] = "skip"
    range: tuple[Number, Number]
    higher_is_better: Flag
    bands: list[Band] = []
    reliability: ReliabilityValue | None = None


class Metadata(Strict):
    citation: str = ""
    licence: ShortText
    validated: Flag
    note: str = ""


class Inconsistent(ValueError):
    def __init__(self, found: list[tuple[Where, str]]) -> None:
        super().__init__("; ".join(reason for _, reason in found))
        self.found = found


class Instrument(Strict):
    id: InstrumentId
    title: ShortText
    # `construct` would shadow a (deprecated) BaseModel method.
    construct_name: ShortText = Field(alias="construct")
    version: ShortText
    instructions: str = ""
    allow_missing: Flag = True
    scales: dict[Id, Scale] = {}
    items: list[Item] = Field(min_length=1)
    scores: list[ScoreDef] = []
    metadata: Metadata

    _content_hash: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _consistent(self) -> "Instrument":
        found = list(_consistency(self))
        if found:
            raise Inconsistent(found)
        return self

    @property
    def content_hash(self) -> str:
        """sha256 of the file's bytes; only instruments read from bytes have one."""
        if self._content_hash is None:
            raise ValueError(f"instrument {self.id!r} was not read from a file")
        return self._content_hash

    @cached_property
    def items_by_id(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def options_of(self, item: Item) -> list[Option]:
        return item.options if item.options is not None else self.scales[item.scale or ""].options

    def is_numeric(self, item: Item) -> bool:
        return item.options is not None or self.scales[item.scale or ""].numeric

    def bounds(self, item: Item) -> tuple[Fraction, Fraction]:
        values = [exact(option.value) for option in self.options_of(item)]
        return min(values), max(values)

    def items_of(self, score: ScoreDef) -> list[Item]:
        if score.items is not None:
            return [self.items_by_id[item_id] for item_id in score.items]
        return [item for item in self.items if item.subscale == score.subscale]

    def min_answered(self, score: ScoreDef) -> int:
        needed = score.min_answered
        return len(self.items_of(score)) if needed is None else needed

    def score_named(self, name: str) -> ScoreDef:
        return next(score for score in self.scores if score.name == name)


def parse_instrument(data: bytes, *, source: str, expected_id: str | None = None) -> Instrument:
    """The instrument in `data` (YAML), or DefinitionError listing every problem in it."""
    tree = _read_yaml(data, source)
    problems = _id_problems(tree, source, expected_id)
    try:
        instrument = Instrument.model_validate(_plain(tree))
    except ValidationError as error:
        problems += _problems_from(error, tree, source)
        raise DefinitionError(sorted(problems, key=_by_line)) from None
    if problems:
        raise DefinitionError(problems)
    instrument._content_hash = hashlib.sha256(data).hexdigest()
    return instrument


def load_instrument(path: Path | str) -> Instrument:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise DefinitionError([Problem(str(path), "", None, _os_reason(error))]) from None
    return parse_instrument(data, source=str(path), expected_id=path.stem)


def instrument_files(paths: Iterable[Path | str]) -> list[Path]:
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            files.append(path)
    return files


def check_paths(paths: Iterable[Path | str]) -> list[Problem]:
    """Every problem in the instrument files at `paths` (files, or directories of them)."""
    return load_paths(paths)[1]


def load_battery(directory: Path | str = SURVEYS_DIR) -> dict[str, Instrument]:
    instruments, problems = load_paths([directory])
    if problems:
        raise DefinitionError(problems)
    return instruments


def load_paths(paths: Iterable[Path | str]) -> tuple[dict[str, Instrument], list[Problem]]:
    """The instruments that load, by id, and the problems of those that do not."""
    instruments: dict[str, Instrument] = {}
    problems: list[Problem] = []
    for path in map(Path, paths):
        if path.is_dir() and not instrument_files([path]):
            problems.append(Problem(str(path), "", None, "no instrument files (*.yaml) here"))
    for file in instrument_files(paths):
        try:
            instrument = load_instrument(file)
        except DefinitionError as error:
            problems.extend(error.problems)
            continue
        if instrument.id in instruments:
            reason = f"another file has id {instrument.id!r}"
            problems.append(Problem(str(file), "id", None, reason))
        instruments[instrument.id] = instrument
    return dict(sorted(instruments.items())), problems


def _read_yaml(data: bytes, source: str) -> Any:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DefinitionError([Problem(source, "", None, f"not UTF-8 text: {error}")]) from None
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        reason = f"not valid YAML: {error.problem or error.context or error}"
        raise DefinitionError([Problem(source, "", line, reason)]) from None
    except YAMLError as error:
        raise DefinitionError([Problem(source, "", None, f"not valid YAML: {error}")]) from None
    if not isinstance(tree, dict):
        reason = "the file must be a mapping of keys (id, title, items, ...)"
        raise DefinitionError([Problem(source, "", 1, reason)])
    return tree


def _plain(node: Any) -> Any:
    """ruamel's round-trip types as plain Python ones, so strict validation sees real types."""
    if isinstance(node, dict):
        return {str(key): _plain(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_plain(value) for value in node]
    for kind in (bool, int, float, str):
        if isinstance(node, kind):
            return kind(node)
    return node


def _by_line(problem: Problem) -> int:
    return problem.line or 0


def _id_problems(tree: Any, source: str, expected_id: str | None) -> list[Problem]:
    found = tree.get("id")
    if expected_id is None or not isinstance(found, str) or found == expected_id:
        return []
    reason = f"is {found!r} but must equal the file name without .yaml ({expected_id!r})"
    return [Problem(source, "id", line_of(tree, ["id"]), reason)]


def _problems_from(error: ValidationError, tree: Any, source: str) -> list[Problem]:
    problems = []
    for entry in error.errors():
        cause = entry.get("ctx", {}).get("error")
        base = tuple(part for part in entry["loc"] if part != "[key]")
        found = cause.found if isinstance(cause, Inconsistent) else [((), _reason(entry))]
        for where, reason in found:
            path = [*base, *where]
            problems.append(Problem(source, key_path(path), line_of(tree, path), reason))
    return problems


def _reason(entry: Any) -> str:
    kind, given = entry["type"], entry.get("input")
    if kind == "missing":
        return "this required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check its spelling against docs/surveys.md)"
    if kind == "string_type":
        return f"must be text, not {given!r} (put it in quotes)"
    if kind == "string_pattern_mismatch":
        return (f"{given!r} is not a valid id: use lower-case letters, digits and '_', "
                "starting with a letter")
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, not {given!r}"
    if kind in ("float_type", "float_parsing", "int_type", "int_parsing"):
        whole = "a whole " if kind.startswith("int") else "a "
        return f"must be {whole}number, not {given!r}"
    message = str(entry["msg"])
    return f"{message} (got {given!r})" if _scalar(given) else message


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def _os_reason(error: OSError) -> str:
    return "no such file" if isinstance(error, FileNotFoundError) else f"cannot read: {error}"


Found = Iterator[tuple[Where, str]]


def _consistency(instrument: Instrument) -> Found:
    for name, scale in instrument.scales.items():
        yield from _option_problems(scale.options, ("scales", name, "options"))
    yield from _item_problems(instrument)
    yield from _score_problems(instrument)


def _option_problems(options: Sequence[Option], where: Where) -> Found:
    values: set[Fraction] = set()
    labels: set[str] = set()
    for index, option in enumerate(options):
        value = exact(option.value)
        if value in values:
            yield (*where, index, "value"), f"value {show(value)} is used twice in these options"
        if option.label in labels:
            yield (*where, index, "label"), f"label {option.label!r} is used twice in these options"
        values.add(value)
        labels.add(option.label)


def _item_problems(instrument: Instrument) -> Found:
    first: dict[str, int] = {}
    for index, item in enumerate(instrument.items):
        where: Where = ("items", index)
        if item.id in first:
            yield (*where, "id"), f"duplicate id {item.id!r} (first at items[{first[item.id]}])"
        first.setdefault(item.id, index)
        if item.id == RESERVED:
            yield (*where, "id"), f"{RESERVED!r} is reserved for the participant column"
        yield from _item_scale_problems(instrument, item, where)


def _resolvable(instrument: Instrument, item: Item) -> bool:
    if item.options is not None:
        return item.scale is None
    return item.scale in instrument.scales


def _item_scale_problems(instrument: Instrument, item: Item, where: Where) -> Found:
    if item.scale is not None and item.options is not None:
        yield where, "give either a scale or the item's own options, not both"
    elif item.options is not None:
        yield from _option_problems(item.options, (*where, "options"))
    elif item.scale is None:
        yield where, "needs a scale (or its own options)"
    elif item.scale not in instrument.scales:
        defined = ", ".join(instrument.scales) or "none"
        yield (*where, "scale"), f"unknown scale {item.scale!r} (this file defines: {defined})"
    if item.reverse and _resolvable(instrument, item):
        yield from _reverse_problems(instrument, item, (*where, "reverse"))


def _reverse_problems(instrument: Instrument, item: Item, where: Where) -> Found:
    if not instrument.is_numeric(item):
        yield where, f"cannot reverse an item on scale {item.scale!r}: it is not numeric"
        return
    values = {exact(option.value) for option in instrument.options_of(item)}
    low, high = min(values), max(values)
    unmirrored = [
        f"{show(value)} would become {show(low + high - value)}"
        for value in sorted(values)
        if low + high - value not in values
    ]
    if unmirrored:
        yield where, ("reverse scoring (min + max - value) needs option values that mirror "
                      f"each other, but {', '.join(unmirrored)}")


def _score_problems(instrument: Instrument) -> Found:
    first: dict[str, int] = {}
    for index, score in enumerate(instrument.scores):
        where: Where = ("scores", index)
        if score.name in first:
            yield (*where, "name"), (f"duplicate score name {score.name!r} "
                                     f"(first at scores[{first[score.name]}])")
        first.setdefault(score.name, index)
        if score.name == RESERVED:
            yield (*where, "name"), f"{RESERVED!r} is reserved for the participant column"
        items, found = _score_items(instrument, score, where)
        yield from found
        if items and all(_resolvable(instrument, item) for item in items):
            yield from _score_rules(instrument, score, items, where)


def _score_items(
    instrument: Instrument, score: ScoreDef, where: Where
) -> tuple[list[Item], list[tuple[Where, str]]]:
    if (score.items is None) == (score.subscale is None):
        return [], [(where, "give exactly one of items: [...] or subscale: NAME")]
    if score.items is None:
        items = [item for item in instrument.items if item.subscale == score.subscale]
        reason = f"no item has subscale {score.subscale!r}"
        return items, [] if items else [((*where, "subscale"), reason)]
    found: list[tuple[Where, str]] = [] if score.items else [((*where, "items"), "lists no items")]
    for index, item_id in enumerate(score.items):
        if item_id not in instrument.items_by_id:
            found.append(((*where, "items", index), f"unknown item {item_id!r}"))
        elif item_id in score.items[:index]:
            found.append(((*where, "items", index), f"item {item_id!r} is listed twice"))
    return ([] if found else instrument.items_of(score)), found


def _score_rules(instrument: Instrument, score: ScoreDef, items: list[Item], where: Where) -> Found:
    members = (*where, "items" if score.items is not None else "subscale")
    nominal = [item.id for item in items if not instrument.is_numeric(item)]
    if nominal:
        yield members, f"items on a non-numeric scale cannot be scored: {', '.join(nominal)}"
        return
    count, needed = len(items), instrument.min_answered(score)
    if not 1 <= needed <= count:
        yield (*where, "min_answered"), f"must be between 1 and {count}, the number of items"
    if score.aggregation == "mean" and score.missing == "prorate":
        yield (*where, "missing"), "prorate is for sums; a mean already uses the answered items"
    if score.aggregation == "sum" and score.missing == "skip" and needed < count:
        yield (*where, "min_answered"), (
            "a sum of only the answered items is not comparable between members: require all "
            f"{count} items, or use missing: prorate, or aggregation: mean")
    spans = {instrument.bounds(item) for item in items}
    if len(spans) > 1 and (score.aggregation == "mean" or needed < count):
        yield members, ("the items have different ranges; a mean, or a score that allows "
                        "missing answers, needs them all on one range")
        return
    expected = _expected_range(score, list(map(instrument.bounds, items)))
    given = (exact(score.range[0]), exact(score.range[1]))
    if given != expected:
        yield (*where, "range"), (f"is [{show(given[0])}, {show(given[1])}] but these items "
                                  f"can produce [{show(expected[0])}, {show(expected[1])}]")
    yield from _band_problems(score.bands, expected, where)


def _expected_range(
    score: ScoreDef, spans: list[tuple[Fraction, Fraction]]
) -> tuple[Fraction, Fraction]:
    low, high = sum(low for low, _ in spans), sum(high for _, high in spans)
    if score.aggregation == "mean":
        return Fraction(low, len(spans)), Fraction(high, len(spans))
    return Fraction(low), Fraction(high)


def _band_problems(bands: list[Band], expected: tuple[Fraction, Fraction], where: Where) -> Found:
    if not bands:
        return
    labels: set[str] = set()
    for index, band in enumerate(bands):
        if exact(band.min) >= exact(band.max):
            yield (*where, "bands", index), "min must be below max"
        if band.label in labels:
            yield (*where, "bands", index, "label"), f"label {band.label!r} is used twice"
        labels.add(band.label)
    if exact(bands[0].min) != expected[0]:
        yield (*where, "bands", 0, "min"), f"must be {show(expected[0])}, the bottom of the range"
    if exact(bands[-1].max) != expected[1]:
        yield (*where, "bands", len(bands) - 1, "max"), (
            f"must be {show(expected[1])}, the top of the range")
    for index, (before, after) in enumerate(pairwise(bands), start=1):
        end, start = exact(before.max), exact(after.min)
        if start != end:
            kind = "gap" if start > end else "overlap"
            yield (*where, "bands", index, "min"), (
                f"{kind}: band {before.label!r} ends at {show(end)} but {after.label!r} starts "
                f"at {show(start)}; each band must start where the one before it ends")
