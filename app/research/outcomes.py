"""Pre/post outcome statistics: pure functions over long observations, no database.

Every definition here is written out in docs/research.md, and each number is checked
in tests/research/test_outcomes.py against scipy, pingouin and statsmodels.
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize, stats

from app.research.long_table import LongTable, by_variable, first_repeat

MIN_PAIRS = 3
CONFIDENCE = 0.95
# scipy's `wilcoxon(method="auto")` switches to the normal approximation above this n.
WILCOXON_EXACT_MAX_N = 50
# With ties or zeros and at most this many pairs, scipy enumerates every sign flip.
WILCOXON_PERMUTATION_MAX_N = 13


class OutcomeError(ValueError):
    """The observations cannot be analysed as given (e.g. a value recorded twice)."""


@dataclass(frozen=True)
class Observation:
    participant: str
    wave: str
    variable: str
    value: float | None


@dataclass(frozen=True)
class Summary:
    """n, mean and sample SD of some values (mean/SD None when there are too few)."""

    n: int
    mean: float | None
    sd: float | None


@dataclass(frozen=True)
class VariableOutcome:
    variable: str
    label: str
    better: str | None                   # "higher", "lower", or None when unknown
    n: int                               # participants with a value at both waves
    pre: Summary
    post: Summary
    mean_change: float | None = None     # post - pre
    ci_low: float | None = None          # 95% CI of the mean change (t, n - 1 df)
    ci_high: float | None = None
    t: float | None = None
    df: int | None = None
    p: float | None = None
    wilcoxon_p: float | None = None
    wilcoxon_method: str | None = None
    d_z: float | None = None
    d_z_ci_low: float | None = None      # noncentral-t interval, for the forest plot
    d_z_ci_high: float | None = None
    g_av: float | None = None
    p_holm: float | None = None
    p_bh: float | None = None
    verdict: str = ""                    # improved / worsened / changed / no significant change
    reason: str | None = None            # why there are no statistics at all
    notes: tuple[str, ...] = ()          # why some statistics are missing

    @property
    def improved(self) -> bool:
        return self.verdict == "improved"

    @property
    def tested(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class AttritionRow:
    variable: str
    label: str
    completers: Summary                  # baseline of those with a post value
    dropouts: Summary                    # baseline of those with a pre value and no post value
    difference: float | None             # completers - dropouts
    welch_p: float | None
    note: str | None = None


@dataclass(frozen=True)
class OutcomeReport:
    rows: list[VariableOutcome]
    summary: str
    attrition: list[AttritionRow]
    pre: str = "pre"
    post: str = "post"
    alpha: float = 0.05
    improved: int = 0
    tested: int = 0


@dataclass(frozen=True)
class Reliability:
    instrument: str
    wave: str
    n: int                               # respondents who answered every item: those alpha uses
    items: int
    alpha: float | None


@dataclass
class _Values:
    by_wave: dict[str, dict[str, float | None]] = field(
        default_factory=lambda: defaultdict(dict))


def analyse(
    observations: Iterable[Observation] | LongTable,
    *,
    better: Mapping[str, str] = {},
    labels: Mapping[str, str] = {},
    pre: str = "pre",
    post: str = "post",
    alpha: float = 0.05,
) -> OutcomeReport:
    """Pre vs post for every variable, corrected across variables; see docs/research.md."""
    values = by_variable(_table(observations), pre=pre, post=post)
    rows = [
        _paired_outcome(variable, labels.get(variable, variable),
                        _direction(better.get(variable)), found.before, found.after)
        for variable, found in values.items()
    ]
    rows = [_judged(row, alpha) for row in _corrected(rows)]
    attrition = [
        _attrition_of(variable, labels.get(variable, variable), found.stayed, found.left)
        for variable, found in values.items()
    ]
    improved = sum(row.improved for row in rows)
    tested = sum(row.p is not None for row in rows)
    return OutcomeReport(rows=rows, summary=_summary(rows, improved, alpha), attrition=attrition,
                         pre=pre, post=post, alpha=alpha, improved=improved, tested=tested)


def _table(observations: Iterable[Observation] | LongTable) -> LongTable:
    if not isinstance(observations, LongTable):
        listed = list(observations)
        observations = LongTable.of_rows(
            (o.participant for o in listed), (o.wave for o in listed),
            (o.variable for o in listed), (o.value for o in listed))
    repeat = first_repeat(observations)
    if repeat is not None:
        t = observations
        raise OutcomeError(
            f"participant {t.participants[t.participant[repeat]]!r} has two values for "
            f"{t.variables[t.variable[repeat]]!r} in wave {t.waves[t.wave[repeat]]!r}")
    return observations


def _collect(observations: Iterable[Observation]) -> dict[str, _Values]:
    values: dict[str, _Values] = defaultdict(_Values)
    for obs in observations:
        wave = values[obs.variable].by_wave[obs.wave]
        if obs.participant in wave:
            raise OutcomeError(f"participant {obs.participant!r} has two values for "
                               f"{obs.variable!r} in wave {obs.wave!r}")
        missing = obs.value is None or not math.isfinite(obs.value)
        wave[obs.participant] = None if missing else float(obs.value)  # type: ignore[arg-type]
    return values


def _direction(better: str | None) -> str | None:
    if better is None:
        return None
    if better not in ("higher", "lower"):
        raise OutcomeError(f"better direction {better!r}: say 'higher' or 'lower'")
    return better


# --- one variable -------------------------------------------------------------------------


def _outcome(variable: str, label: str, better: str | None,
             pre: Mapping[str, float | None], post: Mapping[str, float | None]) -> VariableOutcome:
    pairs = sorted(p for p in pre if pre[p] is not None and post.get(p) is not None)
    before = np.array([pre[p] for p in pairs], dtype=float)
    after = np.array([post[p] for p in pairs], dtype=float)
    return _paired_outcome(variable, label, better, before, after)


def _paired_outcome(variable: str, label: str, better: str | None,
                    before: np.ndarray, after: np.ndarray) -> VariableOutcome:
    if len(before) < MIN_PAIRS:
        nothing = Summary(len(before), None, None)
        return VariableOutcome(variable, label, better, len(before), nothing, nothing,
                               reason=_too_few(len(before)))
    row = VariableOutcome(variable, label, better, len(before), describe(before),
                          describe(after))
    return _replace(row, **_paired_statistics(before, after))


def _too_few(n: int) -> str:
    answered = {0: "no participant answered", 1: "only 1 participant answered"}.get(
        n, f"only {n} participants answered")
    return f"{answered} both waves; at least {MIN_PAIRS} are needed"


def describe(values: np.ndarray) -> Summary:
    n = len(values)
    mean = float(values.mean()) if n else None
    sd = float(values.std(ddof=1)) if n >= 2 else None
    return Summary(n, mean, sd)


def _paired_statistics(before: np.ndarray, after: np.ndarray) -> dict[str, object]:
    diff = after - before
    n = len(diff)
    mean = float(diff.mean())
    sd = float(diff.std(ddof=1))
    df = n - 1
    half = float(stats.t.ppf(0.5 + CONFIDENCE / 2, df)) * sd / math.sqrt(n)
    found: dict[str, object] = {"mean_change": mean, "ci_low": mean - half,
                                "ci_high": mean + half, "df": df, "g_av": g_av(before, after)}
    notes: list[str] = []
    if _all_equal(diff):
        notes.append("Every participant changed by the same amount, so the differences have "
                     "no spread: t, its p and d_z are undefined.")
    else:
        t = mean / (sd / math.sqrt(n))
        low, high = d_z_interval(t, n)
        found |= {"t": t, "p": float(2 * stats.t.sf(abs(t), df)), "d_z": mean / sd,
                  "d_z_ci_low": low, "d_z_ci_high": high}
    if found["g_av"] is None:
        notes.append("Neither wave has any spread, so g_av is undefined.")
    if not diff.any():
        notes.append("No participant changed, so the Wilcoxon test has no p.")
    else:
        found["wilcoxon_method"], found["wilcoxon_p"] = wilcoxon(diff)
    return found | {"notes": tuple(notes)}


def _all_equal(diff: np.ndarray) -> bool:
    # Floating-point subtraction can leave a spread of ~1e-16 where the answers are equal.
    return float(np.ptp(diff)) <= 1e-12 * max(1.0, float(np.abs(diff).max()))


def g_av(before: np.ndarray, after: np.ndarray) -> float | None:
    """Hedges' g_av: mean change over the average of the two SDs, times J with n - 1 df."""
    n = len(before)
    average_sd = (before.std(ddof=1) + after.std(ddof=1)) / 2
    if average_sd == 0:
        return None
    correction = 1 - 3 / (4 * (n - 1) - 1)
    return float((after.mean() - before.mean()) / average_sd * correction)


