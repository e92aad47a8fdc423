"""`telos surveys`: check instrument files, score answers offline, import REDCap."""

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:  # the definitions load when a command runs, not with `telos --help`
    from app.surveys.definitions import Instrument, Problem

surveys_cli = typer.Typer(
    help="Survey instruments: check the files, score answers offline, import REDCap.",
    no_args_is_help=True,
)
console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)



@dataclass(frozen=True)
class AnswerRow:
    line: int
    participant: str
    answers: dict[str, float | None]


class AnswersError(Exception):
    """A problem in an answers file, with the line and column in the message."""


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


def print_problems(problems: Iterable["Problem"]) -> None:
    for problem in problems:
        console.print(escape(str(problem)))


@surveys_cli.command("check")
def check(
    paths: Annotated[list[Path] | None, typer.Argument(
        help="Instrument files or directories of them [default: surveys/]")] = None,
) -> None:
    """Check instrument files: print every problem, exit 1 if there is any."""
    from app.surveys.definitions import SURVEYS_DIR, load_paths

    instruments, problems = load_paths(paths or [_shown(SURVEYS_DIR)])
    if problems:
        print_problems(problems)
        files = len({problem.file for problem in problems})
        raise fail(f"{len(problems)} problem(s) in {files} file(s)")
    items = sum(len(instrument.items) for instrument in instruments.values())
    scores = sum(len(instrument.scores) for instrument in instruments.values())
    console.print(f"[green]✓[/] {len(instruments)} instruments, {items} items, {scores} scores: "
                  "no problems")


@surveys_cli.command("score")
def score_answers(
    instrument: Annotated[Path, typer.Option(help="The instrument file (YAML).")],
    answers: Annotated[Path, typer.Option(
        help="CSV: a 'participant' column and one column per item id; empty = missing.")],
    out: Annotated[Path | None, typer.Option(help="Write the scores here, not to stdout.")]
    = None,
) -> None:
    """Score a CSV of answers: one row per participant, one column per score."""
    definition = _instrument(instrument)
    try:
        with answers.open(encoding="utf-8-sig", newline="") as stream:
            rows = read_answers(definition, stream)
        table = score_rows(definition, rows)
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {answers}: {error}") from None
    except AnswersError as error:
        raise fail(f"{answers}: {error}") from None
    if out is None:
        typer.echo(table, nl=False)
        return
    try:
        out.write_text(table, encoding="utf-8")
    except OSError as error:
        raise fail(f"cannot write {out}: {error}") from None
    errors.print(f"Scored {len(rows)} participants into {escape(str(out))}.")


@surveys_cli.command("rescore")
def rescore_command(
    instrument: Annotated[str | None, typer.Option(help="Only this instrument id.")] = None,
) -> None:
    """Recompute stored scores from the raw answers (old values go to the audit log)."""
    from app.db import make_engine, session_scope
    from app.settings import Settings
    from app.surveys.rescore import rescore

    engine = make_engine(Settings().database_url)
    try:
        with session_scope(engine) as session:
            outcome = rescore(session, instrument_key=instrument)
    finally:
        engine.dispose()
    console.print(f"Rescored {outcome.responses} response(s); the scores of "
                  f"{outcome.changed} changed (old values are in the audit log).")


@surveys_cli.command("import-redcap")
def import_redcap(
    dictionary: Annotated[Path, typer.Argument(help="A REDCap data dictionary (CSV).")],
    out: Annotated[Path, typer.Option(help="Where to write one YAML file per form.")]
    = Path("."),
) -> None:
    """Turn a REDCap data dictionary into instrument files, listing what was not carried over."""
    from app.surveys import redcap

    try:
        conversion = redcap.convert_file(dictionary)
        written = redcap.write(conversion, out)
    except redcap.RedcapError as error:
        raise fail(str(error)) from None
    for note in conversion.notes:
        console.print(f"[yellow]not carried over:[/] {escape(str(note))}")
    for path in written:
        console.print(f"wrote {escape(str(path))}")
    if not written:
        raise fail("no form had a field that could become an item")
    console.print(f"{len(written)} instrument(s), {len(conversion.notes)} note(s). They have no "
                  "scores yet: add them, then run `telos surveys check`.")


def read_answers(instrument: "Instrument", stream: TextIO) -> list[AnswerRow]:
    """The rows of an answers CSV, each answer a number or None; AnswersError if bad."""
    reader = csv.reader(stream)
    header = [name.strip() for name in next(reader, [])]
    _check_header(instrument, header)
    rows: list[AnswerRow] = []
    for cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        row = _row(header, cells, reader.line_num)
        if any(row.participant == seen.participant for seen in rows):
            raise AnswersError(f"line {row.line}: participant {row.participant!r} appears twice")
        rows.append(row)
    return rows


def score_rows(instrument: "Instrument", rows: list[AnswerRow]) -> str:
    """The scores as CSV text: participant, then one column per score (empty if none)."""
    from app.surveys.definitions import RESERVED
    from app.surveys.scoring import AnswerError, score

    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow([RESERVED, *(score_def.name for score_def in instrument.scores)])
    for row in rows:
        try:
            scores = score(instrument, row.answers)
        except AnswerError as error:
            raise AnswersError(f"line {row.line} (participant {row.participant!r}), column "
                               f"{error.item_id!r}: {error.message}") from None
        writer.writerow([row.participant, *map(_number, scores.values())])
    return stream.getvalue()


def _check_header(instrument: "Instrument", header: list[str]) -> None:
    from app.surveys.definitions import RESERVED

    if RESERVED not in header:
        raise AnswersError(f"line 1: no {RESERVED!r} column")
    doubled = sorted({name for name in header if header.count(name) > 1})
    unknown = [name for name in header if name != RESERVED and name not in instrument.items_by_id]
    absent = [item.id for item in instrument.items if item.id not in header]
    if doubled:
        raise AnswersError(f"line 1: column {doubled[0]!r} appears twice")
    if unknown:
        raise AnswersError(f"line 1: column {unknown[0]!r} is not an item of {instrument.id!r} "
                           f"(its items: {', '.join(instrument.items_by_id)})")
    if absent:
        raise AnswersError(f"line 1: no column for item(s) {', '.join(absent)} "
                           "(add them, empty where unanswered)")


def _row(header: list[str], cells: list[str], line: int) -> AnswerRow:
    from app.surveys.definitions import RESERVED

    if len(cells) != len(header):
        raise AnswersError(f"line {line}: {len(cells)} values for {len(header)} columns")
    values = dict(zip(header, (cell.strip() for cell in cells), strict=True))
    participant = values.pop(RESERVED)
    if not participant:
        raise AnswersError(f"line {line}, column {RESERVED!r}: empty")
    answers: dict[str, float | None] = {}
    for column, text in values.items():
        try:
            answers[column] = float(text) if text else None
        except ValueError:
            raise AnswersError(f"line {line} (participant {participant!r}), column "
                               f"{column!r}: {text!r} is not a number") from None
    return AnswerRow(line, participant, answers)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if value.is_integer() else repr(value)


def _instrument(path: Path) -> "Instrument":
    from app.surveys.definitions import DefinitionError, load_instrument

    try:
        return load_instrument(path)
    except DefinitionError as error:
        print_problems(error.problems)
        raise fail(f"{path} is not a valid instrument") from None


def _shown(path: Path) -> Path:
    cwd = Path.cwd()
    return path.relative_to(cwd) if path.is_relative_to(cwd) else path

