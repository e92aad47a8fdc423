"""The outcome report's charts, drawn on the server as SVG with matplotlib.

The output is deterministic (fixed hash salt, no date) so the same report gives the same
bytes, and each SVG carries a <title>; the report's tables are the text alternative.
"""

import io
import math
import re
import threading
from html import escape
from typing import Any

import matplotlib as mpl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from scipy import stats

from app.research.outcomes import OutcomeReport, Summary, VariableOutcome

COLUMNS = 4
INK = "#1f2933"
PRE_COLOUR = "#5b6b7a"
POST_COLOUR = "#1565c0"
IMPROVED = "#2e7d32"
WORSENED = "#c62828"
OTHER = "#455a64"

_STYLE: Any = {  # matplotlib types its rcParams keys as literals
    "svg.hashsalt": "telos-outcomes",
    "svg.fonttype": "none",          # text stays text: smaller, searchable, read by screen readers
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "text.color": INK,
    "xtick.color": INK,
    "ytick.color": INK,
}


# rcParams are global to the process; requests draw in threads, so one chart at a time.
_drawing = threading.Lock()


def charts(report: OutcomeReport) -> dict[str, str]:
    """{"means": svg, "forest": svg}; a chart with nothing to show is an empty string."""
    with _drawing, mpl.rc_context(_STYLE):
        return _charts(report)


def _charts(report: OutcomeReport) -> dict[str, str]:
    tested = [row for row in report.rows if row.tested]
    with_effect = [row for row in tested if row.d_z is not None or row.g_av is not None]
    return {
        "means": _svg(_means_figure(tested, report), "means",
                      f"Mean at {report.pre} and {report.post} with 95% confidence intervals")
        if tested else "",
        "forest": _svg(_forest_figure(with_effect), "forest",
                       "Effect sizes per variable: d_z with its 95% confidence interval, and g_av")
        if with_effect else "",
    }


def mean_interval(summary: Summary) -> tuple[float, float] | None:
    """The 95% CI of a wave's mean (t distribution, n - 1 df)."""
    if summary.mean is None or summary.sd is None or summary.n < 2:
        return None
    half = float(stats.t.ppf(0.975, summary.n - 1)) * summary.sd / math.sqrt(summary.n)
    return summary.mean - half, summary.mean + half


def _means_figure(rows: list[VariableOutcome], report: OutcomeReport) -> Figure:
    columns = min(COLUMNS, len(rows))
    lines = math.ceil(len(rows) / columns)
    # Figure, not pyplot: no global figure manager, nothing to leak between requests.
    figure = Figure(figsize=(2.4 * columns, 2.1 * lines))
    axes = figure.subplots(lines, columns, squeeze=False)
    for ax, row in zip(axes.flat, rows, strict=False):
        _means_panel(ax, row, report)
    for ax in axes.flat[len(rows):]:
        ax.set_visible(False)
    figure.tight_layout()
    return figure


def _means_panel(ax: Axes, row: VariableOutcome, report: OutcomeReport) -> None:
    assert row.pre.mean is not None and row.post.mean is not None  # tested rows have means
    ax.plot([0, 1], [row.pre.mean, row.post.mean], color=OTHER, linewidth=1)
    for x, summary, colour in ((0, row.pre, PRE_COLOUR), (1, row.post, POST_COLOUR)):
        interval = mean_interval(summary)
        if interval is not None:
            ax.plot([x, x], interval, color=colour, linewidth=2)
        ax.plot([x], [summary.mean or 0.0], "o", color=colour, markersize=5)
    ax.set_xticks([0, 1], [report.pre, report.post])
    ax.set_xlim(-0.5, 1.5)
    ax.set_title(_short(row.label, 28), fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlabel(f"n = {row.n}", fontsize=8)


def _forest_figure(rows: list[VariableOutcome]) -> Figure:
    figure = Figure(figsize=(7.2, 0.9 + 0.32 * len(rows)))
    ax = figure.subplots()
    positions = range(len(rows), 0, -1)
    for y, row in zip(positions, rows, strict=True):
        colour = {"improved": IMPROVED, "worsened": WORSENED}.get(row.verdict, OTHER)
        if row.d_z is not None and row.d_z_ci_low is not None and row.d_z_ci_high is not None:
            ax.plot([row.d_z_ci_low, row.d_z_ci_high], [y, y], color=colour, linewidth=1.5)
            ax.plot([row.d_z], [y], "o", color=colour, markersize=5)
        if row.g_av is not None:
            ax.plot([row.g_av], [y], "D", markerfacecolor="white", markeredgecolor=colour,
                    markersize=5)
    ax.axvline(0, color=INK, linewidth=0.8)
    ax.set_yticks(list(positions), [_forest_label(row) for row in rows])
    ax.set_ylim(0.4, len(rows) + 0.6)
    ax.set_xlabel("effect size (post - pre): ● d_z with 95% CI, ◇ g_av")
    ax.spines[["top", "right", "left"]].set_visible(False)
    figure.tight_layout()
    return figure


def _forest_label(row: VariableOutcome) -> str:
    better = f" ({row.better} is better)" if row.better else ""
    return _short(row.label, 40 - len(better)) + better


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _svg(figure: Figure, name: str, title: str) -> str:
    stream = io.StringIO()
    # A salt per chart keeps the clip-path ids of two charts on one page apart.
    with mpl.rc_context({"svg.hashsalt": f"telos-outcomes-{name}"}):
        figure.savefig(stream, format="svg", metadata={"Date": None})
    return _titled(stream.getvalue(), name, title)


def _titled(svg: str, name: str, title: str) -> str:
    """Inline-ready SVG: no XML prologue or metadata, a <title>, and no CSS.

    The page's Content-Security-Policy blocks `style` attributes and `<style>` elements, so
    matplotlib's styles become the equivalent SVG presentation attributes.
    """
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.DOTALL)
    svg = re.sub(r"\s*<defs>\s*<style[^>]*>[^<]*</style>\s*</defs>", "", svg)
    svg = re.sub(r'style="([^"]*)"', _attributes, svg)
    # Both charts sit on one page: keep their ids (figure_1, axes_1, …) apart.
    svg = re.sub(r'\b(id="|href="#|url\(#)', rf"\g<1>{name}-", svg)
    opening = re.match(r"<svg[^>]*>", svg)
    assert opening is not None
    tag = opening.group(0)
    labelled = (tag[:-1] + f' role="img" aria-labelledby="chart-{name}-title"'
                ' stroke-linejoin="round" stroke-linecap="butt">')
    return (labelled + f'\n <title id="chart-{name}-title">{escape(title)}</title>'
            + svg[len(tag):])


def _attributes(style: re.Match[str]) -> str:
    declarations = (part.split(":", 1) for part in style.group(1).split(";") if ":" in part)
    return " ".join(f'{name.strip()}="{value.strip()}"' for name, value in declarations)
