"""Cronbach's alpha from an exported long answers file, for `telos research outcomes --answers`.

The file (CSV or Parquet) holds raw answers (participant, wave, instrument, item, value;
the export adds days_since_enrolment and instrument_version). It is read as columns and
checked over whole columns; each bad row is named as `file:line: reason`. Items are
reverse-keyed with the survey definitions, exactly as scoring keys them, once per distinct
(instrument, item, answer); then each score's items make one matrix per wave.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.research.outcomes import Reliability, alpha_of_complete
from app.research.table_file import TextTable, empty, numbers, read_table, sorted_problems
from app.surveys.definitions import Instrument
from app.surveys.scoring import AnswerError, scored_value

COLUMNS = ("participant", "wave", "instrument", "item", "value")
WAVE_ORDER = {"pre": 0, "post": 1, "followup": 2}

Problems = list[tuple[int, str]]


class AnswersFileError(Exception):
    """Bad rows of an answers file, each problem as `file:line: reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Codes:
    codes: np.ndarray
    names: list[str]

    def __getitem__(self, row: int) -> str:
        return self.names[self.codes[row]]


@dataclass(frozen=True)
class KeyedAnswers:
    """Reverse-keyed answers (NaN where not given), one per (instrument, wave, participant,
    item), and the instruments that are not in the battery."""

    instrument: Codes
    wave: Codes
    participant: Codes
    item: Codes
    value: np.ndarray
    unknown: set[str]


def read_answers(path: Path, *, name: str,
                 instruments: Mapping[str, Instrument]) -> KeyedAnswers:
    table = read_table(path, name=name, columns=COLUMNS)
    if not all(column in table.header for column in COLUMNS):
        raise AnswersFileError([f"{table.where(1)}: the header needs the columns "
                                f"{', '.join(COLUMNS)}; it has "
                                f"{', '.join(table.header) or 'none'}"])
    problems = list(table.problems)
    bad = np.zeros(len(table), dtype=bool)
    for column in COLUMNS[:4]:
        problems += _flag(table, empty(table.columns[column]) & ~bad,
                          lambda _row, column=column: f"column {column!r} is empty")
        bad |= empty(table.columns[column])
    instrument, item = _codes(table.columns["instrument"]), _codes(table.columns["item"])
    known = np.array([key in instruments for key in instrument.names], dtype=bool)
    outside = ~bad & ~known[instrument.codes] if len(table) else bad
    unknown = {instrument.names[code] for code in np.unique(instrument.codes[outside])}
    bad |= outside
    not_item = ~bad & _not_items(instrument, item, instruments)
    problems += _flag(table, not_item, lambda row: f"{item[row]!r} is not an item of "
                                                   f"{instrument[row]!r}")
    bad |= not_item
    reasons: list[str] = []
    keyed, value_problems = _keyed(table, instrument, item, instruments, ~bad, reasons)
    wave, participant = _codes(table.columns["wave"]), _codes(table.columns["participant"])
    stored, repeated = _first_answers(~bad, np.isnan(value_problems), instrument, wave,
                                      participant, item)
    problems += _flag(table, repeated, lambda row: (
        f"participant {participant[row]!r} already answered {item[row]!r} in wave "
        f"{wave[row]!r}"))
    messages = np.flatnonzero(~bad & ~repeated & ~np.isnan(value_problems))
    problems += [table.problem(int(table.lines[row]), reasons[int(value_problems[row])])
                 for row in messages]
    if problems:
        raise AnswersFileError(sorted_problems(problems))
    return KeyedAnswers(_kept(instrument, stored), _kept(wave, stored),
                        _kept(participant, stored), _kept(item, stored), keyed[stored], unknown)


def _flag(table: TextTable, mask: np.ndarray, reason) -> Problems:
    return [table.problem(int(table.lines[row]), reason(int(row))) for row in np.flatnonzero(mask)]


def _codes(column: pa.Array) -> Codes:
    encoded = pc.dictionary_encode(column)
    return Codes(encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64),
                 encoded.dictionary.to_pylist())


def _kept(codes: Codes, mask: np.ndarray) -> Codes:
    return Codes(codes.codes[mask], codes.names)


def _pairs(instrument: Codes, item: Codes) -> np.ndarray:
    return instrument.codes * max(1, len(item.names)) + item.codes


def _not_items(instrument: Codes, item: Codes, instruments: Mapping[str, Instrument]
               ) -> np.ndarray:
    pairs = _pairs(instrument, item)
    unique, inverse = np.unique(pairs, return_inverse=True)
    width = max(1, len(item.names))
    valid = np.array([
        instrument.names[pair // width] in instruments
        and item.names[pair % width] in instruments[instrument.names[pair // width]].items_by_id
        for pair in unique.tolist()], dtype=bool)
    return ~valid[inverse] if len(pairs) else np.zeros(0, dtype=bool)


def _keyed(table: TextTable, instrument: Codes, item: Codes,
           instruments: Mapping[str, Instrument], chosen: np.ndarray, reasons: list[str]
           ) -> tuple[np.ndarray, np.ndarray]:
    """Each chosen row's keyed value (NaN when empty), and the index of its problem in
    `reasons` (NaN when none); scored once per distinct instrument, item and answer."""
    column = table.columns["value"]
    read = numbers(column)
    keyed = np.full(len(table), np.nan)
    problem = np.full(len(table), np.nan)
    for row, text in read.refused.items():
        if chosen[row]:
            problem[row] = _reason(reasons, f"value {text!r} is not a number")
    answered = np.flatnonzero(chosen & read.given & ~_refused(read, len(table)))
    if not len(answered):
        return keyed, problem
    values = pc.dictionary_encode(pa.array(read.values[answered]))
    value_codes = values.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    options = values.dictionary.to_numpy(zero_copy_only=False)
    combos = _pairs(instrument, item)[answered] * len(options) + value_codes
    unique, inverse = np.unique(combos, return_inverse=True)
    width = max(1, len(item.names))
    scored = np.full(len(unique), np.nan)
    failed = np.full(len(unique), np.nan)
    for index, combo in enumerate(unique.tolist()):
        pair, option = divmod(combo, len(options))
        definition = instruments[instrument.names[pair // width]]
        try:
            scored[index] = scored_value(definition, item.names[pair % width],
                                         float(options[option]))
        except AnswerError as error:
            failed[index] = _reason(reasons, str(error))
    keyed[answered], problem[answered] = scored[inverse], failed[inverse]
    return keyed, problem


def _refused(read, size: int) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[list(read.refused)] = True
    return mask


def _reason(reasons: list[str], text: str) -> int:
    if text not in reasons:
        reasons.append(text)
    return reasons.index(text)


def _first_answers(candidate: np.ndarray, good_value: np.ndarray, instrument: Codes,
                   wave: Codes, participant: Codes, item: Codes
                   ) -> tuple[np.ndarray, np.ndarray]:
    """The rows kept (the first good answer of each participant, wave and item) and the
    rows that come after a kept one: an answer given twice."""
    key = ((_pairs(instrument, item) * len(wave.names) + wave.codes) * len(participant.names)
           + participant.codes)
    rows = np.arange(len(key))
    good = np.flatnonzero(candidate & good_value)
    unique, first = np.unique(key[good], return_index=True)
    kept = np.zeros(len(key), dtype=bool)
    kept[good[first]] = True
    found = np.searchsorted(unique, key)
    has_first = found < len(unique)
    has_first[has_first] = unique[found[has_first]] == key[has_first]
    first_row = np.full(len(key), len(key))
    first_row[has_first] = good[first][found[has_first]]
    return kept, candidate & (first_row < rows)


def reliabilities(answers: KeyedAnswers,
                  instruments: Mapping[str, Instrument]) -> list[Reliability]:
    """Alpha of each score's items per wave; named like the web report (instrument, or
    instrument.score when the instrument has several scores). Respondents in pseudonym
    order, as they always were."""
    found = []
    groups = answers.instrument.codes * len(answers.wave.names) + answers.wave.codes
    order = np.argsort(groups, kind="stable")
    starts = np.flatnonzero(np.diff(groups[order]) != 0) + 1
    for rows in np.split(order, starts) if len(order) else []:
        instrument = instruments[answers.instrument[rows[0]]]
        found += _alphas(answers, instrument, answers.wave[rows[0]], rows)
    return sorted(found, key=lambda r: (r.instrument, WAVE_ORDER.get(r.wave, 3), r.wave))


def _alphas(answers: KeyedAnswers, instrument: Instrument, wave: str,
            rows: np.ndarray) -> list[Reliability]:
    people = np.unique(answers.participant.codes[rows])
    people = people[np.argsort([answers.participant.names[code] for code in people])]
    row_of = np.empty(len(answers.participant.names), dtype=np.int64)
    row_of[people] = np.arange(len(people))
    column_of = {item.id: index for index, item in enumerate(instrument.items)}
    items = np.array([column_of.get(name, -1) for name in answers.item.names], dtype=np.int64)
    matrix = np.full((len(people), len(instrument.items)), np.nan)
    matrix[row_of[answers.participant.codes[rows]], items[answers.item.codes[rows]]] = (
        answers.value[rows])
    results = []
    for score in instrument.scores:
        columns = [column_of[item.id] for item in instrument.items_of(score)]
        chosen = matrix[:, columns]
        complete = chosen[~np.isnan(chosen).any(axis=1)]
        name = instrument.id if len(instrument.scores) == 1 else f"{instrument.id}.{score.name}"
        results.append(Reliability(instrument=name, wave=wave, n=len(complete),
                                   items=len(columns), alpha=alpha_of_complete(complete)))
    return results
