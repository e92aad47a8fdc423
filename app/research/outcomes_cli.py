"""`telos research outcomes`: the pre/post outcome report from an exported scores file."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TextIO

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from app.research.outcomes import Observation, OutcomeReport, Reliability, VariableOutcome
    from app.surveys.definitions import Instrument

# The statistics and charts (scipy, matplotlib) load only when this command runs, so that
# every other `telos` command starts as fast as before.

console = Console(highlight=False, soft_wrap=True)
errors = Console(stderr=True, highlight=False, soft_wrap=True)

LONG = ("participant", "wave", "variable", "value")
SCORES = ("participant", "wave", "instrument", "score", "value")
SHOWN_PROBLEMS = 20
PIPED_WIDTH = 200
DIRECTIONS = ("higher", "lower")

VariableOf = Callable[[dict[str, str]], str]

CSV_COLUMNS = [
    "variable", "label", "better", "n", "pre_mean", "pre_sd", "post_mean", "post_sd",
    "mean_change", "ci_low", "ci_high", "t", "df", "p", "wilcoxon_p", "wilcoxon_method",
    "d_z", "d_z_ci_low", "d_z_ci_high", "g_av", "p_holm", "p_bh", "result", "reason", "notes",
]


class ScoresFileError(Exception):
    """Bad rows of a scores file, each problem as `file:line: reason`."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Battery:
    better: dict[str, str]
    labels: dict[str, str]
    instruments: dict[str, Instrument]


def outcomes(
    scores: Annotated[Path, typer.Argument(
        help="CSV with columns participant, wave, variable, value (or an exported scores "
             "file: participant, wave, instrument, score, value).")],
    out: Annotated[Path | None, typer.Option(help="Write the table here as CSV.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write the whole report here as HTML.")]
    = None,
    better: Annotated[list[str] | None, typer.Option(
        help="NAME=higher or NAME=lower: which way is better for a variable (repeatable); "
             "overrides the survey definitions.")] = None,
    answers: Annotated[Path | None, typer.Option(
        help="An exported long answers file (participant, wave, instrument, item, value): "
             "adds Cronbach's alpha per instrument and wave.")] = None,
    pre: Annotated[str, typer.Option(help="The wave before.")] = "pre",
    post: Annotated[str, typer.Option(help="The wave after.")] = "post",
    alpha: Annotated[float, typer.Option(help="Significance level after correction.")] = 0.05,
) -> None:
    """Pre/post statistics per variable: the table, the summary line, and optional files."""
    if not 0 < alpha < 1:
        raise fail(f"--alpha {alpha:g}: give a number between 0 and 1")
    from app.research.outcomes import analyse

    overrides = parse_directions(better or [])
    observations = _read(scores)
    battery = battery_directions()
    directions = {**battery.better, **overrides}
    if not any(o.wave in (pre, post) for o in observations):
        raise fail(f"{scores}: no row has wave {pre!r} or {post!r} "
                   f"(waves found: {', '.join(sorted({o.wave for o in observations}))})")
    found = _reliability(answers, battery) if answers is not None else []
    report = analyse(observations, better=directions, labels=battery.labels,
                     pre=pre, post=post, alpha=alpha)
    print_report(report)
    print_reliability(found)
    if out is not None:
        _write(out, table_csv(report))
    if html is not None:
        _write(html, report_html(report, source=scores.name, observations=observations,
                                 reliability=found))


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


