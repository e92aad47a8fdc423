"""The all-waves mixed model: against lme4 (the published sleepstudy estimates, and lme4 run
live on the same data), against statsmodels' own formula interface, and on data whose truth
is known."""

import json
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from app.research.mixed import (
    ALL,
    COMPARISON,
    INTERVENTION,
    SINGLE_GROUP,
    analyse_waves,
    fit_trend,
    fit_waves,
    frame_of,
    reml_fit,
    report_from,
)
from app.research.outcome_cache import _plain
from app.research.outcomes import Observation, analyse, holm

WAVES = ["pre", "post", "followup"]


def rscript(code: str) -> str:
    if shutil.which("Rscript") is None:
        pytest.skip("Rscript is not installed, so lme4 cannot be run")
    done = subprocess.run(["Rscript", "-e", code], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.skip(f"Rscript could not run lme4: {done.stderr.strip()[-300:]}")
    return done.stdout


@pytest.fixture(scope="module")
def sleepstudy(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    path = tmp_path_factory.mktemp("lme4") / "sleepstudy.csv"
    rscript(f'if (!requireNamespace("lme4", quietly = TRUE)) stop("lme4 is not installed"); '
            f'write.csv(lme4::sleepstudy, "{path}", row.names = FALSE)')
    return pd.read_csv(path)


def test_the_published_sleepstudy_fixed_effects(sleepstudy: pd.DataFrame) -> None:
    # Bates et al. (2015), lme4: Reaction ~ Days + (Days | Subject) gives 251.405 and
    # 10.467; with 10 days for each of 18 subjects the random-intercept model's are equal.
    fit = fit_trend(sleepstudy, time="Days", value="Reaction", participant="Subject")
    assert fit.params[0] == pytest.approx(251.405, abs=1e-3)
    assert fit.params[1] == pytest.approx(10.467, abs=1e-3)
    assert fit.participants == 18 and fit.observations == 180


def test_waves_as_lme4_fits_them(sleepstudy: pd.DataFrame, tmp_path: Path) -> None:
    """The wave path itself, with the ten days as ten waves, against lmer run live."""
    path = tmp_path / "sleep.csv"
    sleepstudy.to_csv(path, index=False)
    printed = rscript(
        f'd <- read.csv("{path}"); m <- lme4::lmer(Reaction ~ factor(Days) + (1 | Subject), '
        f'data = d, REML = TRUE); v <- as.data.frame(lme4::VarCorr(m)); '
        f'cat(jsonlite::toJSON(list(fixef = unname(lme4::fixef(m)), '
        f'se = unname(sqrt(diag(as.matrix(vcov(m))))), vc = v$vcov), digits = NA))')
    lme4 = json.loads(printed)
    frame = pd.DataFrame({"participant": sleepstudy["Subject"].astype(str),
                          "wave": sleepstudy["Days"].astype(str),
                          "value": sleepstudy["Reaction"]})
    model = fit_waves(frame, [str(day) for day in range(10)])
    first = model.mean("0")
    assert first is not None and first.mean.value == pytest.approx(lme4["fixef"][0], abs=1e-4)
    assert first.mean.se == pytest.approx(lme4["se"][0], abs=1e-4)
    for day in range(1, 10):
        contrast = model.contrast(str(day))
        assert contrast is not None
        assert contrast.change.value == pytest.approx(lme4["fixef"][day], abs=1e-4)
        assert contrast.change.se == pytest.approx(lme4["se"][day], abs=1e-4)
    assert model.participant_variance == pytest.approx(lme4["vc"][0], rel=1e-5)
    assert model.residual_variance == pytest.approx(lme4["vc"][1], rel=1e-5)


# --- data whose truth is known --------------------------------------------------------------

TRUTH = {"post": 2.0, "followup": 1.0}


def simulated(people: int = 600, seed: int = 13, missing: float = 0.2,
              arm_effect: float = 0.0) -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    rows, arms = [], {}
    for i in range(people):
        arm = INTERVENTION if i % 2 else COMPARISON
        arms[f"P{i:04}"] = arm
        person = rng.normal(0, 3)
        for wave in WAVES:
            if wave != "pre" and rng.random() < missing:
                continue
            effect = TRUTH.get(wave, 0.0) + (arm_effect if arm == INTERVENTION
                                             and wave != "pre" else 0.0)
            rows.append((f"P{i:04}", wave, 20 + person + effect + rng.normal(0, 2)))
    return pd.DataFrame(rows, columns=["participant", "wave", "value"]), arms


def test_the_model_finds_the_known_changes() -> None:
    frame, _ = simulated()
    model = fit_waves(frame, WAVES)
    assert model.arms == () and model.fitted
    for wave, truth in TRUTH.items():
        contrast = model.contrast(wave)
        assert contrast is not None and contrast.change.se is not None
        assert abs(contrast.change.value - truth) < 3 * contrast.change.se  # type: ignore[operator]
        assert contrast.change.ci_low < truth < contrast.change.ci_high  # type: ignore[operator]
        assert contrast.d == pytest.approx(contrast.change.value / model.sd_first)  # type: ignore[operator]
    assert model.participant_variance == pytest.approx(9, rel=0.2)
    assert model.residual_variance == pytest.approx(4, rel=0.1)


@pytest.mark.parametrize("missing", [0.0, 0.2])
def test_it_is_what_statsmodels_fits_on_the_same_frame(missing: float) -> None:
    frame, _ = simulated(people=200, missing=missing)
    model = fit_waves(frame, WAVES)
    reference = smf.mixedlm("value ~ C(wave, Treatment('pre'))", frame,
                            groups=frame["participant"]).fit(reml=True)
    names = {"post": "C(wave, Treatment('pre'))[T.post]",
             "followup": "C(wave, Treatment('pre'))[T.followup]"}
    for wave, name in names.items():
        contrast = model.contrast(wave)
        assert contrast is not None
        assert contrast.change.value == pytest.approx(reference.fe_params[name], abs=1e-6)
        # statsmodels inverts the observed information of every parameter together; with
        # waves missing that moves its standard errors a little off lme4's (next test).
        tolerance = 1e-4 if missing == 0 else 5e-3
        assert contrast.change.se == pytest.approx(reference.bse_fe[name], rel=tolerance)
        assert contrast.change.p == pytest.approx(reference.pvalues[name], rel=100 * tolerance)
    assert model.residual_variance == pytest.approx(reference.scale, rel=1e-4)
    assert model.participant_variance == pytest.approx(float(reference.cov_re.iloc[0, 0]),
                                                       rel=1e-4)


def test_with_missing_waves_the_standard_errors_are_lme4s(tmp_path: Path) -> None:
    frame, _ = simulated(people=300, missing=0.3, seed=8)
    path = tmp_path / "waves.csv"
    frame.to_csv(path, index=False)
    lme4 = json.loads(rscript(
        f'd <- read.csv("{path}"); d$wave <- factor(d$wave, levels = c("pre", "post", '
        f'"followup")); m <- lme4::lmer(value ~ wave + (1 | participant), data = d, '
        f'REML = TRUE); v <- as.data.frame(lme4::VarCorr(m)); '
        f'cat(jsonlite::toJSON(list(fixef = unname(lme4::fixef(m)), '
        f'se = unname(sqrt(diag(as.matrix(vcov(m))))), vc = v$vcov), digits = NA))'))
    model = fit_waves(frame, WAVES)
    for index, wave in enumerate(WAVES[1:], start=1):
        contrast = model.contrast(wave)
        assert contrast is not None
        assert contrast.change.value == pytest.approx(lme4["fixef"][index], abs=1e-6)
        assert contrast.change.se == pytest.approx(lme4["se"][index], rel=1e-6)
    assert model.participant_variance == pytest.approx(lme4["vc"][0], rel=1e-5)
    assert model.residual_variance == pytest.approx(lme4["vc"][1], rel=1e-6)


def test_the_exact_fit_is_the_reml_optimum() -> None:
    frame, _ = simulated(people=150, seed=4)
    codes = pd.factorize(frame["participant"])[0]
    design = np.column_stack([np.ones(len(frame)), frame["wave"] == "post",
                              frame["wave"] == "followup"]).astype(float)
    fit = reml_fit(frame["value"].to_numpy(), design, codes)
    cold = smf.mixedlm("value ~ C(wave, Treatment('pre'))", frame,
                       groups=frame["participant"]).fit(reml=True)
    names = ["Intercept", "C(wave, Treatment('pre'))[T.post]",
             "C(wave, Treatment('pre'))[T.followup]"]
    assert fit.converged and not fit.at_boundary
    assert fit.beta == pytest.approx(np.asarray(cold.fe_params[names]), abs=1e-5)
    assert fit.scale == pytest.approx(cold.scale, rel=1e-4)
    assert fit.ratio * fit.scale == pytest.approx(float(cold.cov_re.iloc[0, 0]), rel=1e-3)


def test_a_variance_at_zero_is_said_so() -> None:
    rng = np.random.default_rng(3)
    rows = [(f"P{i}", wave, rng.normal(0, 1)) for i in range(80) for wave in WAVES]
    model = fit_waves(pd.DataFrame(rows, columns=["participant", "wave", "value"]), WAVES)
    assert model.fitted
    assert any("at (or near) zero" in note for note in model.notes)


def test_participants_with_a_missing_wave_still_count() -> None:
    frame, _ = simulated(people=300, missing=0.3)
    model = fit_waves(frame, WAVES)
    complete = frame.groupby("participant")["wave"].transform("size") == 3
    assert model.participants == 300
    assert model.observations == len(frame)
    assert model.answered["pre"] == 300
    assert model.answered["post"] == int((frame["wave"] == "post").sum()) < 300
    completers = fit_waves(frame[complete], WAVES)
    assert completers.participants == int(complete.sum() / 3) < model.participants
    ours, theirs = model.contrast("post"), completers.contrast("post")
    assert ours is not None and theirs is not None
    assert ours.change.se < theirs.change.se  # type: ignore[operator]
    only_pre = frame[frame["participant"] == "P0000"].assign(participant="extra")
    only_pre = only_pre[only_pre["wave"] == "pre"]
    larger = fit_waves(pd.concat([frame, only_pre]), WAVES)
    assert larger.participants == 301 and larger.observations == len(frame) + 1


def test_a_wave_with_too_few_values_is_left_out_and_said_so() -> None:
    frame, _ = simulated(people=40)
    frame = frame[(frame["wave"] != "followup") | (frame["participant"] < "P0002")]
    model = fit_waves(frame, WAVES)
    assert model.waves == ("pre", "post")
    assert any("followup" in note for note in model.notes)
    nothing = fit_waves(frame[frame["wave"] == "pre"], WAVES)
    assert not nothing.fitted and "two waves" in (nothing.reason or "")


def test_two_arms_recover_the_difference_in_change() -> None:
    frame, arms = simulated(people=800, arm_effect=1.5, seed=21)
    model = fit_waves(frame, WAVES, arms)
    assert model.arms == (INTERVENTION, COMPARISON)
    for difference in model.differences:
        assert difference.difference.ci_low < 1.5 < difference.difference.ci_high  # type: ignore[operator]
        assert difference.g is not None and difference.g > 0
        assert difference.g_ci_low < difference.g < difference.g_ci_high  # type: ignore[operator]
    assert model.interaction is not None and model.interaction.df == 2
    assert model.interaction.p is not None and model.interaction.p < 1e-6
    within = model.contrast("post", COMPARISON)
    treated = model.contrast("post", INTERVENTION)
    assert within is not None and treated is not None
    assert abs(within.change.value - 2.0) < 3 * within.change.se  # type: ignore[operator]
    assert abs(treated.change.value - 3.5) < 3 * treated.change.se  # type: ignore[operator]


def test_every_variable_corrected_and_set_beside_the_paired_analysis() -> None:
    observations: list[Observation] = []
    rng = np.random.default_rng(8)
    shifts = {"big": 1.5, "small": 0.2, "none": 0.0}
    for variable, shift in shifts.items():
        for i in range(60):
            person = rng.normal(0, 1)
            for wave in WAVES:
                if wave != "pre" and i >= 45:
                    continue
                bump = shift if wave != "pre" else 0.0
                observations.append(Observation(f"P{i:02}", wave, variable,
                                                float(10 + person + bump + rng.normal(0, 1))))
    paired = analyse(observations, better={"big": "higher"})
    seen: list[str] = []
    report = analyse_waves(frame_of(observations), WAVES, paired=paired,
                           better={"big": "higher"},
                           progress=lambda i, n, name: seen.append(f"{i}/{n} {name}"))
    assert seen == ["1/3 big", "2/3 none", "3/3 small"]
    assert report.design == "single group" and report.design_note == SINGLE_GROUP
    raw = [m.contrast("post").change.p for m in report.models]  # type: ignore[union-attr]
    adjusted = [m.contrast("post").p_holm for m in report.models]  # type: ignore[union-attr]
    assert adjusted == pytest.approx(holm(raw))  # type: ignore[arg-type]
    big = report.models[0]
    assert big.participants == 60 and big.observations == 60 + 45 * 2
    assert big.contrast("post").verdict == "improved"  # type: ignore[union-attr]
    line = report.sensitivity[0]
    assert (line.completers, line.everyone) == (45, 60)
    assert line.completers_p_holm == next(r.p_holm for r in paired.rows if r.variable == "big")
    assert not line.disagree
    assert report.summary.startswith("Mixed model on everyone (intention to treat): 1 of 3")


def test_a_disagreement_in_significance_is_flagged() -> None:
    # Completers barely change; those who left started lower, and with little spread
    # between people the model's first-wave mean takes them in, so on everyone the change
    # is significant.
    rows = []
    rng = np.random.default_rng(3)
    for i in range(60):
        left = i >= 30
        person = rng.normal(0, 0.3)
        pre = 10 + person + rng.normal(0, 1) - (1.5 if left else 0)
        rows.append(Observation(f"P{i:02}", "pre", "v", float(pre)))
        if not left:
            rows.append(Observation(f"P{i:02}", "post", "v",
                                    float(10 + person + 0.1 + rng.normal(0, 1))))
    paired = analyse(rows)
    report = analyse_waves(frame_of(rows), ["pre", "post"], paired=paired)
    line = report.sensitivity[0]
    assert (line.completers, line.everyone) == (30, 60)
    assert line.completers_p_holm is not None and line.completers_p_holm > 0.05
    assert line.everyone_p_holm is not None and line.everyone_p_holm < 0.05
    assert line.disagree and report.disagreements == 1


def test_arms_report_round_trips_through_the_cache_json() -> None:
    frame, arms = simulated(people=120, arm_effect=1.0)
    frame = frame.assign(variable="v")
    report = analyse_waves(frame, WAVES, arms=arms)
    assert report.design == "two arms" and report.arms == (INTERVENTION, COMPARISON)
    kept = json.loads(json.dumps(_plain(asdict(report))))
    assert report_from(kept) == report
    assert {m.arm for m in report.models[0].means} == {INTERVENTION, COMPARISON, ALL}
