"""A long CSV or Parquet file read as columns of text with pyarrow, each row knowing the
line it ends on, so that checks run over whole columns and still name `file:line`.

Cells are trimmed as the row-by-row reader trimmed them; rows whose cells are all blank
are dropped; rows with the wrong number of cells come back as problems.
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

PARQUET_MAGIC = b"PAR1"
# What pyarrow's cast to float64 reads exactly as float() does; anything else is left to float().
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


@dataclass
class TextTable:
    """Trimmed text columns by header name, the line (or Parquet row) of each row, and
    the problems of rows that could not be split into the header's columns."""

    name: str
    header: list[str]
    columns: dict[str, pa.Array]
    lines: np.ndarray
    problems: list[tuple[int, str]] = field(default_factory=list)
    parquet: bool = False

    def __len__(self) -> int:
        return len(self.lines)

    def where(self, line: int) -> str:
        return f"{self.name}:row {line}" if self.parquet else f"{self.name}:{line}"

    def problem(self, line: int, reason: str) -> tuple[int, str]:
        return line, f"{self.where(line)}: {reason}"

    def keep(self, mask: np.ndarray) -> "TextTable":
        chosen = pa.array(mask)
        return TextTable(self.name, self.header,
                         {key: column.filter(chosen) for key, column in self.columns.items()},
                         self.lines[mask], self.problems, self.parquet)


def read_table(path: Path, *, name: str, columns: Sequence[str]) -> TextTable:
    """The file's rows with the trimmed text of `columns` (those of them it has); OSError
    or UnicodeDecodeError when it cannot be read as UTF-8 text."""
    data = path.read_bytes()
    if data[:4] == PARQUET_MAGIC:
        try:
            return _parquet(data, name)
        except pa.ArrowException as error:
            raise OSError(f"not a readable Parquet file ({error})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return _csv(data, name, columns)
    except pa.ArrowInvalid as error:
        if "UTF8" in str(error):
            data.decode("utf-8")  # raises the UnicodeDecodeError that says where
        raise OSError(f"not a readable CSV file ({error})") from None


def _header(data: bytes) -> tuple[list[str], int]:
    first = data.split(b"\n", 1)[0].decode("utf-8")
    if '"' in first:
        reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""))
    else:
        reader = csv.reader([first])
    header = [column.strip() for column in next(reader, [])]
    return header, max(1, reader.line_num)


def _csv(data: bytes, name: str, wanted: Sequence[str]) -> TextTable:
    header, header_lines = _header(data)
    if b"\n" not in data:
        return TextTable(name, header, {}, np.zeros(0, dtype=np.int64))
    positional = [f"c{i}" for i in range(len(header))]
    skipped: list[tuple[int, str]] = []

    def refused(row: pa_csv.InvalidRow) -> str:
        skipped.append((row.number, row.text))
        return "skip"

    table = pa_csv.read_csv(
        pa.BufferReader(data),
        read_options=pa_csv.ReadOptions(use_threads=False, column_names=positional,
                                        skip_rows=1),
        parse_options=pa_csv.ParseOptions(newlines_in_values=True, ignore_empty_lines=False,
                                          invalid_row_handler=refused),
        convert_options=pa_csv.ConvertOptions(
            column_types=dict.fromkeys(positional, pa.string()), strings_can_be_null=False,
            quoted_strings_can_be_null=False))
    raw = [table.column(i) for i in range(len(header))]
    del table
    lines = _line_numbers(raw, skipped, header_lines, quoted=b'"' in data)
    kept = TextTable(name, header, {}, lines[0])
    kept.problems = [kept.problem(line, reason) for line, reason in
                     _split_problems(skipped, lines[1], len(header))]
    blank = np.ones(len(kept), dtype=bool)
    for index, column in enumerate(header):
        trimmed = pc.utf8_trim_whitespace(raw[index])
        blank &= empty(trimmed)
        if column in wanted:
            kept.columns[column] = trimmed.combine_chunks()  # a doubled name: the last wins
        raw[index] = None
    return kept.keep(~blank) if blank.any() else kept


