"""The paired report as an APA-style table (`apa_table.csv`, `apa_table.md`): per score the
completers' n, M (SD) at the first two waves, the change with its 95% CI, t, df, p, d_z with
its CI and the Holm-corrected p, all from `app.research.outcomes.analyse`."""

import csv
import io
from typing import BinaryIO

from app.research.exporting.model import ExportSource, Progress
from app.research.outcomes import Observation, OutcomeError, OutcomeReport, Summary, analyse

MINUS = "\u2212"  # APA prints a minus sign, not a hyphen


def report(source: ExportSource) -> OutcomeReport:
    names = {(spec.key, score.name): (f"{spec.key}.{score.name}", score)
             for spec in source.instruments for score in spec.scores}
    observations = (Observation(row.participant, row.wave, names[row.instrument, row.score][0],
                                row.value)
                    for row in source.scores() if (row.instrument, row.score) in names)
    return analyse(observations, pre=source.waves[0], post=source.waves[1],
                   better={name: score.better for name, score in names.values()},
                   labels={name: score.label for name, score in names.values()})


def number(value: float | None, decimals: int = 2) -> str:
    if value is None:
        return "—"
    text = f"{value:.{decimals}f}"
    return MINUS + text[1:] if text.startswith("-") else text


def p_text(value: float | None) -> str:
    """APA: three decimals without the leading zero, and < .001 below that."""
    if value is None:
        return "—"
    return "< .001" if value < 0.001 else f"{value:.3f}".removeprefix("0")


def _mean_sd(summary: Summary) -> str:
    if summary.mean is None:
        return "—"
    return f"{number(summary.mean)} ({number(summary.sd)})"


def _interval(low: float | None, high: float | None) -> str:
    return "—" if low is None or high is None else f"[{number(low)}, {number(high)}]"


def rows(source: ExportSource) -> tuple[list[str], list[list[str]], str]:
    """The header, the rows and a note under the table."""
    if len(source.waves) < 2:
        return _header("first", "second"), [], "The study has fewer than two waves."
    pre, post = source.waves[0], source.waves[1]
    try:
        found = report(source)
    except OutcomeError as error:
        return _header(pre, post), [], f"No paired analysis: {error}."
    table = [[row.label, str(row.n), _mean_sd(row.pre), _mean_sd(row.post),
              number(row.mean_change), _interval(row.ci_low, row.ci_high), number(row.t),
              "—" if row.df is None else str(row.df), p_text(row.p),
              f"{number(row.d_z)} {_interval(row.d_z_ci_low, row.d_z_ci_high)}"
              if row.d_z is not None else "—", p_text(row.p_holm)]
             for row in found.rows]
    note = (f"Completers (a value at both {pre} and {post}); change = {post} {MINUS} {pre}; "
            "paired t-test; d_z = mean change / SD of the changes, 95% CI from the noncentral "
            f"t; p (Holm) corrected across the {len(found.rows)} scores. {found.summary}")
    return _header(pre, post), table, note


def _header(pre: str, post: str) -> list[str]:
    return ["Variable", "n", f"{pre} M (SD)", f"{post} M (SD)", "Change", "95% CI", "t", "df",
            "p", "d_z [95% CI]", "p (Holm)"]


def write_apa_csv(source: ExportSource, out: BinaryIO, progress: Progress | None = None) -> int:
    header, table, note = rows(source)
    text = io.StringIO(newline="")
    writer = csv.writer(text, lineterminator="\n")
    writer.writerows([header, *table, [f"Note. {note}"]])
    out.write(text.getvalue().encode())
    return len(table)


def write_apa_markdown(source: ExportSource, out: BinaryIO,
                       progress: Progress | None = None) -> int:
    header, table, note = rows(source)
    lines = [f"Table 1. Change from {header[2].removesuffix(' M (SD)')} to "
             f"{header[3].removesuffix(' M (SD)')}, completers", "",
             _markdown_row(header), "|" + "---|" * len(header)]
    lines += [_markdown_row(row) for row in table]
    lines += ["", f"*Note.* {note}", ""]
    out.write("\n".join(lines).encode())
    return len(table)


def _markdown_row(cells: list[str]) -> str:
    escaped = [" ".join(cell.split()).replace("|", "\\|") for cell in cells]
    return "| " + " | ".join(escaped) + " |"
