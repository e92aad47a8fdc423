"""The CSV files: long answers, scores, free text and the wide file, all streamed.

Rows go out in batches through one text buffer, so memory holds one batch (long) or
one participant (wide), however many responses the study has.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import groupby, islice
from operator import attrgetter
from typing import Any, BinaryIO, TypeVar

from app.research.exporting.columns import WideLayout
from app.research.exporting.model import (
    DECLINED,
    DECLINED_CELL,
    AnswerRow,
    ExportError,
    ExportSource,
    NumberTexts,
    Progress,
    ScoreRow,
    number_text,
)

BATCH = 10_000
LONG_HEADER = ["participant", "wave", "days_since_enrolment", "instrument",
               "instrument_version", "item", "value", "answer_status"]
SCORES_HEADER = [*LONG_HEADER[:5], "score", "value"]
TEXTS_HEADER = ["participant", "wave", "days_since_enrolment", "source", "field", "text"]

Row = TypeVar("Row", AnswerRow, ScoreRow)


@contextmanager
def csv_writer(out: BinaryIO) -> Iterator[Any]:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        yield csv.writer(text, lineterminator="\n")
    finally:
        text.flush()
        text.detach()  # the caller owns `out`; closing the wrapper would close it


def write_rows(out: BinaryIO, header: list[str], rows: Iterable[Iterable[object]],
               progress: Progress | None, *, batch_size: int = BATCH) -> int:
    count = 0
    with csv_writer(out) as writer:
        writer.writerow(header)
        iterator = iter(rows)
        while batch := list(islice(iterator, batch_size)):
            writer.writerows(batch)
            count += len(batch)
            if progress is not None:
                progress.advance(len(batch))
    return count


# The csv module writes None as an empty field and an int as its digits, so every field
# but the value goes out as it is; this is the hot loop of a 3-million-answer export.
_ANSWER_HEAD = attrgetter(*LONG_HEADER[:6])
_SCORE_HEAD = attrgetter(*SCORES_HEADER[:6])
_TEXT_FIELDS = attrgetter(*TEXTS_HEADER)


def write_long(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    numbers = NumberTexts()
    rows = ((*_ANSWER_HEAD(row), numbers[row.value], row.status) for row in source.answers())
    return write_rows(out, LONG_HEADER, rows, progress)


def write_scores(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    numbers = NumberTexts()
    rows = ((*_SCORE_HEAD(row), numbers[row.value]) for row in source.scores())
    return write_rows(out, SCORES_HEADER, rows, progress)


def write_texts(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    texts = source.texts() if source.texts is not None else iter(())
    return write_rows(out, TEXTS_HEADER, map(_TEXT_FIELDS, texts), progress)


def write_wide(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    layout = WideLayout(source)
    rows = ([_cell(value) for value in record] for record in wide_records(source, layout))
    # A wide row holds hundreds of cells: small batches keep memory flat.
    return write_rows(out, layout.names, rows, progress, batch_size=50)


def _cell(value: object) -> str:
    if isinstance(value, int | float):
        return number_text(value)
    return "" if value is None or value is DECLINED_CELL else str(value)


def wide_records(source: ExportSource, layout: WideLayout) -> Iterator[list[object]]:
    """One list per participant, aligned with `layout.columns`; None where nothing was given."""
    answers = _by_participant(source.answers(), "answers")
    scores = _by_participant(source.scores(), "scores")
    for participant, answer_rows, score_rows in _merge(answers, scores):
        record: list[object] = [None] * len(layout.columns)
        record[0] = participant
        for row in answer_rows:
            _place(record, layout, row, layout.cells, row.item, "item")
        for score in score_rows:
            _place(record, layout, score, layout.score_cells, score.score, "score")
        yield record


def _place(record: list[object], layout: WideLayout, row: AnswerRow | ScoreRow,
           cells: dict[tuple[str, str, str], int], name: str, what: str) -> None:
    index = cells.get((row.wave, row.instrument, name))
    if index is None:
        raise ExportError(f"participant {row.participant!r}: {what} {name!r} of instrument "
                          f"{row.instrument!r} in wave {row.wave!r} has no column; the "
                          "instrument specs or waves of the export do not list it")
    record[index] = DECLINED_CELL if getattr(row, "status", None) == DECLINED else row.value
    days = layout.days[row.wave]
    given = row.days_since_enrolment
    if given is not None and (record[days] is None or given < record[days]):  # type: ignore[operator]
        record[days] = given
    record[layout.versions[row.wave, row.instrument]] = row.instrument_version


def _by_participant(rows: Iterator[Row], what: str) -> Iterator[tuple[str, list[Row]]]:
    previous: str | None = None
    for participant, group in groupby(rows, key=_participant):
        if previous is not None and participant <= previous:
            raise ExportError(f"the {what} are not ordered by participant: {participant!r} "
                              f"came after {previous!r}")
        previous = participant
        yield participant, list(group)


def _participant(row: AnswerRow | ScoreRow) -> str:
    return row.participant


def _merge(answers: Iterator[tuple[str, list[AnswerRow]]],
           scores: Iterator[tuple[str, list[ScoreRow]]],
           ) -> Iterator[tuple[str, list[AnswerRow], list[ScoreRow]]]:
    """Both streams side by side, one participant at a time, either side possibly empty."""
    answer = next(answers, None)
    score = next(scores, None)
    while answer is not None or score is not None:
        if score is None or (answer is not None and answer[0] < score[0]):
            assert answer is not None
            yield answer[0], answer[1], []
            answer = next(answers, None)
        elif answer is None or score[0] < answer[0]:
            yield score[0], [], score[1]
            score = next(scores, None)
        else:
            yield answer[0], answer[1], score[1]
            answer, score = next(answers, None), next(scores, None)