def d_z_interval(t: float, n: int) -> tuple[float, float]:
    """The 95% CI of d_z from the noncentral t distribution (Cumming 2012), as d = ncp/√n."""
    df = n - 1
    tail = (1 - CONFIDENCE) / 2

    def ncp_where(cdf: float) -> float:
        # nct.cdf(t; ncp) falls as ncp rises, so widen the bracket until it holds the root.
        def gap(ncp: float) -> float:
            value = float(stats.nct.cdf(t, df, ncp))
            if math.isnan(value):  # far out in a tail, where scipy's series gives up
                value = 0.0 if ncp > t else 1.0
            return value - cdf
        width = 4 * math.sqrt(1 + t * t / (2 * df)) + 1
        while gap(t - width) < 0 or gap(t + width) > 0:
            width *= 2
        return float(optimize.brentq(gap, t - width, t + width, xtol=1e-12))

    root = math.sqrt(n)
    return ncp_where(1 - tail) / root, ncp_where(tail) / root


def wilcoxon(diff: np.ndarray) -> tuple[str, float]:
    """scipy's signed-rank test as `method="auto"` would run it, naming the method it picks."""
    method: str | stats.PermutationMethod
    nonzero = diff[diff != 0]
    ties_or_zeros = len(np.unique(np.abs(nonzero))) < len(nonzero) or len(nonzero) < len(diff)
    if len(diff) > WILCOXON_EXACT_MAX_N:
        method, name = "asymptotic", "normal approximation"
    elif not ties_or_zeros:
        method, name = "exact", "exact"
    elif len(diff) <= WILCOXON_PERMUTATION_MAX_N:
        method, name = stats.PermutationMethod(), "exact (every sign flip; ties or zeros)"
    else:
        method, name = "asymptotic", "normal approximation (ties or zeros)"
    result = stats.wilcoxon(diff, method=method)
    return name, float(result.pvalue)


