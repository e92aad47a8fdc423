"""A REDCap data dictionary (CSV) → instrument YAML, one instrument per form.

Single-choice fields (radio, dropdown, yesno, truefalse) with numeric codes
become items. Everything else is listed as a `Note`, never dropped silently.
REDCap holds no scoring rules, so the instruments come out without scores.
"""

import csv
import html
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import DoubleQuotedScalarString as Quoted

from app.surveys.definitions import RESERVED, DefinitionError, parse_instrument

# Header words, lower-cased with everything but letters removed, by what they start with.
COLUMNS = {
    "variable": "variable", "form": "formname", "type": "fieldtype", "label": "fieldlabel",
    "choices": "choices", "branching": "branchinglogic", "required": "required",
    "matrix": "matrixgroup",
}
NEEDED = ("variable", "form", "type", "label", "choices")
FIXED = {"yesno": [(1, "Yes"), (0, "No")], "truefalse": [(1, "True"), (0, "False")]}
CHOICE_TYPES = {"radio", "dropdown"}
UNMAPPED = {
    "calc": "calculated field: write it as a score in the instrument file by hand",
    "checkbox": "checkbox (several answers at once) has no item type here",
    "text": "free-text field; instruments hold choice items only",
    "notes": "free-text field; instruments hold choice items only",
    "descriptive": "descriptive text, not a question",
    "slider": "slider (visual analogue scale) has no item type here",
    "file": "file upload is not a survey answer",
    "sql": "SQL field has no item type here",
}
ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
FORM = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")

Choices = tuple[tuple[int | float, str], ...]


class RedcapError(Exception):
    """The file as a whole cannot be read as a data dictionary."""


@dataclass(frozen=True)
class Note:
    line: int
    form: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.form}.{self.field}: {self.reason}"


@dataclass
class Conversion:
    documents: dict[str, str] = field(default_factory=dict)  # instrument id → YAML text
    notes: list[Note] = field(default_factory=list)


@dataclass
class _Form:
    items: list[dict[str, Any]] = field(default_factory=list)
    scales: dict[Choices, str] = field(default_factory=dict)


def convert_file(path: Path) -> Conversion:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise RedcapError(f"cannot read {path}: {error}") from None
    return convert(text, source=path.name)


def convert(text: str, *, source: str = "the dictionary") -> Conversion:
    reader = csv.reader(io.StringIO(text))
    columns = _columns(next(reader, []))
    conversion = Conversion()
    forms: dict[str, _Form] = {}
    for row in reader:
        if any(cell.strip() for cell in row):
            _add_field(conversion, forms, columns, row, reader.line_num)
    for form_id, form in forms.items():
        if form.items:
            conversion.documents[form_id] = _document(form_id, form, source)
    return conversion


def write(conversion: Conversion, directory: Path) -> list[Path]:
    """Write every instrument; refuses, before writing any, to replace an existing file."""
    paths = {directory / f"{form_id}.yaml": text for form_id, text in conversion.documents.items()}
    existing = [str(path) for path in paths if path.exists()]
    if existing:
        raise RedcapError(f"would replace existing files: {', '.join(existing)}")
    directory.mkdir(parents=True, exist_ok=True)
    for path, text in paths.items():
        path.write_text(text, encoding="utf-8")
    return list(paths)


def _columns(header: list[str]) -> dict[str, int]:
    keys = [re.sub(r"[^a-z]", "", name.lower()) for name in header]
    found = {
        column: index
        for column, start in COLUMNS.items()
        for index, key in reversed(list(enumerate(keys)))
        if key.startswith(start)
    }
    missing = [column for column in NEEDED if column not in found]
    if missing:
        raise RedcapError("not a REDCap data dictionary: no column for "
                          + ", ".join(repr(column) for column in missing))
    return found


def _add_field(
    conversion: Conversion, forms: dict[str, _Form], columns: dict[str, int], row: list[str],
    line: int,
) -> None:
    cell = _cells(columns, row)
    form_id, variable, kind = cell("form"), cell("variable"), cell("type").lower()
    note = _Noter(conversion, line, form_id or "?", variable or "?")
    reason = _unusable(form_id, variable, kind, forms)
    if reason:
        note(reason)
        return
    choices = _choices(kind, cell("choices"), note)
    if not choices:
        return
    label = _plain_text(cell("label"))
    if not label:
        note("has no field label to show as the question")
        return
    form = forms.setdefault(form_id, _Form())
    item: dict[str, Any] = {"id": variable, "text": Quoted(label),
                            "scale": _scale_name(form, choices, kind, cell("matrix"))}
    logic = cell("branching")
    if logic:
        note(f"branching logic not carried over ({logic}); the item is shown to everyone "
             "and made optional")
    if logic or cell("required").lower() != "y":
        item["required"] = False
    form.items.append(item)


