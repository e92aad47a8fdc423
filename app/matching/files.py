"""Members and mentors from CSV files, assignments and scores to CSV: `telos match file`.

Every problem in an input file is a FileProblem that reads `file:line: reason`. Columns
the matcher does not use (an export from a CRM has many) are ignored and named once
through `warn`; a near miss of a column it uses (`langauges`, `Text`) is refused.
"""

import csv
import difflib
import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from app.matching.engine import MatchRun, MemberProfile, MentorProfile, Weights

LIST_SEPARATOR = ";"
MEMBER_COLUMNS = ("id", "text", "themes", "languages", "utc_offset", "wishes")
MENTOR_COLUMNS = ("id", "text", "themes", "languages", "utc_offset", "offers", "accepting")
REQUIRED = ("id", "text")
YES = {"", "yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


class FileProblem(Exception):
    def __init__(self, path: Path, line: int, reason: str) -> None:
        super().__init__(f"{path}:{line}: {reason}")


Row = dict[str, str]
Warn = Callable[[str], None]


def _unheard(_message: str) -> None:
    pass


def read_members(path: Path, *, warn: Warn = _unheard) -> list[MemberProfile]:
    return [
        MemberProfile(id=row["id"], text=row["text"], themes=_tags(row, "themes"),
                      languages=_languages(row), utc_offset_hours=_offset(path, line, row),
                      wishes=_tags(row, "wishes"))
        for line, row in _rows(path, MEMBER_COLUMNS, warn=warn)
    ]


def read_mentors(path: Path, *, capacity_column: str = "capacity",
                 warn: Warn = _unheard) -> list[MentorProfile]:
    return [
        MentorProfile(id=row["id"], text=row["text"], themes=_tags(row, "themes"),
                      languages=_languages(row), utc_offset_hours=_offset(path, line, row),
                      offers=_tags(row, "offers"),
                      capacity=_capacity(path, line, row, capacity_column),
                      accepting=_accepting(path, line, row))
        for line, row in _rows(path, (*MENTOR_COLUMNS, capacity_column),
                               required=(*REQUIRED, capacity_column), warn=warn)
    ]


def parse_weights(text: str) -> Weights:
    """"text=0.6,themes=0.4" -> Weights; the names not given keep their defaults."""
    given: dict[str, float] = {}
    names = ", ".join(Weights.__dataclass_fields__)
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        name, equals, value = part.partition("=")
        if not equals or name.strip() not in Weights.__dataclass_fields__:
            raise ValueError(f"{part!r} is not NAME=NUMBER with NAME one of {names}")
        try:
            given[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"{value.strip()!r} is not a number (in {part!r})") from None
    return Weights(**given)


def write_assignments(stream: TextIO, run: MatchRun, members: list[MemberProfile]) -> None:
    chosen = {pair.member_id: pair for pair in run.assignment.pairs}
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["member_id", "mentor_id", "score", "explanation"])
    for member in members:
        pair = chosen.get(member.id)
        if pair is not None:
            writer.writerow([member.id, pair.mentor_id, f"{pair.score:.4f}", pair.explanation])
        elif run.candidates.get(member.id):
            writer.writerow([member.id, "", "", "not matched: every mentor who fits is full"])
        else:
            writer.writerow([member.id, "", "", "not matched: no mentor fits (no shared "
                             "language, declined, or none accepting)"])


def write_scores(stream: TextIO, run: MatchRun) -> None:
    chosen = {(pair.member_id, pair.mentor_id) for pair in run.assignment.pairs}
    writer = csv.writer(stream, lineterminator="\n")
    parts = list(Weights.__dataclass_fields__)
    writer.writerow(["member_id", "mentor_id", "rank", "score", *parts, "assigned",
                     "explanation"])
    for member_id, found in run.candidates.items():
        for rank, candidate in enumerate(found, start=1):
            writer.writerow([
                member_id, candidate.mentor_id, rank, f"{candidate.score:.4f}",
                *(f"{candidate.parts.get(name, 0.0):.4f}" for name in parts),
                "yes" if (member_id, candidate.mentor_id) in chosen else "no",
                candidate.explanation,
            ])