def _read(path: Path) -> list[Observation]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            return read_observations(stream, name=str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {path}: {error}") from None
    except ScoresFileError as error:
        _show_problems(error.problems)
        raise fail(f"{path}: {len(error.problems)} bad row(s); nothing was computed") from None


def _reliability(path: Path, battery: Battery) -> list[Reliability]:
    from app.research.answers_file import AnswersFileError, read_answers, reliabilities

    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            keyed = read_answers(stream, name=str(path), instruments=battery.instruments)
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {path}: {error}") from None
    except AnswersFileError as error:
        _show_problems(error.problems)
        raise fail(f"{path}: {len(error.problems)} bad row(s); nothing was computed") from None
    if keyed.unknown:
        errors.print(f"[yellow]note:[/] not in the survey battery, so no reliability: "
                     f"{escape(', '.join(sorted(keyed.unknown)))}")
    return reliabilities(keyed, battery.instruments)


def _show_problems(problems: list[str]) -> None:
    for problem in problems[:SHOWN_PROBLEMS]:
        errors.print(escape(problem))
    more = len(problems) - SHOWN_PROBLEMS
    if more > 0:
        errors.print(f"… and {more} more")


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as error:
        raise fail(f"cannot write {path}: {error}") from None
    errors.print(f"Wrote {escape(str(path))}.")


# --- reading ------------------------------------------------------------------------------


def read_observations(stream: TextIO, *, name: str) -> list[Observation]:
    """The rows of a long scores CSV; ScoresFileError lists every bad row."""
    reader = csv.reader(stream)
    header = [column.strip() for column in next(reader, [])]
    variable_of = _variable_reader(header, name)
    found: list[Observation] = []
    problems: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        try:
            observation = _observation(header, cells, variable_of)
        except ValueError as error:
            problems.append(f"{name}:{line}: {error}")
            continue
        key = (observation.participant, observation.wave, observation.variable)
        if key in seen:
            problems.append(f"{name}:{line}: participant {key[0]!r} already has a value for "
                            f"{key[2]!r} in wave {key[1]!r} (line {seen[key]})")
            continue
        seen[key] = line
        found.append(observation)
    if not found and not problems:
        problems.append(f"{name}:1: no rows below the header")
    if problems:
        raise ScoresFileError(problems)
    return found


def _variable_reader(header: list[str], name: str) -> VariableOf:
    if all(column in header for column in LONG):
        return lambda row: row["variable"]
    if all(column in header for column in SCORES):
        return lambda row: (f"{row['instrument']}.{row['score']}"
                            if row["instrument"] and row["score"] else "")
    doubled = sorted({column for column in header if header.count(column) > 1})
    if doubled:
        raise ScoresFileError([f"{name}:1: column {doubled[0]!r} appears twice"])
    raise ScoresFileError([
        f"{name}:1: the header needs the columns {', '.join(LONG)} (or, as in an exported "
        f"scores file, {', '.join(SCORES)}); it has {', '.join(header) or 'none'}"])


def _observation(header: list[str], cells: list[str], variable_of: VariableOf) -> Observation:
    from app.research.outcomes import Observation

    if len(cells) != len(header):
        raise ValueError(f"{len(cells)} values for {len(header)} columns")
    row = dict(zip(header, (cell.strip() for cell in cells), strict=True))
    for column in ("participant", "wave"):
        if not row[column]:
            raise ValueError(f"column {column!r} is empty")
    variable = variable_of(row)
    if not variable:
        raise ValueError("no variable name (empty 'variable', or 'instrument' and 'score')")
    return Observation(row["participant"], row["wave"], variable, _value(row["value"]))


def _value(text: str) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"value {text!r} is not a number (leave it empty when missing)") from None
    if not math.isfinite(value):
        raise ValueError(f"value {text!r} is not a finite number")
    return value


def parse_directions(pairs: Sequence[str]) -> dict[str, str]:
    directions: dict[str, str] = {}
    for pair in pairs:
        variable, _, direction = pair.partition("=")
        if not variable.strip() or direction.strip() not in DIRECTIONS:
            raise fail(f"--better {pair!r}: write NAME=higher or NAME=lower")
        directions[variable.strip()] = direction.strip()
    return directions


def battery_directions() -> Battery:
    """Better directions and labels from the survey battery, under `instrument.score` and,
    where the score name is used by one instrument only, under the bare score name too."""
    from app.surveys.definitions import DefinitionError, load_battery

    try:
        battery = load_battery()
    except DefinitionError:
        errors.print("[yellow]note:[/] the survey definitions have problems (run `telos "
                     "surveys check`), so no better direction comes from them")
        return Battery({}, {}, {})
    better: dict[str, str] = {}
    labels: dict[str, str] = {}
    owners: dict[str, int] = {}
    for instrument in battery.values():
        for score in instrument.scores:
            direction = "higher" if score.higher_is_better else "lower"
            label = (instrument.title if len(instrument.scores) == 1
                     else f"{instrument.title}: {score.name.replace('_', ' ')}")
            better[f"{instrument.id}.{score.name}"] = direction
            labels[f"{instrument.id}.{score.name}"] = label
            owners[score.name] = owners.get(score.name, 0) + 1
            better.setdefault(score.name, direction)
            labels.setdefault(score.name, label)
    for shared in (name for name, count in owners.items() if count > 1):
        better.pop(shared, None)
        labels.pop(shared, None)
    return Battery(better, labels, battery)