def _cells(columns: dict[str, int], row: list[str]) -> Callable[[str], str]:
    def cell(name: str) -> str:
        index = columns.get(name)
        return row[index].strip() if index is not None and index < len(row) else ""
    return cell


@dataclass
class _Noter:
    conversion: Conversion
    line: int
    form: str
    field: str

    def __call__(self, reason: str) -> None:
        self.conversion.notes.append(Note(self.line, self.form, self.field, reason))


def _unusable(form_id: str, variable: str, kind: str, forms: dict[str, _Form]) -> str | None:
    if not FORM.match(form_id):
        return f"form name {form_id!r} cannot be an instrument id"
    if not ID.match(variable) or variable == RESERVED:
        return f"variable name {variable!r} cannot be an item id"
    if kind not in CHOICE_TYPES and kind not in FIXED:
        return UNMAPPED.get(kind, f"field type {kind!r} has no item type here")
    if any(item["id"] == variable for form in forms.values() for item in form.items):
        return "variable name used twice"
    return None


def _choices(kind: str, text: str, note: _Noter) -> Choices:
    if kind in FIXED:
        return tuple(FIXED[kind])
    parsed = []
    for entry in filter(None, (part.strip() for part in text.split("|"))):
        code, comma, label = entry.partition(",")
        code, label = code.strip(), _plain_text(label)
        if not comma or not label:
            note(f"cannot read the choice {entry!r} (expected 'code, label')")
            return ()
        if not NUMBER.match(code):
            note(f"choice code {code!r} is not a number; scores need numeric codes")
            return ()
        parsed.append((float(code) if "." in code else int(code), label))
    return _checked_choices(parsed, note)


def _checked_choices(parsed: list[tuple[int | float, str]], note: _Noter) -> Choices:
    if len(parsed) < 2:
        note("needs at least two choices")
        return ()
    if len({value for value, _ in parsed}) < len(parsed):
        note("a choice code is used twice")
        return ()
    if len({label for _, label in parsed}) < len(parsed):
        note("a choice label is used twice")
        return ()
    return tuple(parsed)


def _plain_text(text: str) -> str:
    """REDCap labels may carry HTML for its own pages; members see plain text."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def _scale_name(form: _Form, choices: Choices, kind: str, matrix: str) -> str:
    if choices in form.scales:
        return form.scales[choices]
    taken = set(form.scales.values())
    wanted = [matrix.lower(), {"yesno": "yes_no", "truefalse": "true_false"}.get(kind, "")]
    name = next((name for name in wanted if ID.match(name) and name not in taken), None)
    name = name or next(f"choices_{n}" for n in range(1, len(taken) + 2)
                        if f"choices_{n}" not in taken)
    form.scales[choices] = name
    return name


def _document(form_id: str, form: _Form, source: str) -> str:
    title = form_id.replace("_", " ").replace("-", " ").capitalize()
    data = {
        "id": form_id, "title": Quoted(title), "construct": Quoted(title), "version": "1",
        "instructions": "", "allow_missing": True,
        "scales": {name: {"options": list(_options(choices))}
                   for choices, name in form.scales.items()},
        "items": form.items, "scores": [],
        "metadata": {
            "citation": "", "licence": "unknown: check it before use", "validated": False,
            "note": (f"Imported from the REDCap data dictionary {source}. Add the scores, "
                     "citation and licence by hand; say whether it is a published validated "
                     "instrument."),
        },
    }
    text = _dump(data)
    try:
        parse_instrument(text.encode(), source=f"{form_id}.yaml", expected_id=form_id)
    except DefinitionError as error:
        raise RedcapError(f"form {form_id!r} did not convert cleanly:\n{error}") from None
    return text


def _options(choices: Choices) -> Iterator[CommentedMap]:
    for value, label in choices:
        option = CommentedMap(value=value, label=Quoted(label))
        option.fa.set_flow_style()
        yield option


def _dump(data: dict[str, Any]) -> str:
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.indent(mapping=2, sequence=4, offset=2)
    stream = io.StringIO()
    yaml.dump(data, stream)
    return stream.getvalue()