def _rows(path: Path, known: tuple[str, ...], required: tuple[str, ...] = REQUIRED, *,
          warn: Warn) -> Iterator[tuple[int, Row]]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            yield from _parse(path, stream, known, required, warn)
    except UnicodeDecodeError as error:
        raise FileProblem(path, 1, f"not UTF-8 text ({error.reason})") from None
    except OSError as error:
        raise FileProblem(path, 1, f"cannot read: {error.strerror or error}") from None


def _parse(path: Path, stream: TextIO, known: tuple[str, ...],
           required: tuple[str, ...], warn: Warn) -> Iterator[tuple[int, Row]]:
    reader = csv.reader(stream)
    try:
        header = [name.strip() for name in next(reader, [])]
        ignored = _check_header(path, header, known, required)
        if ignored:
            warn(f"{path}:1: ignoring column(s) {', '.join(map(repr, ignored))}: the matcher "
                 f"does not use them (it reads {', '.join(known)})")
        seen: dict[str, int] = {}
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            row = _row(path, line, header, cells)
            if row["id"] in seen:
                raise FileProblem(path, line, f"id {row['id']!r} is already on line "
                                  f"{seen[row['id']]}")
            seen[row["id"]] = line
            yield line, row
    except csv.Error as error:
        raise FileProblem(path, reader.line_num, f"not valid CSV: {error}") from None
    if not seen:
        raise FileProblem(path, max(reader.line_num, 1), "no rows after the header")


def _check_header(path: Path, header: list[str], known: tuple[str, ...],
                  required: tuple[str, ...]) -> list[str]:
    """The columns to ignore; FileProblem for a missing, doubled or misspelt column."""
    if not any(header):
        raise FileProblem(path, 1, f"empty: the first line must name the columns "
                          f"({', '.join(required)} are needed)")
    for name in header:
        if name not in known and (meant := _meant(name, known)):
            raise FileProblem(path, 1, f"unknown column {name!r}: did you mean {meant!r}? "
                              "(column names are lower case)")
    for name in required:
        if name not in header:
            raise FileProblem(path, 1, f"no {name!r} column")
    for name in header:
        if header.count(name) > 1 and name in known:
            raise FileProblem(path, 1, f"column {name!r} appears twice")
    return list(dict.fromkeys(name for name in header if name not in known))


def _meant(name: str, known: tuple[str, ...]) -> str | None:
    """The known column `name` is most likely a slip for (`Text`, `langauges`), or None."""
    close = difflib.get_close_matches(name.lower(), known, n=1, cutoff=0.8)
    return close[0] if close else None


def _row(path: Path, line: int, header: list[str], cells: list[str]) -> Row:
    if len(cells) != len(header):
        raise FileProblem(path, line, f"{len(cells)} values for {len(header)} columns")
    row = {name: cell.strip() for name, cell in zip(header, cells, strict=True)}
    if not row["id"]:
        raise FileProblem(path, line, "the id is empty")
    return row


def _tags(row: Row, column: str) -> frozenset[str]:
    return frozenset(filter(None, (tag.strip() for tag in row.get(column, "").split(";"))))


def _languages(row: Row) -> frozenset[str]:
    return frozenset(language.lower() for language in _tags(row, "languages"))


def _offset(path: Path, line: int, row: Row) -> float | None:
    text = row.get("utc_offset", "")
    if not text:
        return None
    try:
        hours = float(text)
    except ValueError:
        hours = math.nan
    if not -12 <= hours <= 14:
        raise FileProblem(path, line, f"utc_offset {text!r} is not hours from UTC between "
                          "-12 and 14")
    return hours


def _capacity(path: Path, line: int, row: Row, column: str) -> int:
    text = row[column]
    if not re.fullmatch(r"[0-9]+", text):
        raise FileProblem(path, line, f"{column} {text!r} is not a whole number of places, "
                          "0 or more")
    return int(text)


def _accepting(path: Path, line: int, row: Row) -> bool:
    text = row.get("accepting", "").lower()
    if text not in YES | NO:
        raise FileProblem(path, line, f"accepting {row['accepting']!r} is not yes or no")
    return text in YES
