"""`telos journeys check` and `telos journeys load`."""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

journeys_cli = typer.Typer(help="Journey definitions.", no_args_is_help=True)
console = Console()
errors = Console(stderr=True)


def known_instruments() -> set[str]:
    from app.surveys.definitions import SURVEYS_DIR, instrument_files

    return {path.stem for path in instrument_files([SURVEYS_DIR])}


@journeys_cli.command("check")
def check(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders.")] = None,
) -> None:
    """Validate journey files; every problem as file:line: place: reason."""
    from app.definitions import DefinitionError
    from app.journeys import loader

    files = loader.journey_files(paths or [loader.JOURNEYS_DIR])
    if not files:
        errors.print("No journey files (*.yaml) found.")
        raise typer.Exit(1)
    try:
        loaded = loader.load_all(files, instruments=known_instruments())
    except DefinitionError as error:
        for problem in error.problems:
            errors.print(str(problem), highlight=False, soft_wrap=True, markup=False)
        errors.print(f"{len(error.problems)} problem(s) found.")
        raise typer.Exit(1) from None
    steps = sum(len(item.definition.steps()) for item in loaded)
    console.print(f"{len(loaded)} journey file(s) valid ({steps} steps).")


@journeys_cli.command("load")
def load() -> None:
    """Store the survey battery and every journey file as versions in the database."""
    from app.accounts import consent
    from app.db import make_engine, session_scope
    from app.definitions import DefinitionError
    from app.journeys import loader
    from app.journeys import service as journeys
    from app.settings import Settings
    from app.surveys import waves
    from app.surveys.definitions import load_battery

    settings = Settings()
    engine = make_engine(settings.database_url)
    try:
        battery = load_battery()
        loaded = loader.load_all(instruments=set(battery))
    except DefinitionError as error:
        for problem in error.problems:
            errors.print(str(problem), highlight=False, soft_wrap=True, markup=False)
        raise typer.Exit(1) from None
    with session_scope(engine) as session:
        documents = consent.store_documents(session)
        instruments = waves.store_instruments(session, battery.values())
        added = journeys.store_versions(session, loaded)
    engine.dispose()
    console.print(f"Loaded {len(loaded)} journey(s) ({len(added)} new version(s)) and "
                  f"{len(battery)} survey instrument(s) ({instruments} new version(s)); "
                  f"{documents} new consent document version(s).")
