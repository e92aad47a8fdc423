"""`telos research outcomes`: the pre/post outcome report from an exported scores file."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

if TYPE_CHECKING:
    from app.research.long_table import LongTable
    from app.research.mixed import WaveReport
    from app.research.outcomes import OutcomeReport, Reliability, VariableOutcome
    from app.research.rci import ReliableChange
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
        help="CSV or Parquet with columns participant, wave, variable, value (or an "
             "exported scores file: participant, wave, instrument, score, value).")],
    out: Annotated[Path | None, typer.Option(help="Write the table here as CSV.")] = None,
    html: Annotated[Path | None, typer.Option(help="Write the whole report here as HTML.")]
    = None,
    better: Annotated[list[str] | None, typer.Option(
        help="NAME=higher or NAME=lower: which way is better for a variable (repeatable); "
             "overrides the survey definitions.")] = None,
    answers: Annotated[Path | None, typer.Option(
        help="An exported long answers file, CSV or Parquet (participant, wave, "
             "instrument, item, value): adds Cronbach's alpha per instrument and wave.")]
    = None,
    pre: Annotated[str, typer.Option(help="The wave before.")] = "pre",
    post: Annotated[str, typer.Option(help="The wave after.")] = "post",
    alpha: Annotated[float, typer.Option(help="Significance level after correction.")] = 0.05,
    waves: Annotated[str | None, typer.Option(
        help="Fit the mixed model over these waves, in order and comma-separated, the first "
             "the one the others are compared with (e.g. pre,post,followup). With --arms "
             "alone: every wave in the file, pre, post and followup first.")] = None,
    arms: Annotated[Path | None, typer.Option(
        help="CSV with columns participant, arm (intervention or comparison): the mixed "
             "model then compares the arms.")] = None,
) -> None:
    """Pre/post statistics per variable: the table, the summary line, and optional files."""
    if not 0 < alpha < 1:
        raise fail(f"--alpha {alpha:g}: give a number between 0 and 1")
    from app.research.outcomes import analyse

    overrides = parse_directions(better or [])
    observations = _read(scores)
    battery = battery_directions()
    directions = {**battery.better, **overrides}
    if pre not in observations.waves and post not in observations.waves:
        raise fail(f"{scores}: no row has wave {pre!r} or {post!r} "
                   f"(waves found: {', '.join(sorted(observations.waves))})")
    found = _reliability(answers, battery) if answers is not None else []
    modelled = waves is not None or arms is not None
    model_waves = _model_waves(waves, observations.waves) if modelled else []
    arm_of = _arms(arms) if arms is not None else None
    report = analyse(observations, better=directions, labels=battery.labels,
                     pre=pre, post=post, alpha=alpha)
    wave_report = (_wave_report(observations, model_waves, arm_of, directions, battery,
                                report, alpha) if len(model_waves) >= 2 else None)
    print_report(report)
    if wave_report is not None:
        print_waves(wave_report)
    elif modelled:
        console.print("[yellow]note:[/] the mixed model needs at least two waves; the file "
                      f"has {', '.join(model_waves) or 'none'}")
    print_reliability(found)
    if out is not None:
        _write(out, table_csv(report))
    if html is not None:
        _write(html, report_html(report, source=scores.name, observations=observations,
                                 reliability=found, waves=wave_report))


def _model_waves(given: str | None, found: Sequence[str]) -> list[str]:
    from app.research.service import WAVES

    if given is None:
        return [w for w in WAVES if w in found] + sorted(w for w in found if w not in WAVES)
    chosen = [wave.strip() for wave in given.split(",") if wave.strip()]
    unknown = [wave for wave in chosen if wave not in found]
    if unknown or len(chosen) < 2 or len(set(chosen)) < len(chosen):
        raise fail(f"--waves {given!r}: give two or more different waves of the file, "
                   f"comma-separated (it has {', '.join(sorted(found)) or 'none'})")
    return chosen


def _arms(path: Path) -> dict[str, str]:
    from app.research.mixed import ARMS

    found: dict[str, str] = {}
    problems: list[str] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            reader = csv.DictReader(stream)
            if not {"participant", "arm"} <= set(reader.fieldnames or []):
                raise fail(f"{path}: the header needs the columns participant, arm")
            for row in reader:
                participant, arm = (row["participant"] or "").strip(), (row["arm"] or "").strip()
                if arm not in ARMS or not participant:
                    problems.append(f"{path}:{reader.line_num}: arm {arm!r}: write "
                                    f"{' or '.join(ARMS)} and a participant")
                elif found.setdefault(participant, arm) != arm:
                    problems.append(f"{path}:{reader.line_num}: participant {participant!r} "
                                    "is in two arms")
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {path}: {error}") from None
    if problems:
        _show_problems(problems)
        raise fail(f"{path}: {len(problems)} bad row(s); nothing was computed")
    return found


def _wave_report(observations: LongTable, waves: Sequence[str], arms: dict[str, str] | None,
                 directions: dict[str, str], battery: Battery, paired: OutcomeReport,
                 alpha: float) -> WaveReport:
    from app.research.mixed import analyse_waves, frame_of

    def progress(index: int, total: int, variable: str) -> None:
        errors.print(f"mixed model {index}/{total}: {escape(variable)}")

    return analyse_waves(frame_of(observations), waves, arms=arms, labels=battery.labels,
                         better=directions, alpha=alpha, paired=paired, progress=progress)


def fail(message: str) -> typer.Exit:
    errors.print(f"[bold red]error:[/] {escape(message)}")
    return typer.Exit(code=1)


def _read(path: Path) -> LongTable:
    import pyarrow

    from app.research.scores_file import read_scores

    # The system allocator gives freed memory back; pyarrow's default pool keeps it.
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())
    try:
        return read_scores(path, name=str(path))
    except (OSError, UnicodeDecodeError) as error:
        raise fail(f"cannot read {path}: {error}") from None
    except ScoresFileError as error:
        _show_problems(error.problems)
        raise fail(f"{path}: {len(error.problems)} bad row(s); nothing was computed") from None


def _reliability(path: Path, battery: Battery) -> list[Reliability]:
    from app.research.answers_file import AnswersFileError, read_answers, reliabilities

    try:
        keyed = read_answers(path, name=str(path), instruments=battery.instruments)
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


def print_waves(report: WaveReport) -> None:
    """The mixed model on everyone: per variable and later wave, the change from the first."""
    first = report.waves[0]
    table = Table(title=f"Mixed model on everyone (intention to treat), waves "
                        f"{', '.join(report.waves)}: change from {first}")
    for column in ("variable", "participants", "values", "contrast", "arm", "change [95% CI]",
                   "p", "p Holm", "d [95% CI]", "result"):
        table.add_column(column, no_wrap=True, justify="left" if column in (
            "variable", "contrast", "arm", "result") else "right")
    for model in report.models:
        if not model.fitted:
            table.add_row(escape(model.variable), str(model.participants),
                          str(model.observations), "—", "—", "—", "—", "—", "—", "not modelled")
        for c in model.contrasts:
            table.add_row(*(escape(cell) for cell in (
                model.variable, str(model.participants), str(model.observations),
                f"{first} → {c.wave}", c.arm,
                f"{_f(c.change.value)} [{_f(c.change.ci_low)}, {_f(c.change.ci_high)}]",
                _p(c.change.p), _p(c.p_holm), f"{_f(c.d)} [{_f(c.d_ci_low)}, {_f(c.d_ci_high)}]",
                c.verdict or "—")))
    wide = console if console.is_terminal else Console(highlight=False, width=PIPED_WIDTH)
    wide.print(table)
    for model in report.models:
        for d in model.differences:
            console.print(
                f"arms: {escape(model.variable)}, {first} → {d.wave}: intervention - comparison "
                f"change {_f(d.difference.value)} [{_f(d.difference.ci_low)}, "
                f"{_f(d.difference.ci_high)}], p Holm {_p(d.p_holm)}, Hedges' g {_f(d.g)} "
                f"[{_f(d.g_ci_low)}, {_f(d.g_ci_high)}]")
        if model.interaction is not None:
            console.print(f"arms: {escape(model.variable)}: wave x arm chi2("
                          f"{model.interaction.df}) = {_f(model.interaction.chi2)}, p Holm "
                          f"{_p(model.interaction.p_holm)}")
        if model.reason is not None:
            console.print(f"[yellow]not modelled:[/] {escape(model.variable)}: "
                          f"{escape(model.reason)}")
        for note in model.notes:
            console.print(f"[yellow]note:[/] {escape(model.variable)}: {escape(note)}")
    for line in report.sensitivity:
        if line.disagree:
            console.print(f"[yellow]sensitivity:[/] {escape(line.variable)}: the completers' "
                          f"paired test (p Holm {_p(line.completers_p_holm)}) and the model on "
                          f"everyone (p Holm {_p(line.everyone_p_holm)}) disagree in "
                          "significance")
    console.print(escape(report.design_note))
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


def report_html(report: OutcomeReport, *, source: str, observations: LongTable,
                reliability: Sequence[Reliability] = (),
                waves: WaveReport | None = None) -> str:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from app.research.charts import charts
    from app.settings import ROOT

    environment = Environment(loader=FileSystemLoader(ROOT / "templates"),
                              autoescape=select_autoescape(["html"]))
    template = environment.get_template("research/outcomes_report.html")
    return template.render(
        title=f"Outcome report: {source}", source=source, report=report,
        reliability=list(reliability), charts=charts(report), observations=len(observations),
        participants=len(observations.participants), waves=waves,
        reliable_changes=_reliable_changes(report, observations, reliability))


def _reliable_changes(report: OutcomeReport, observations: LongTable,
                      reliability: Sequence[Reliability]) -> list[ReliableChange]:
    from app.research.rci import declared_reliabilities, reliable_changes
    from app.surveys.definitions import DefinitionError, load_battery

    try:
        declared = declared_reliabilities(load_battery().values())
    except DefinitionError:
        declared = {}
    return reliable_changes(observations, reliability, pre=report.pre, post=report.post,
                            declared=declared,
                            better={row.variable: row.better for row in report.rows
                                    if row.better is not None},
                            labels={row.variable: row.label for row in report.rows})
