"""Journey files → validated definitions, with every problem reported at its place."""

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path

from app.definitions import DefinitionError, Problem, Source, key_path, line_of, parse, read_yaml
from app.journeys.definitions import Battery, Journey, Step, SurveyStep, Wave
from app.settings import ROOT

JOURNEYS_DIR = ROOT / "journeys"


@dataclass(frozen=True)
class LoadedJourney:
    definition: Journey
    source: Source

    @property
    def content_hash(self) -> str:
        return self.source.content_hash


def journey_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        files.extend(sorted(path.glob("*.yaml")) if path.is_dir() else [path])
    return files


def load_journey(path: Path, *, instruments: Collection[str] | None = None) -> LoadedJourney:
    """The journey in `path`; `instruments`, when given, are the survey ids it may use."""
    source = read_yaml(path)
    journey = parse(Journey, source)
    problems = _structure_problems(journey, source) + _reference_problems(
        journey, source, instruments
    )
    if journey.id != path.stem:
        where = ["id"]
        problems.append(Problem(str(path), "id", line_of(source.data, where),
                                f"the id {journey.id!r} must equal the file name {path.stem!r}"))
    if problems:
        raise DefinitionError(problems)
    return LoadedJourney(definition=journey, source=source)


def _located(journey: Journey) -> list[tuple[list[str | int], Step]]:
    """Every step with its key path in the file."""
    return [
        (["phases", p, "stages", s, "steps", i], step)
        for p, phase in enumerate(journey.phases)
        for s, stage in enumerate(phase.stages)
        for i, step in enumerate(stage.steps)
    ]


def _structure_problems(journey: Journey, source: Source) -> list[Problem]:
    """Rules across steps, reported at the step that breaks them."""
    problems, seen = [], set()

    def problem(path: list[str | int], reason: str) -> None:
        problems.append(Problem(str(source.path), key_path(path), line_of(source.data, path),
                                reason))

    for path, step in _located(journey):
        if step.id in seen:
            problem([*path, "id"], f"step id {step.id!r} is used more than once")
        seen.add(step.id)
        if isinstance(step, SurveyStep) and not journey.waves.instruments(step.wave):
            problem([*path, "wave"], f"step {step.id!r} gives the {step.wave.value} wave, but "
                                     f"waves.{step.wave.value} lists no instruments")
    return problems


def _reference_problems(
    journey: Journey, source: Source, instruments: Collection[str] | None
) -> list[Problem]:
    if instruments is None:
        return []
    problems = []
    batteries: list[tuple[list[str | int], Battery]] = [(["waves"], journey.waves)]
    batteries += [(["waves", "batteries", name], battery)
                  for name, battery in journey.waves.batteries.items()]
    for where, battery in batteries:
        problems += _unknown_instruments(source, where, battery, instruments)
    return problems


def _unknown_instruments(source: Source, where: list[str | int], battery: Battery,
                         instruments: Collection[str]) -> list[Problem]:
    problems = []
    for wave in Wave:
        for index, instrument in enumerate(battery.instruments(wave)):
            if instrument not in instruments:
                path: list[str | int] = [*where, wave.value, index]
                problems.append(Problem(
                    str(source.path), key_path(path), line_of(source.data, path),
                    f"unknown survey instrument {instrument!r} (no surveys/{instrument}.yaml)",
                ))
    return problems


def load_all(
    paths: Iterable[Path] = (JOURNEYS_DIR,), *, instruments: Collection[str] | None = None
) -> list[LoadedJourney]:
    """Every journey in `paths`, or DefinitionError listing the problems of all of them."""
    loaded, problems = [], []
    for path in journey_files(paths):
        try:
            loaded.append(load_journey(path, instruments=instruments))
        except DefinitionError as error:
            problems.extend(error.problems)
    if problems:
        raise DefinitionError(problems)
    return loaded