# --- across variables ---------------------------------------------------------------------


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm's step-down adjusted p values, in the order given."""
    m = len(pvalues)
    adjusted = [0.0] * m
    running = 0.0
    for rank, index in enumerate(sorted(range(m), key=lambda i: pvalues[i])):
        running = max(running, min(1.0, (m - rank) * pvalues[index]))
        adjusted[index] = running
    return adjusted


def benjamini_hochberg(pvalues: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg adjusted p values (false discovery rate), in the order given."""
    m = len(pvalues)
    adjusted = [0.0] * m
    running = 1.0
    for rank, index in reversed(list(enumerate(sorted(range(m), key=lambda i: pvalues[i])))):
        running = min(running, m * pvalues[index] / (rank + 1))
        adjusted[index] = running
    return adjusted


def _corrected(rows: list[VariableOutcome]) -> list[VariableOutcome]:
    with_p = [i for i, row in enumerate(rows) if row.p is not None]
    pvalues = [rows[i].p for i in with_p]
    corrected = list(rows)
    for i, p_holm, p_bh in zip(with_p, holm(pvalues), benjamini_hochberg(pvalues),  # type: ignore[arg-type]
                               strict=True):
        corrected[i] = _replace(rows[i], p_holm=p_holm, p_bh=p_bh)
    return corrected


def _judged(row: VariableOutcome, alpha: float) -> VariableOutcome:
    if row.p_holm is None or row.mean_change is None:
        return row
    if row.p_holm >= alpha or row.mean_change == 0:
        return _replace(row, verdict="no significant change")
    if row.better is None:
        return _replace(row, verdict="changed")
    rose = row.mean_change > 0
    return _replace(row, verdict="improved" if rose == (row.better == "higher") else "worsened")


def _summary(rows: list[VariableOutcome], improved: int, alpha: float) -> str:
    # Always "variables", even for one: researchers and tests look for the fixed phrase.
    line = (f"{improved} of {len(rows)} variables improved significantly after Holm "
            f"correction (alpha = {alpha:g})")
    untested = sum(row.p is None for row in rows)
    if untested:
        line += f"; {untested} could not be tested"
    return line + "."


# --- attrition ----------------------------------------------------------------------------


def _attrition(variable: str, label: str, pre: Mapping[str, float | None],
               post: Mapping[str, float | None]) -> AttritionRow:
    baseline = {p: value for p, value in pre.items() if value is not None}
    stayed = np.array([v for p, v in baseline.items() if post.get(p) is not None], dtype=float)
    left = np.array([v for p, v in baseline.items() if post.get(p) is None], dtype=float)
    return _attrition_of(variable, label, stayed, left)


def _attrition_of(variable: str, label: str, stayed: np.ndarray,
                  left: np.ndarray) -> AttritionRow:
    completers, dropouts = describe(stayed), describe(left)
    difference = (completers.mean - dropouts.mean
                  if completers.mean is not None and dropouts.mean is not None else None)
    p, note = welch_p(stayed, left)
    return AttritionRow(variable, label, completers, dropouts, difference, p, note)


def welch_p(a: np.ndarray, b: np.ndarray) -> tuple[float | None, str | None]:
    """Two-sided p of Welch's t-test, or None and why it cannot be computed."""
    if len(a) < 2 or len(b) < 2:
        return None, "The test needs at least 2 participants in each group."
    va, vb = a.var(ddof=1) / len(a), b.var(ddof=1) / len(b)
    if va + vb == 0:
        return None, "Neither group has any spread, so the test is undefined."
    t = (a.mean() - b.mean()) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1))
    return float(2 * stats.t.sf(abs(t), df)), None


