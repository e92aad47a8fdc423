"""`telos research`."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

if TYPE_CHECKING:
    from sqlmodel import Session

    from app.research.models import Study
    from app.research.service import Participant
    from app.research.source import Counts, Selection

research_cli = typer.Typer(help="Research exports and outcome reports.", no_args_is_help=True)

console = Console(stderr=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


class _Bar:
    """The writers' progress protocol, driving a rich progress bar."""

    def __init__(self, progress: Progress, task: object) -> None:
        self.progress = progress
        self.task = task

    def advance(self, n: int) -> None:
        self.progress.advance(self.task, n)  # type: ignore[arg-type]


@research_cli.command("export")
def export(
    study: Annotated[str, typer.Option(help="The study's short name (slug).")],
    format: Annotated[str, typer.Option(
        "--format", help="long, wide, scores, parquet, sav, dta, codebook, codebook-html "
                         "or bundle.")],
    out: Annotated[Path, typer.Option(help="The file to write.")],
    wave: Annotated[list[str] | None, typer.Option(
        help="Only this wave (pre, post, followup); repeat for several.")] = None,
    instrument: Annotated[list[str] | None, typer.Option(
        help="Only this instrument; repeat for several.")] = None,
) -> None:
    """Export a study's pseudonymised data to a file (recorded in the audit log)."""
    from app.db import make_engine, session_scope
    from app.research import downloads, service
    from app.research.source import UnknownChoice, select_part
    from app.settings import Settings

    engine = make_engine(Settings().database_url)
    try:
        with session_scope(engine) as session:
            found = service.study_by_slug(session, study)
            if found is None:
                raise _fail(f"there is no study called {study!r}; the short names are listed "
                            "on each study's page")
            if format not in downloads.FORMATS:
                raise _fail(f"there is no export format {format!r}; choose one of "
                            f"{', '.join(downloads.FORMATS)}")
            try:
                selection = select_part(found, waves=wave or (), instruments=instrument or ())
            except UnknownChoice as problem:
                raise _fail(str(problem)) from None
            people, counts = downloads.plan(session, found, selection)
            rows = _write(session, found, format, selection, out, people, counts)
    finally:
        engine.dispose()
    console.print(f"Wrote {rows} row(s) for {counts.participants} participant(s) to "
                  f"{escape(str(out))} (recorded in the audit log).")


def _write(session: "Session", study: "Study", fmt: str, selection: "Selection", out: Path,
           people: "list[Participant]", counts: "Counts") -> int:
    from app.research import downloads

    total = downloads.progress_total(fmt, counts)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn())
    try:
        with out.open("wb") as handle, Progress(*columns, console=console) as progress:
            task = progress.add_task(f"{study.slug} → {out.name}", total=total)
            return int(downloads.export_to(
                session, study=study, fmt_name=fmt, selection=selection, out=handle,
                people=people, counts=counts, actor="cli", progress=_Bar(progress, task)))
    except OSError as error:
        out.unlink(missing_ok=True)
        raise _fail(f"cannot write {out}: {error}") from None
    except BaseException:
        out.unlink(missing_ok=True)
        raise


from app.research import outcomes_cli  # noqa: E402 - the command joins the Typer app above

research_cli.command("outcomes")(outcomes_cli.outcomes)