def _line_numbers(raw: Sequence[pa.Array], skipped: list[tuple[int, str]],
                  header_lines: int, *, quoted: bool) -> tuple[np.ndarray, np.ndarray]:
    """The last line of each parsed row and of each refused row: records are numbered by
    pyarrow, and a record spans one line more than the line breaks inside its quotes."""
    rows = len(raw[0]) if raw else 0
    total = rows + len(skipped)
    refused = np.array([number for number, _ in skipped], dtype=np.int64) - 2
    parsed = np.ones(total, dtype=bool)
    parsed[refused] = False
    spans = np.ones(total, dtype=np.int64)
    breaks = np.zeros(rows, dtype=np.int64)
    for column in raw if quoted else ():
        if pc.any(pc.match_substring(column, "\n")).as_py():
            breaks += pc.count_substring(column, "\n").to_numpy(zero_copy_only=False)
    spans[parsed] += breaks
    spans[refused] += np.array([text.count("\n") for _, text in skipped], dtype=np.int64)
    ends = header_lines + np.cumsum(spans)
    return ends[parsed], ends[refused]


def _split_problems(skipped: list[tuple[int, str]], lines: np.ndarray,
                    columns: int) -> list[tuple[int, str]]:
    problems = []
    for (_number, text), line in zip(skipped, lines, strict=True):
        cells = next(csv.reader(io.StringIO(text, newline="")), [])
        if any(cell.strip() for cell in cells):
            problems.append((int(line), f"{len(cells)} values for {columns} columns"))
    return problems


def empty(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    lengths: np.ndarray = pc.utf8_length(column).to_numpy()
    return lengths == 0


def _parquet(data: bytes, name: str) -> TextTable:
    table = pq.read_table(pa.BufferReader(data))
    columns = {}
    for column in table.column_names:
        values = table.column(column).combine_chunks()
        if pa.types.is_floating(values.type) or pa.types.is_integer(values.type):
            values = pc.cast(values, pa.float64())
        else:
            values = pc.utf8_trim_whitespace(pc.fill_null(pc.cast(values, pa.string()), ""))
        columns[column] = values
    lines = np.arange(1, table.num_rows + 1, dtype=np.int64)
    return TextTable(name, list(table.column_names), columns, lines, parquet=True)


@dataclass(frozen=True)
class Numbers:
    values: np.ndarray                  # as float() reads them; NaN where empty or refused
    given: np.ndarray                   # the cell is not empty
    refused: dict[int, str]             # row index -> the text float() refused

    def not_finite(self) -> np.ndarray:
        odd = self.given & ~np.isfinite(self.values)
        odd[list(self.refused)] = False
        return odd

    def text(self, column: pa.Array, index: int) -> str:
        return self.refused.get(index) or str(column[index].as_py())


def numbers(column: pa.Array) -> Numbers:
    """The cells as float() reads them: plain numbers cast by pyarrow at once, the rare
    rest ('1_000', 'nan', 'lots') one by one."""
    if pa.types.is_floating(column.type) or pa.types.is_integer(column.type):
        values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
        given = column.is_valid().to_numpy(zero_copy_only=False) & ~np.isnan(values)
        return Numbers(np.where(given, values, np.nan), given, {})
    given = ~empty(column)
    try:
        values = pc.cast(pc.if_else(pa.array(given), column, None), pa.float64())
        return Numbers(values.to_numpy(zero_copy_only=False), given, {})
    except pa.ArrowInvalid:
        pass  # some cell is not a plain number: find which, below
    plain = pc.match_substring_regex(column, PLAIN_NUMBER).to_numpy(zero_copy_only=False)
    values = np.full(len(column), np.nan)
    values[plain] = pc.cast(column.filter(pa.array(plain)), pa.float64()).to_numpy()
    refused: dict[int, str] = {}
    others = np.flatnonzero(given & ~plain)
    for index, text in zip(others, column.take(pa.array(others)).to_pylist(), strict=True):
        try:
            values[index] = float(text)
        except ValueError:
            refused[int(index)] = text
    return Numbers(values, given, refused)


def sorted_problems(*groups: Sequence[tuple[int, str]]) -> list[str]:
    found = [problem for group in groups for problem in group]
    return [message for _line, message in sorted(found, key=lambda problem: problem[0])]

