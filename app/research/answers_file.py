"""Cronbach's alpha from an exported long answers file, for `telos research outcomes --answers`.

The file holds raw answers (participant, wave, instrument, item, value; the export adds
days_since_enrolment and instrument_version). Items are reverse-keyed here with the survey
definitions, exactly as scoring keys them, then each score's items make one matrix per wave.
"""

import csv
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TextIO

from app.research.outcomes import Reliability, cronbach_alpha
from app.surveys.definitions import Instrument
from app.surveys.scoring import AnswerError, scored_value

COLUMNS = ("participant", "wave", "instrument", "item", "value")


class AnswersFileError(Exception):
    """Bad rows of an answers file, each problem as `file:line: reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class KeyedAnswers:
    """Reverse-keyed answers by (instrument, wave, participant), and instruments not known."""

    values: dict[tuple[str, str, str], dict[str, float | None]] = field(
        default_factory=lambda: defaultdict(dict))
    unknown: set[str] = field(default_factory=set)


def read_answers(stream: TextIO, *, name: str,
                 instruments: Mapping[str, Instrument]) -> KeyedAnswers:
    reader = csv.reader(stream)
    header = [column.strip() for column in next(reader, [])]
    if not all(column in header for column in COLUMNS):
        raise AnswersFileError([f"{name}:1: the header needs the columns {', '.join(COLUMNS)}; "
                                f"it has {', '.join(header) or 'none'}"])
    answers = KeyedAnswers()
    problems: list[str] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        try:
            _add(answers, header, cells, instruments)
        except ValueError as error:
            problems.append(f"{name}:{reader.line_num}: {error}")
    if problems:
        raise AnswersFileError(problems)
    return answers


def _add(answers: KeyedAnswers, header: list[str], cells: list[str],
         instruments: Mapping[str, Instrument]) -> None:
    if len(cells) != len(header):
        raise ValueError(f"{len(cells)} values for {len(header)} columns")
    row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
    empty = [column for column in COLUMNS[:4] if not row[column]]
    if empty:
        raise ValueError(f"column {empty[0]!r} is empty")
    instrument = instruments.get(row["instrument"])
    if instrument is None:
        answers.unknown.add(row["instrument"])
        return
    if row["item"] not in instrument.items_by_id:
        raise ValueError(f"{row['item']!r} is not an item of {instrument.id!r}")
    given = answers.values[(instrument.id, row["wave"], row["participant"])]
    if row["item"] in given:
        raise ValueError(f"participant {row['participant']!r} already answered "
                         f"{row['item']!r} in wave {row['wave']!r}")
    given[row["item"]] = _keyed(instrument, row["item"], row["value"])


def _keyed(instrument: Instrument, item: str, text: str) -> float | None:
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise ValueError(f"value {text!r} is not a number") from None
    try:
        return scored_value(instrument, item, number)
    except AnswerError as error:
        raise ValueError(str(error)) from None


def reliabilities(answers: KeyedAnswers,
                  instruments: Mapping[str, Instrument]) -> list[Reliability]:
    """Alpha of each score's items per wave; named like the web report (instrument, or
    instrument.score when the instrument has several scores)."""
    matrices: dict[tuple[str, str], list[list[float | None]]] = defaultdict(list)
    sizes: dict[tuple[str, str], int] = {}
    for (instrument_id, wave, _participant), given in sorted(answers.values.items()):
        instrument = instruments[instrument_id]
        for score in instrument.scores:
            items = [item.id for item in instrument.items_of(score)]
            name = (instrument.id if len(instrument.scores) == 1
                    else f"{instrument.id}.{score.name}")
            matrices[(name, wave)].append([given.get(item) for item in items])
            sizes[(name, wave)] = len(items)
    return [
        Reliability(instrument=name, wave=wave, items=sizes[(name, wave)],
                    n=sum(all(value is not None for value in row) for row in matrix),
                    alpha=cronbach_alpha(matrix))
        for (name, wave), matrix in sorted(matrices.items(), key=_in_wave_order)
    ]


def _in_wave_order(entry: tuple[tuple[str, str], object]) -> tuple[str, int, str]:
    (name, wave), _matrix = entry
    return name, {"pre": 0, "post": 1, "followup": 2}.get(wave, 3), wave
