"""Importing content items from a CSV file: every row checked first, then all or nothing.

A title already in the library (or twice in the file) is refused, not updated: an import
only ever adds, so a file sent twice, or an old copy of a sheet, cannot overwrite edits
made on the site since. Items are changed on their own page.
"""

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.community import content
from app.community.content_forms import ContentForm
from app.community.service import themes
from app.forms import validate

REQUIRED = ("title", "summary", "kind")
COLUMNS = ("title", "summary", "url", "body", "kind", "themes", "stages", "language")
MAX_BYTES = 2_000_000
MAX_ROWS = 2000

# One row by column name; csv.DictReader puts None for a missing cell, extra cells under None.
Record = dict[Any, Any]


@dataclass(frozen=True)
class Problem:
    row: int | None  # as a spreadsheet numbers it: the column names are row 1
    column: str
    reason: str

    def __str__(self) -> str:
        where = f"row {self.row}, {self.column}" if self.row else self.column
        return f"{where}: {self.reason}"


class ImportRefused(Exception):
    def __init__(self, problems: list[Problem], unknown_themes: list[str] | None = None) -> None:
        super().__init__(f"{len(problems)} problems")
        self.problems = problems
        self.unknown_themes = unknown_themes or []


def import_csv(session: Session, *, data: bytes, created_by_id: int | None) -> int:
    """How many items were added; ImportRefused (and nothing added) if anything is wrong."""
    rows = _parsed(session, _records(data))
    content.create_items(session, rows=rows, created_by_id=created_by_id)
    return len(rows)


def _records(data: bytes) -> list[Record]:
    if len(data) > MAX_BYTES:
        raise _whole_file(f"The file is larger than {MAX_BYTES // 1_000_000} MB; split it.")
    if b"\x00" in data:
        raise _whole_file("This is not a CSV file. Save the sheet as “CSV UTF-8” and try again.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _whole_file("The file is not UTF-8 text. Save the sheet as “CSV UTF-8” and try "
                          "again.") from None
    if not text.strip():
        raise _whole_file("The file is empty.")
    return _rows_of(text)


def _rows_of(text: str) -> list[Record]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [name.strip().lower() for name in reader.fieldnames or ()]
        _check_header(header)
        reader.fieldnames = header
        records = [record for record in reader if any(_cells(record))]
    except csv.Error as error:
        raise _whole_file(f"This file cannot be read as CSV: {error} (after line "
                          f"{reader.line_num}). Is a quote left open?") from None
    if not records:
        raise _whole_file("The file has column names but no rows of items.")
    if len(records) > MAX_ROWS:
        raise _whole_file(f"The file has {len(records)} rows; import at most {MAX_ROWS} at a "
                          "time.")
    return records


def _cells(record: Record) -> list[str]:
    values = [*record.values(), *(record.get(None) or ())]
    return [value for value in values if isinstance(value, str) and value.strip()]


def _check_header(header: list[str]) -> None:
    problems = [Problem(None, f"column “{name}”", "this column is needed")
                for name in REQUIRED if name not in header]
    if "url" not in header and "body" not in header:
        problems.append(Problem(None, "columns “url” and “body”", "at least one is needed"))
    problems += [Problem(None, f"column “{name}”", "not a column we know; the columns are "
                         + ", ".join(COLUMNS))
                 for name in header if name not in COLUMNS]
    problems += [Problem(None, f"column “{name}”", "named twice")
                 for name in sorted({name for name in header if header.count(name) > 1})]
    if problems:
        raise ImportRefused(problems)


def _whole_file(reason: str) -> ImportRefused:
    return ImportRefused([Problem(None, "file", reason)])


def _parsed(session: Session, records: list[Record]) -> list[ContentForm]:
    resolver = _Resolver(session)
    taken = content.existing_titles(session)
    problems: list[Problem] = []
    parsed: list[ContentForm] = []
    first_row_of: dict[str, int] = {}
    for number, record in enumerate(records, start=2):
        if None in record or None in record.values():
            # Cells shifted against the columns: checking their values would only mislead.
            problems.append(Problem(number, "row", _cell_count(record)))
            continue
        problems += _check_record(number, record, resolver, taken, first_row_of)
        form, errors = validate(ContentForm, resolver.fields(record))
        problems += [Problem(number, column, reason) for column, reason in errors.items()]
        if form is not None:
            parsed.append(form)
    if problems:
        raise ImportRefused(problems, sorted(resolver.unknown_themes))
    return parsed


def _check_record(
    number: int, record: Record, resolver: "_Resolver",
    taken: Mapping[str, object], first_row_of: dict[str, int],
) -> Iterator[Problem]:
    key = content.title_key(record.get("title") or "")
    if key and key in first_row_of:
        yield Problem(number, "title", f"the same title as row {first_row_of[key]}; "
                      "each item needs its own")
    elif key in taken:
        yield Problem(number, "title", "an item with this title is already in the library; "
                      "change the title, or edit that item on its page")
    first_row_of.setdefault(key, number)
    for missing in resolver.unknown(record.get("themes") or ""):
        yield Problem(number, "themes", f"“{missing}” is not on the theme list")
    for missing in resolver.unknown_stages(record.get("stages") or ""):
        yield Problem(number, "stages", f"“{missing}” is not a phase or stage of a loaded "
                      "journey")


def _cell_count(record: Record) -> str:
    if None in record.values():
        return "fewer cells than there are columns"
    return "more cells than there are columns (a text with a comma in it needs quotes around it)"


class _Resolver:
    """Theme and stage names as people type them (key or label, any case) to keys."""

    def __init__(self, session: Session) -> None:
        self.themes: dict[str, str] = {}
        for theme in themes(session):
            self.themes[theme.key.lower()] = theme.key
            self.themes[theme.label.lower()] = theme.key
        self.stages: dict[str, str] = {}
        for choice in content.stage_choices(session):
            self.stages[choice.key.lower()] = choice.key
            self.stages[choice.label.lower()] = choice.key
        self.unknown_themes: set[str] = set()

    def unknown(self, cell: str) -> list[str]:
        missing = [name for name in _split(cell) if name.lower() not in self.themes]
        self.unknown_themes.update(missing)
        return missing

    def unknown_stages(self, cell: str) -> list[str]:
        return [name for name in _split(cell) if name.lower() not in self.stages]

    def fields(self, record: Record) -> dict[str, object]:
        return {
            **{name: record.get(name) or "" for name in ("title", "summary", "url", "body",
                                                         "kind")},
            "language": record.get("language") or "en",
            "themes": _known(self.themes, record.get("themes")),
            "stages": _known(self.stages, record.get("stages")),
        }


def _split(cell: str | None) -> list[str]:
    return [part.strip() for part in (cell or "").split(";") if part.strip()]


def _known(keys: dict[str, str], cell: str | None) -> list[str]:
    return [keys[name.lower()] for name in _split(cell) if name.lower() in keys]
