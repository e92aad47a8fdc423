"""A long scores file (CSV or Parquet) read as columns for `telos research outcomes`.

Every check runs over whole columns; each bad row is still named as `file:line: reason`,
in line order, and one bad row means nothing is computed.
"""

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.research.long_table import LongTable, missing_as_nan
from app.research.outcomes_cli import LONG, SCORES, ScoresFileError
from app.research.table_file import TextTable, empty, numbers, read_table, sorted_problems

Problems = list[tuple[int, str]]


def read_scores(path: Path, *, name: str) -> LongTable:
    """The observations of the file; ScoresFileError lists every bad row. OSError or
    UnicodeDecodeError when it cannot be read."""
    table = read_table(path, name=name, columns=(*LONG, *SCORES))
    problems = list(table.problems)
    variable = _variable_column(table)
    values = numbers(table.columns["value"])
    bad = np.zeros(len(table), dtype=bool)
    for mask, reason in _checks(table, variable, values):
        problems += _flag(table, mask & ~bad, reason)
        bad |= mask
    good = table.keep(~bad) if bad.any() else table
    variable = variable.filter(pa.array(~bad)) if bad.any() else variable
    found = _long_table(good, variable, values.values[~bad])
    problems += _repeats(good, found)
    if not len(found) and not problems:
        problems.append(table.problem(1, "no rows below the header"))
    if problems:
        raise ScoresFileError(sorted_problems(problems))
    return found


def _variable_column(table: TextTable) -> pa.Array:
    header = table.header
    if all(column in header for column in LONG):
        return table.columns["variable"]
    if all(column in header for column in SCORES):
        instrument, score = table.columns["instrument"], table.columns["score"]
        both = pc.and_(pc.greater(pc.utf8_length(instrument), 0),
                       pc.greater(pc.utf8_length(score), 0))
        return pc.if_else(both, pc.binary_join_element_wise(instrument, score, "."), "")
    doubled = sorted({column for column in header if header.count(column) > 1})
    if doubled:
        raise ScoresFileError([f"{table.where(1)}: column {doubled[0]!r} appears twice"])
    raise ScoresFileError([
        f"{table.where(1)}: the header needs the columns {', '.join(LONG)} (or, as in an "
        f"exported scores file, {', '.join(SCORES)}); it has {', '.join(header) or 'none'}"])


def _checks(table: TextTable, variable: pa.Array, values) -> list:
    """Each check's rows and reason, in the order a row is judged: its first failure counts."""
    column = table.columns["value"]
    refused = np.zeros(len(table), dtype=bool)
    refused[list(values.refused)] = True
    return [
        (empty(table.columns["participant"]), lambda i: "column 'participant' is empty"),
        (empty(table.columns["wave"]), lambda i: "column 'wave' is empty"),
        (empty(variable),
         lambda i: "no variable name (empty 'variable', or 'instrument' and 'score')"),
        (refused, lambda i: f"value {values.text(column, i)!r} is not a number (leave it "
                            "empty when missing)"),
        (values.not_finite(),
         lambda i: f"value {values.text(column, i)!r} is not a finite number"),
    ]


def _flag(table: TextTable, mask: np.ndarray, reason) -> Problems:
    return [table.problem(int(table.lines[i]), reason(int(i))) for i in np.flatnonzero(mask)]


def _long_table(table: TextTable, variable: pa.Array, values: np.ndarray) -> LongTable:
    participant, participants = _codes(table.columns["participant"])
    wave, waves = _codes(table.columns["wave"])
    variable_codes, variables = _codes(variable)
    return LongTable(participants, waves, variables, participant, wave, variable_codes,
                     missing_as_nan(values))


def _codes(column: pa.Array) -> tuple[np.ndarray, list[str]]:
    encoded = pc.dictionary_encode(column)
    return (encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
            encoded.dictionary.to_pylist())


def _repeats(table: TextTable, found: LongTable) -> Problems:
    """A second value for the same participant, wave and variable, named with the first."""
    if not len(found):
        return []
    keys = ((found.variable * len(found.waves) + found.wave) * len(found.participants)
            + found.participant)
    _unique, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    repeats = np.flatnonzero(first[inverse] != np.arange(len(keys)))
    where = "row" if table.parquet else "line"
    return [table.problem(
        int(table.lines[i]),
        f"participant {found.participants[found.participant[i]]!r} already has a value for "
        f"{found.variables[found.variable[i]]!r} in wave {found.waves[found.wave[i]]!r} "
        f"({where} {table.lines[first[inverse[i]]]})") for i in repeats]