# --- reliability --------------------------------------------------------------------------


def complete_rows(matrix: Sequence[Sequence[float | None]]) -> np.ndarray:
    rows = [row for row in matrix
            if all(value is not None and math.isfinite(value) for value in row)]
    return np.array(rows, dtype=float)


def cronbach_alpha(matrix: Sequence[Sequence[float | None]]) -> float | None:
    """k/(k-1) * (1 - Σ item variances / variance of totals), listwise complete respondents."""
    return alpha_of_complete(complete_rows(matrix))


def alpha_of_complete(complete: np.ndarray) -> float | None:
    """Cronbach's alpha of respondents (rows) who answered every item (columns)."""
    if complete.ndim != 2 or complete.shape[0] < 2 or complete.shape[1] < 2:
        return None
    k = complete.shape[1]
    total_variance = complete.sum(axis=1).var(ddof=1)
    if total_variance == 0:
        return None
    return float(k / (k - 1) * (1 - complete.var(axis=0, ddof=1).sum() / total_variance))


def reliability(instrument: str, wave: str,
                matrix: Sequence[Sequence[float | None]]) -> Reliability:
    complete = complete_rows(matrix)
    items = len(matrix[0]) if matrix else 0
    return Reliability(instrument, wave, len(complete), items, cronbach_alpha(matrix))


def _replace(row: VariableOutcome, **changes: object) -> VariableOutcome:
    return replace(row, **changes)  # type: ignore[arg-type]