# --- writing ------------------------------------------------------------------------------


def print_report(report: OutcomeReport) -> None:
    table = Table(title=f"{report.pre} → {report.post} (means and SDs over participants with "
                        "both waves)")
    for column in ("variable", "n", f"{report.pre} M (SD)", f"{report.post} M (SD)",
                   "change [95% CI]", "t", "p", "Wilcoxon p", "d_z", "g_av", "p Holm", "p BH",
                   "result"):
        table.add_column(column, no_wrap=True,
                         justify="left" if column in ("variable", "result") else "right")
    for row in report.rows:
        table.add_row(*(escape(cell) for cell in _cells(row)))
    # Piped into a file, rich would squeeze the table into 80 columns.
    wide = console if console.is_terminal else Console(highlight=False, width=PIPED_WIDTH)
    wide.print(table)
    for row in report.rows:
        if row.reason is not None:
            console.print(f"[yellow]not tested:[/] {escape(row.variable)}: {escape(row.reason)}")
        for note in row.notes:
            console.print(f"[yellow]note:[/] {escape(row.variable)}: {escape(note)}")
    unknown = [row.variable for row in report.rows if row.better is None]
    if unknown:
        console.print(f"[yellow]note:[/] no better direction for {escape(', '.join(unknown))}: "
                      "a significant change there is reported as 'changed' (use --better)")
    console.print(f"[bold]{escape(report.summary)}[/]")


def print_reliability(found: Sequence[Reliability]) -> None:
    if not found:
        return
    table = Table(title="Cronbach's alpha (respondents who answered every item)")
    for column in ("instrument", "wave", "respondents", "items", "alpha"):
        table.add_column(column, justify="left" if column in ("instrument", "wave") else "right")
    for item in found:
        table.add_row(escape(item.instrument), escape(item.wave), str(item.n), str(item.items),
                      _f(item.alpha))
    console.print(table)


def _cells(row: VariableOutcome) -> list[str]:
    if row.reason is not None:
        return [row.variable, str(row.n), *["—"] * 10, "not tested"]
    return [
        row.variable, str(row.n), _mean_sd(row.pre.mean, row.pre.sd),
        _mean_sd(row.post.mean, row.post.sd),
        f"{_f(row.mean_change)} [{_f(row.ci_low)}, {_f(row.ci_high)}]",
        _f(row.t), _p(row.p), _p(row.wilcoxon_p), _f(row.d_z), _f(row.g_av), _p(row.p_holm),
        _p(row.p_bh), row.verdict or "—",
    ]


def _mean_sd(mean: float | None, sd: float | None) -> str:
    return f"{_f(mean)} ({_f(sd)})"


def _f(value: float | None) -> str:
    return "—" if value is None else f"{value:.2f}"


def _p(value: float | None) -> str:
    if value is None:
        return "—"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def table_csv(report: OutcomeReport) -> str:
    """The table at full precision, one row per variable."""
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in report.rows:
        writer.writerow(_number(value) for value in _csv_values(row))
    return stream.getvalue()


def _csv_values(row: VariableOutcome) -> list[object]:
    return [
        row.variable, row.label, row.better, row.n, row.pre.mean, row.pre.sd, row.post.mean,
        row.post.sd, row.mean_change, row.ci_low, row.ci_high, row.t, row.df, row.p,
        row.wilcoxon_p, row.wilcoxon_method, row.d_z, row.d_z_ci_low, row.d_z_ci_high,
        row.g_av, row.p_holm, row.p_bh, row.verdict, row.reason, " ".join(row.notes),
    ]


def _number(value: object) -> object:
    if value is None:
        return ""
    return repr(value) if isinstance(value, float) else value


def report_html(report: OutcomeReport, *, source: str,
                observations: Iterable[Observation],
                reliability: Sequence[Reliability] = ()) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from app.research.charts import charts
    from app.settings import ROOT

    listed = list(observations)
    environment = Environment(loader=FileSystemLoader(ROOT / "templates"),
                              autoescape=select_autoescape(["html"]))
    template = environment.get_template("research/outcomes_report.html")
    return template.render(
        title=f"Outcome report: {source}", source=source, report=report,
        reliability=list(reliability), charts=charts(report), observations=len(listed),
        participants=len({o.participant for o in listed}))
