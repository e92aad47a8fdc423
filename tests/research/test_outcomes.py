"""The outcome statistics, number by number, against scipy, pingouin and statsmodels."""

import math
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from jinja2 import Environment, FileSystemLoader, select_autoescape
from scipy import stats
from statsmodels.stats.multitest import multipletests

from app.research.charts import charts, mean_interval
from app.research.outcomes import (
    Observation,
    OutcomeError,
    OutcomeReport,
    VariableOutcome,
    analyse,
    benjamini_hochberg,
    cronbach_alpha,
    holm,
    reliability,
)
from app.settings import ROOT

# Variable -> true standardised change; "flat" has none.
EFFECTS = {"meaning": 1.0, "stress": -0.9, "loneliness": 0.9, "flat": 0.0}
PEOPLE = 50
LEFT_BEFORE_POST = 6


def simulated() -> tuple[list[Observation], dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Scores rounded like real ones (ties happen); the last participants have no post wave."""
    rng = np.random.default_rng(20261125)
    observations: list[Observation] = []
    pairs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for variable, effect in EFFECTS.items():
        before = np.round(rng.normal(20, 4, PEOPLE), 1)
        after = np.round(before + 4 * effect + rng.normal(0, 4, PEOPLE), 1)
        for i in range(PEOPLE):
            observations.append(Observation(f"P{i:02}", "pre", variable, float(before[i])))
            if i < PEOPLE - LEFT_BEFORE_POST:
                observations.append(Observation(f"P{i:02}", "post", variable, float(after[i])))
        kept = PEOPLE - LEFT_BEFORE_POST
        pairs[variable] = before[:kept], after[:kept]
    return observations, pairs


BETTER = {"meaning": "higher", "stress": "lower", "loneliness": "lower"}


@pytest.fixture(scope="module")
def report_and_pairs() -> tuple[OutcomeReport, dict[str, tuple[np.ndarray, np.ndarray]]]:
    observations, pairs = simulated()
    return analyse(observations, better=BETTER), pairs


def row_of(report: OutcomeReport, variable: str) -> VariableOutcome:
    return next(row for row in report.rows if row.variable == variable)


@pytest.mark.parametrize("variable", list(EFFECTS))
def test_descriptives_are_over_participants_with_both_waves(report_and_pairs, variable):
    report, pairs = report_and_pairs
    before, after = pairs[variable]
    row = row_of(report, variable)
    assert row.n == PEOPLE - LEFT_BEFORE_POST
    described = pd.DataFrame({"pre": before, "post": after}).describe()
    assert row.pre.mean == pytest.approx(described.loc["mean", "pre"], rel=1e-12)
    assert row.pre.sd == pytest.approx(described.loc["std", "pre"], rel=1e-12)
    assert row.post.mean == pytest.approx(described.loc["mean", "post"], rel=1e-12)
    assert row.post.sd == pytest.approx(described.loc["std", "post"], rel=1e-12)


@pytest.mark.parametrize("variable", list(EFFECTS))
def test_paired_t_and_change_interval_match_scipy_and_pingouin(report_and_pairs, variable):
    report, pairs = report_and_pairs
    before, after = pairs[variable]
    row = row_of(report, variable)
    scipy_t = stats.ttest_rel(after, before)
    interval = scipy_t.confidence_interval(0.95)
    assert row.t == pytest.approx(scipy_t.statistic, rel=1e-10)
    assert row.p == pytest.approx(scipy_t.pvalue, rel=1e-8)
    assert row.df == scipy_t.df
    assert row.mean_change == pytest.approx(np.mean(after - before), rel=1e-12)
    assert (row.ci_low, row.ci_high) == pytest.approx((interval.low, interval.high), rel=1e-9)
    pingouin_t = pg.ttest(after, before, paired=True).iloc[0]
    assert row.t == pytest.approx(pingouin_t["T"], rel=1e-10)
    assert row.p == pytest.approx(pingouin_t["p_val"] if "p_val" in pingouin_t else
                                  pingouin_t["p-val"], rel=1e-8)


@pytest.mark.parametrize("variable", list(EFFECTS))
def test_wilcoxon_matches_scipy_default_and_pingouin(report_and_pairs, variable):
    report, pairs = report_and_pairs
    before, after = pairs[variable]
    row = row_of(report, variable)
    assert row.wilcoxon_p == pytest.approx(stats.wilcoxon(after, before).pvalue, rel=1e-10)
    # pingouin adds a continuity correction unless told not to; scipy's default has none.
    pingouin_w = pg.wilcoxon(after, before, correction=False).iloc[0]
    pingouin_p = pingouin_w["p_val"] if "p_val" in pingouin_w else pingouin_w["p-val"]
    assert row.wilcoxon_p == pytest.approx(pingouin_p, rel=1e-10)


@pytest.mark.parametrize("variable", list(EFFECTS))
def test_d_z_matches_pingouin(report_and_pairs, variable):
    report, pairs = report_and_pairs
    before, after = pairs[variable]
    row = row_of(report, variable)
    assert row.d_z == pytest.approx(
        pg.compute_effsize(after, before, paired=True, eftype="cohen_dz"), rel=1e-10)
    assert row.d_z == pytest.approx(row.t / math.sqrt(row.n), rel=1e-10)


@pytest.mark.parametrize("variable", list(EFFECTS))
def test_d_z_interval_inverts_the_noncentral_t(report_and_pairs, variable):
    report, _pairs = report_and_pairs
    row = row_of(report, variable)
    root = math.sqrt(row.n)
    assert stats.nct.cdf(row.t, row.df, row.d_z_ci_low * root) == pytest.approx(0.975, abs=1e-8)
    assert stats.nct.cdf(row.t, row.df, row.d_z_ci_high * root) == pytest.approx(0.025, abs=1e-8)
    assert row.d_z_ci_low < row.d_z < row.d_z_ci_high


@pytest.mark.parametrize("variable", list(EFFECTS))
def test_g_av_is_the_documented_formula(report_and_pairs, variable):
    report, pairs = report_and_pairs
    before, after = pairs[variable]
    n = len(before)
    row = row_of(report, variable)
    # Written out again by hand: mean change / average SD, times J with n - 1 df.
    sd_pre = math.sqrt(sum((x - sum(before) / n) ** 2 for x in before) / (n - 1))
    sd_post = math.sqrt(sum((x - sum(after) / n) ** 2 for x in after) / (n - 1))
    change = sum(after) / n - sum(before) / n
    assert row.g_av == pytest.approx(change / ((sd_pre + sd_post) / 2) * (1 - 3 / (4 * n - 5)),
                                     rel=1e-10)


@pytest.mark.parametrize("variable", list(EFFECTS))
def test_g_av_differs_from_pingouin_only_as_documented(report_and_pairs, variable):
    """pingouin's paired Hedges g divides by the root mean square of the SDs and corrects
    with 1 - 3/(4(n_x + n_y) - 9); undoing both gives our g_av (docs/research.md)."""
    report, pairs = report_and_pairs
    before, after = pairs[variable]
    n = len(before)
    row = row_of(report, variable)
    theirs = pg.compute_effsize(after, before, paired=True, eftype="hedges")
    d_rms = theirs / (1 - 3 / (4 * (2 * n) - 9))
    root_mean_square = math.sqrt((before.var(ddof=1) + after.var(ddof=1)) / 2)
    average = (before.std(ddof=1) + after.std(ddof=1)) / 2
    ours = d_rms * root_mean_square / average * (1 - 3 / (4 * (n - 1) - 1))
    assert row.g_av == pytest.approx(ours, rel=1e-10)


def test_corrections_match_statsmodels(report_and_pairs):
    report, _pairs = report_and_pairs
    pvalues = [row.p for row in report.rows]
    _, expected_holm, _, _ = multipletests(pvalues, alpha=0.05, method="holm")
    _, expected_bh, _, _ = multipletests(pvalues, alpha=0.05, method="fdr_bh")
    assert [row.p_holm for row in report.rows] == pytest.approx(list(expected_holm), rel=1e-12)
    assert [row.p_bh for row in report.rows] == pytest.approx(list(expected_bh), rel=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_holm_and_bh_match_statsmodels_on_any_p_values(seed):
    rng = np.random.default_rng(seed)
    pvalues = list(rng.uniform(0, 0.2, rng.integers(1, 25)))
    pvalues[0:2] = [pvalues[-1]] * min(2, len(pvalues))  # ties
    assert holm(pvalues) == pytest.approx(list(multipletests(pvalues, method="holm")[1]))
    assert benjamini_hochberg(pvalues) == pytest.approx(
        list(multipletests(pvalues, method="fdr_bh")[1]))


def test_the_simulated_effects_come_out_as_expected(report_and_pairs):
    report, _pairs = report_and_pairs
    verdicts = {row.variable: row.verdict for row in report.rows}
    assert verdicts == {"meaning": "improved", "stress": "improved", "loneliness": "worsened",
                        "flat": "no significant change"}
    assert report.summary == ("2 of 4 variables improved significantly after Holm correction "
                              "(alpha = 0.05).")


def test_attrition_compares_baselines_with_welch(report_and_pairs):
    report, _pairs = report_and_pairs
    observations, _ = simulated()
    for row in report.attrition:
        baseline = [o.value for o in observations if o.variable == row.variable
                    and o.wave == "pre"]
        stayed = np.array(baseline[: PEOPLE - LEFT_BEFORE_POST])
        left = np.array(baseline[PEOPLE - LEFT_BEFORE_POST:])
        assert (row.completers.n, row.dropouts.n) == (PEOPLE - LEFT_BEFORE_POST, LEFT_BEFORE_POST)
        assert row.completers.mean == pytest.approx(stayed.mean())
        assert row.dropouts.sd == pytest.approx(left.std(ddof=1))
        assert row.difference == pytest.approx(stayed.mean() - left.mean())
        welch = stats.ttest_ind(stayed, left, equal_var=False)
        assert row.welch_p == pytest.approx(welch.pvalue, rel=1e-10)
        pingouin_welch = pg.ttest(stayed, left, correction=True).iloc[0]
        assert row.welch_p == pytest.approx(
            pingouin_welch["p_val"] if "p_val" in pingouin_welch else pingouin_welch["p-val"],
            rel=1e-10)


def test_attrition_needs_two_in_each_group():
    observations = [Observation(f"P{i}", "pre", "x", float(i)) for i in range(5)]
    observations += [Observation(f"P{i}", "post", "x", float(i + 1)) for i in range(4)]
    row = analyse(observations).attrition[0]
    assert (row.completers.n, row.dropouts.n) == (4, 1)
    assert row.welch_p is None
    assert row.note == "The test needs at least 2 participants in each group."


# --- rules --------------------------------------------------------------------------------


def pairs_of(variable: str, before: list[float], after: list[float | None]) -> list[Observation]:
    observations = [Observation(f"P{i}", "pre", variable, value) for i, value in enumerate(before)]
    return observations + [Observation(f"P{i}", "post", variable, value)
                           for i, value in enumerate(after)]


def test_fewer_than_three_pairs_gives_a_reason_and_no_statistics():
    observations = pairs_of("few", [1.0, 2.0, 3.0], [2.0, 4.0, None])
    observations += pairs_of("many", [1.0, 2.0, 3.0, 4.0], [2.0, 4.0, 5.0, 7.0])
    report = analyse(observations)
    few = row_of(report, "few")
    assert few.n == 2
    assert few.reason == "only 2 participants answered both waves; at least 3 are needed"
    assert (few.pre.mean, few.mean_change, few.t, few.p, few.wilcoxon_p, few.d_z, few.g_av,
            few.p_holm, few.p_bh) == (None,) * 9
    assert not few.tested
    # Left out of the correction: with one p left, Holm changes nothing.
    many = row_of(report, "many")
    assert many.p_holm == pytest.approx(many.p)
    assert report.summary == ("0 of 2 variables improved significantly after Holm correction "
                              "(alpha = 0.05); 1 could not be tested.")


@pytest.mark.parametrize(("n", "words"), [
    (0, "no participant answered both waves"),
    (1, "only 1 participant answered both waves"),
])
def test_the_reason_reads_well_for_none_and_one(n, words):
    observations = [*pairs_of("x", [1.0] * n, [2.0] * n), Observation("Q", "pre", "x", 1.0)]
    row = analyse(observations).rows[0]
    assert row.reason == f"{words}; at least 3 are needed"


def test_equal_differences_leave_t_and_d_z_undefined():
    report = analyse(pairs_of("same", [1.0, 2.0, 3.5, 4.0], [2.0, 3.0, 4.5, 5.0]))
    row = report.rows[0]
    assert (row.t, row.p, row.d_z, row.p_holm) == (None, None, None, None)
    assert row.mean_change == pytest.approx(1.0)
    assert row.ci_low == row.ci_high == pytest.approx(1.0)
    assert row.g_av is not None
    assert row.wilcoxon_p == pytest.approx(stats.wilcoxon([1.0, 1, 1, 1]).pvalue)
    assert row.notes == ("Every participant changed by the same amount, so the differences "
                         "have no spread: t, its p and d_z are undefined.",)
    assert row.verdict == ""
    assert report.summary.endswith("; 1 could not be tested.")


def test_nobody_changing_has_no_wilcoxon_p():
    row = analyse(pairs_of("still", [1.0, 2.0, 3.0], [1.0, 2.0, 3.0])).rows[0]
    assert row.wilcoxon_p is None and row.wilcoxon_method is None
    assert "No participant changed, so the Wilcoxon test has no p." in row.notes


def test_no_spread_at_either_wave_leaves_g_av_undefined():
    row = analyse(pairs_of("flat", [2.0, 2.0, 2.0], [3.0, 3.0, 3.0])).rows[0]
    assert row.g_av is None
    assert "Neither wave has any spread, so g_av is undefined." in row.notes


@pytest.mark.parametrize(("differences", "method"), [
    ([1.5, -0.3, 2.2, 0.9, 3.1, 1.7, -0.4, 2.6], "exact"),
    ([1.0, 1.0, 2.0, -1.0, 3.0, 0.0, 2.0, 1.0], "exact (every sign flip; ties or zeros)"),
    ([float(x % 5 - 1) for x in range(30)], "normal approximation (ties or zeros)"),
    ([x * 0.37 - 5 for x in range(60)], "normal approximation"),
])
def test_wilcoxon_names_the_method_scipy_uses(differences, method):
    before = [10.0] * len(differences)
    after = [10.0 + d for d in differences]
    row = analyse(pairs_of("x", before, after)).rows[0]
    assert row.wilcoxon_method == method
    assert row.wilcoxon_p == pytest.approx(stats.wilcoxon(after, before).pvalue, rel=1e-10)


def significant(variable: str, step: float) -> list[Observation]:
    before = [10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 17.0]
    jitter = [0.1, -0.2, 0.3, 0.0, -0.1, 0.2, -0.3, 0.1]
    return pairs_of(variable, before, [b + step + j for b, j in zip(before, jitter, strict=True)])


@pytest.mark.parametrize(("step", "better", "verdict"), [
    (3.0, "higher", "improved"),
    (-3.0, "lower", "improved"),
    (3.0, "lower", "worsened"),
    (-3.0, "higher", "worsened"),
    (3.0, None, "changed"),
    (0.01, "higher", "no significant change"),
])
def test_the_better_direction_decides_improved(step, better, verdict):
    directions = {"x": better} if better else {}
    report = analyse(significant("x", step), better=directions)
    assert report.rows[0].verdict == verdict
    assert report.rows[0].improved == (verdict == "improved")
    assert report.summary.startswith(f"{int(verdict == 'improved')} of 1 variables improved")


def test_significance_is_judged_after_holm_not_before():
    # Two variables with the same raw p of about 0.03: Holm doubles it past 0.05.
    observations = significant("a", 0.18) + significant("b", 0.18)
    rows = analyse(observations, better={"a": "higher", "b": "higher"}).rows
    for row in rows:
        assert row.p < 0.05 <= row.p_holm
        assert row.verdict == "no significant change"
    lenient = analyse(observations, better={"a": "higher", "b": "higher"}, alpha=0.1)
    assert [row.verdict for row in lenient.rows] == ["improved"] * 2
    assert lenient.summary == ("2 of 2 variables improved significantly after Holm correction "
                               "(alpha = 0.1).")


def test_other_waves_and_labels():
    observations = [Observation(o.participant, {"pre": "t0", "post": "t1"}[o.wave], o.variable,
                                o.value) for o in significant("x", 3.0)]
    report = analyse(observations, pre="t0", post="t1", labels={"x": "Meaning"},
                     better={"x": "higher"})
    assert report.rows[0].label == "Meaning" and report.rows[0].improved


def test_a_value_recorded_twice_is_refused():
    observations = [*pairs_of("x", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]),
                    Observation("P0", "pre", "x", 5.0)]
    with pytest.raises(OutcomeError, match="'P0' has two values for 'x' in wave 'pre'"):
        analyse(observations)


def test_an_unknown_direction_word_is_refused():
    with pytest.raises(OutcomeError, match="'up'"):
        analyse(pairs_of("x", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]), better={"x": "up"})


def test_missing_and_non_finite_values_are_missing():
    observations = pairs_of("x", [1.0, 2.0, 3.0, 4.0, 5.0], [2.0, None, 4.5, float("nan"), 7.0])
    assert analyse(observations).rows[0].n == 3


# --- Cronbach's alpha ---------------------------------------------------------------------


def item_matrix(seed: int, people: int = 60, items: int = 6) -> list[list[float | None]]:
    rng = np.random.default_rng(seed)
    trait = rng.normal(0, 1, people)
    answers = np.clip(np.round(3 + trait[:, None] + rng.normal(0, 1, (people, items))), 1, 5)
    matrix: list[list[float | None]] = [list(map(float, row)) for row in answers]
    for person, item in zip(rng.integers(0, people, 8), rng.integers(0, items, 8), strict=True):
        matrix[person][item] = None
    return matrix


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cronbach_alpha_matches_pingouin_listwise(seed):
    matrix = item_matrix(seed)
    frame = pd.DataFrame(matrix, dtype=float)
    expected, _interval = pg.cronbach_alpha(frame, nan_policy="listwise")
    assert cronbach_alpha(matrix) == pytest.approx(expected, rel=1e-10)


def test_cronbach_alpha_needs_two_items_and_two_respondents():
    assert cronbach_alpha([[1.0], [2.0], [3.0]]) is None
    assert cronbach_alpha([[1.0, 2.0], [None, 3.0]]) is None
    assert cronbach_alpha([]) is None
    assert cronbach_alpha([[2.0, 2.0], [2.0, 2.0]]) is None  # no spread in the totals


def test_reliability_counts_complete_respondents():
    matrix = item_matrix(4)
    complete = sum(all(value is not None for value in row) for row in matrix)
    found = reliability("hope", "pre", matrix)
    assert (found.instrument, found.wave, found.n, found.items) == ("hope", "pre", complete, 6)
    assert found.alpha == cronbach_alpha(matrix)


# --- charts and the partial ---------------------------------------------------------------


def test_charts_are_valid_titled_svg_without_css(report_and_pairs):
    report, _pairs = report_and_pairs
    drawn = charts(report)
    assert set(drawn) == {"means", "forest"}
    svg_ns = "{http://www.w3.org/2000/svg}"
    ids: list[str] = []
    for name, svg in drawn.items():
        root = ET.fromstring(svg)  # noqa: S314 - our own output, not untrusted input
        assert root.tag == f"{svg_ns}svg"
        title = root.find(f"{svg_ns}title")
        assert title is not None and title.text
        assert root.get("aria-labelledby") == title.get("id")
        # The page's Content-Security-Policy would block these.
        assert "style=" not in svg and "<style" not in svg, name
        ids += [element.get("id") for element in root.iter() if element.get("id")]
    assert len(ids) == len(set(ids)), "two charts share an id on one page"


def test_charts_are_deterministic(report_and_pairs):
    report, _pairs = report_and_pairs
    assert charts(report) == charts(report)


def test_charts_draw_the_report_numbers(report_and_pairs):
    report, _pairs = report_and_pairs
    drawn = charts(report)
    for row in report.rows:
        assert row.label in drawn["means"]
        assert row.label in drawn["forest"]
    assert ">pre<" in drawn["means"] and ">post<" in drawn["means"]


def test_no_tested_variable_means_no_charts():
    report = analyse(pairs_of("x", [1.0, 2.0], [2.0, 3.0]))
    assert charts(report) == {"means": "", "forest": ""}


def test_mean_interval_is_the_t_interval():
    report = analyse(pairs_of("x", [1.0, 2.0, 4.0, 7.0], [2.0, 3.0, 5.0, 9.0]))
    low, high = mean_interval(report.rows[0].pre)
    expected = stats.t.interval(0.95, 3, loc=3.5, scale=np.std([1, 2, 4, 7], ddof=1) / 2)
    assert (low, high) == pytest.approx(expected)


def render_partial(report: OutcomeReport, reliabilities: list) -> str:
    environment = Environment(loader=FileSystemLoader(ROOT / "templates"),
                              autoescape=select_autoescape(["html"]))
    template = environment.get_template("research/_outcomes.html")
    return template.render(report=report, reliability=reliabilities, charts=charts(report))


def test_the_partial_shows_summary_table_reasons_and_charts():
    observations = [*significant("x", 3.0), *pairs_of("few", [1.0, 2.0], [2.0, 3.0]),
                    *pairs_of("same", [1.0, 2.0, 3.0], [2.0, 3.0, 4.0])]
    report = analyse(observations, better={"x": "higher"}, labels={"x": "Meaning <b>"})
    html = render_partial(report, [reliability("meaning", "pre", item_matrix(1))])
    assert "1 of 3 variables improved significantly after Holm correction" in html
    assert "Meaning &lt;b&gt;" in html  # labels are escaped, only the SVG is trusted
    assert "only 2 participants answered both waves; at least 3 are needed" in html
    assert "Left out of the correction" in html
    assert "t, its p and d_z are undefined" in html
    assert html.count("<svg") == 2
    assert "Cronbach" in html and "meaning" in html
    assert "Welch" in html


def test_the_partial_without_item_answers_says_so():
    html = render_partial(analyse(significant("x", 3.0)), [])
    assert "Reliability needs the item answers" in html
