"""`telos match`."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape

match_cli = typer.Typer(help="Match members with mentors.", no_args_is_help=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


def warn(message: str) -> None:
    errors.print(f"[bold yellow]warning:[/] {escape(message)}")


@match_cli.command("file")
def match_file(
    members: Annotated[Path, typer.Option(
        help="CSV: id, text, optional themes, languages (';'-separated), utc_offset, wishes.")],
    mentors: Annotated[Path, typer.Option(
        help="CSV: id, text, capacity, optional themes, languages, utc_offset, offers, "
             "accepting.")],
    out: Annotated[Path, typer.Option(
        help="Write the assignments here: member_id, mentor_id, score, explanation.")],
    capacity_column: Annotated[str, typer.Option(
        help="The mentors' column that holds free places.")] = "capacity",
    scores_out: Annotated[Path | None, typer.Option(
        help="Also write every candidate pair with its score parts here.")] = None,
    top_k: Annotated[int, typer.Option(
        min=0, help="Candidates kept per member (0: every mentor who fits).")] = 10,
    encoder: Annotated[str, typer.Option(
        envvar="TELOS_ENCODER", help="Text similarity: tfidf or minilm.")] = "tfidf",
    weights: Annotated[str, typer.Option(
        help="Weights as text=0.55,themes=0.3,time_zone=0.1,wishes=0.05.")] = "",
) -> None:
    """Match the members of one file with the mentors of another, without a database."""
    from app.matching import files
    from app.matching.engine import EncoderUnavailable, make_encoder, match_cohort

    started = time.perf_counter()
    try:
        chosen_weights = files.parse_weights(weights)
        member_rows = files.read_members(members, warn=warn)
        mentor_rows = files.read_mentors(mentors, capacity_column=capacity_column, warn=warn)
        chosen_encoder = make_encoder(encoder)
    except files.FileProblem as problem:
        raise fail(str(problem)) from None
    except ValueError as error:
        raise fail(f"--weights: {error}") from None
    except EncoderUnavailable as error:
        raise fail(str(error)) from None
    run = match_cohort(member_rows, mentor_rows, weights=chosen_weights,
                       encoder=chosen_encoder, top_k=top_k)
    _write(out, lambda stream: files.write_assignments(stream, run, member_rows))
    if scores_out is not None:
        _write(scores_out, lambda stream: files.write_scores(stream, run))
    assignment = run.assignment
    errors.print(
        f"Matched {len(assignment.pairs)} of {len(member_rows)} members with "
        f"{len({pair.mentor_id for pair in assignment.pairs})} mentors (total score "
        f"{assignment.total_score:.2f}) in {time.perf_counter() - started:.1f} s; "
        f"wrote {escape(str(out))}.")


def _write(path: Path, write: Callable[[TextIO], None]) -> None:
    try:
        with path.open("w", encoding="utf-8", newline="") as stream:
            write(stream)
    except OSError as error:
        raise fail(f"cannot write {path}: {error.strerror or error}") from None
