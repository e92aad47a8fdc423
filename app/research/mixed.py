"""Every wave at once: per variable a linear mixed model fitted by REML (the criterion
statsmodels' `MixedLM` and lme4's `lmer` maximise; see `fit_mixed`) on every value that
exists (intention to treat), beside the paired completers' analysis of
`app.research.outcomes`. Every definition is written out in docs/research.md.

    value ~ wave + (1 | participant)                              one group
    value ~ wave + arm + wave:arm + (1 | participant)             two arms

The wave is treatment-coded against the study's first wave; the arm is 1 for the
intervention arm and 0 for the comparison (wait-list) arm. `fit_trend` takes a numeric time
instead of waves and goes through the same `fit_mixed`, which is how the lme4 `sleepstudy`
reference is checked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import optimize, stats

from app.research.outcomes import CONFIDENCE, Observation, OutcomeError, OutcomeReport, holm

if TYPE_CHECKING:
    import pandas as pd

INTERVENTION = "intervention"
COMPARISON = "comparison"
ARMS = (INTERVENTION, COMPARISON)
ALL = "all"                 # the contrast over everyone, arms weighted by their participants
MIN_ANSWERED = 3            # a wave enters a variable's model with at least this many values
MIN_PER_ARM = 2             # ... and, with arms, at least this many in each arm
Z = float(stats.norm.ppf(0.5 + CONFIDENCE / 2))
SINGLE_GROUP = ("Single-group design: every participant followed the journey, with no "
                "comparison group, so a change over the waves cannot be attributed to the "
                "journey alone (time, retesting and regression to the mean change scores too).")
TWO_ARMS = ("Two-arm design: cohorts marked as the intervention arm against cohorts marked as "
            "the comparison (wait-list) arm. The difference in change between the arms, and "
            "the wave x arm interaction test, speak to the journey's own effect.")

Progress = Callable[[int, int, str], None]


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A linear combination of the fixed effects: value, SE, 95% Wald CI, z and p."""

    value: float | None
    se: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    z: float | None = None
    p: float | None = None


@dataclass(frozen=True)
class WaveMean:
    """The estimated marginal mean of a wave (in one arm, or over everyone)."""

    wave: str
    arm: str
    answered: int
    mean: Estimate


@dataclass(frozen=True)
class Contrast:
    """A later wave against the first: the model's change, with d = change / SD at the
    first wave and its interval (the change's CI over the same SD)."""

    wave: str
    arm: str
    change: Estimate
    d: float | None = None
    d_ci_low: float | None = None
    d_ci_high: float | None = None
    p_holm: float | None = None
    verdict: str = ""


@dataclass(frozen=True)
class ArmDifference:
    """Intervention change minus comparison change (wave x arm), with Hedges' g: Morris's
    (2008) d_ppc2, the difference over the pooled SD at the first wave, bias-corrected."""

    wave: str
    difference: Estimate
    g: float | None = None
    g_ci_low: float | None = None
    g_ci_high: float | None = None
    p_holm: float | None = None


@dataclass(frozen=True)
class Interaction:
    """The joint Wald test that every wave x arm term is zero."""

    chi2: float | None
    df: int
    p: float | None
    p_holm: float | None = None


@dataclass(frozen=True)
class WaveModel:
    variable: str
    label: str
    better: str | None
    waves: tuple[str, ...]                  # in the model; the first is the reference
    arms: tuple[str, ...]                   # () for a single group
    participants: int                       # with at least one value in the model
    observations: int
    answered: dict[str, int]                # participants with a value, per wave asked for
    means: list[WaveMean] = field(default_factory=list)
    contrasts: list[Contrast] = field(default_factory=list)
    differences: list[ArmDifference] = field(default_factory=list)
    interaction: Interaction | None = None
    sd_first: float | None = None           # the SD the effect sizes are over
    participant_variance: float | None = None
    residual_variance: float | None = None
    converged: bool = True
    reason: str | None = None               # why there is no model at all
    notes: tuple[str, ...] = ()

    @property
    def fitted(self) -> bool:
        return self.reason is None

    def contrast(self, wave: str, arm: str = ALL) -> Contrast | None:
        return next((c for c in self.contrasts if c.wave == wave and c.arm == arm), None)

    def mean(self, wave: str, arm: str = ALL) -> WaveMean | None:
        return next((m for m in self.means if m.wave == wave and m.arm == arm), None)


@dataclass(frozen=True)
class Sensitivity:
    """The paired test on completers against the model on everyone, first wave → `wave`."""

    variable: str
    label: str
    wave: str
    completers: int
    completers_change: float | None
    completers_p_holm: float | None
    everyone: int
    everyone_change: float | None
    everyone_p_holm: float | None
    disagree: bool


@dataclass(frozen=True)
class WaveReport:
    models: list[WaveModel]
    waves: tuple[str, ...]
    arms: tuple[str, ...]
    design: str                             # "single group" or "two arms"
    design_note: str
    summary: str
    sensitivity: list[Sensitivity] = field(default_factory=list)
    alpha: float = 0.05

    @property
    def later_waves(self) -> tuple[str, ...]:
        return self.waves[1:]

    @property
    def disagreements(self) -> int:
        return sum(line.disagree for line in self.sensitivity)


# --- the fit ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MixedFit:
    names: tuple[str, ...]
    params: np.ndarray
    cov: np.ndarray                          # of the fixed effects
    participant_variance: float
    residual_variance: float
    participants: int
    observations: int
    converged: bool
    notes: tuple[str, ...]

    def estimate(self, weights: Mapping[str, float]) -> Estimate:
        vector = np.array([weights.get(name, 0.0) for name in self.names])
        return _estimate(vector, self.params, self.cov)

    def coefficient(self, name: str) -> Estimate:
        return self.estimate({name: 1.0})


def fit_mixed(values: np.ndarray, design: np.ndarray, groups: np.ndarray,
              names: Sequence[str]) -> MixedFit:
    """The REML fit of `values ~ design + (1 | groups)`: what statsmodels' `MixedLM(values,
    design, groups).fit(reml=True)` and lme4's `lmer(..., REML = TRUE)` maximise, computed
    exactly (`reml_fit`).

    The covariance of the fixed effects is lme4's, σ²(X'V*⁻¹X)⁻¹ at the estimated variances;
    statsmodels inverts the observed information of all the parameters together instead,
    which gives standard errors up to about 0.5 % apart when waves are missing (the two
    agree exactly on complete data). Why Telos does not call statsmodels here: its fit loops
    over the participants in Python, about 4 s a variable at 10,000 participants, where this
    takes 15 ms; docs/decisions.md ("The mixed model is fitted exactly").
    """
    codes = np.unique(groups, return_inverse=True)[1].ravel()
    fit = reml_fit(values, design, codes)
    notes = []
    if fit.at_boundary:
        notes.append(BOUNDARY)
    if not fit.converged:
        notes.append("The search for the between-participant variance did not converge.")
    return MixedFit(
        names=tuple(names), params=fit.beta, cov=fit.scale * np.linalg.inv(fit.information),
        participant_variance=fit.ratio * fit.scale, residual_variance=fit.scale,
        participants=int(codes.max()) + 1, observations=len(values), converged=fit.converged,
        notes=tuple(notes))


BOUNDARY = ("The between-participant variance is estimated at (or near) zero: the model is "
            "then close to an ordinary regression.")
LOG_RATIO_BOUNDS = (-18.0, 12.0)    # r = τ²/σ² from 1.5e-8 to 1.6e5


@dataclass(frozen=True)
class RemlFit:
    beta: np.ndarray            # the fixed effects
    ratio: float                # r = τ²/σ²
    scale: float                # σ²
    information: np.ndarray     # X'V*⁻¹X, V* = I + rJ per group: cov(β) = σ² times its inverse
    converged: bool
    at_boundary: bool


def reml_fit(values: np.ndarray, design: np.ndarray, codes: np.ndarray) -> RemlFit:
    """The REML estimates of a random-intercept model, exact for any group sizes.

    With V_i = σ²(I + rJ) for a group of n_i values, V_i⁻¹ = (I - w_i J)/σ² with
    w_i = r/(1 + n_i r), so X'V⁻¹X, X'V⁻¹y and the residual sum of squares are sums over
    groups of a few per-group totals. β and σ² then have closed forms given r, and the
    profiled REML criterion (n - p) log RSS + Σ log(1 + n_i r) + log det X'V*⁻¹X is minimised
    over log r alone (Brent, bounded).
    """
    n_groups = int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=n_groups).astype(float)
    sums = np.column_stack([np.bincount(codes, weights=design[:, j], minlength=n_groups)
                            for j in range(design.shape[1])])
    totals = np.bincount(codes, weights=values, minlength=n_groups)
    xtx, xty, yty = design.T @ design, design.T @ values, float(values @ values)
    n, p = design.shape

    def parts(ratio: float) -> tuple[np.ndarray, np.ndarray, float]:
        w = ratio / (1 + sizes * ratio)
        a = xtx - (sums * w[:, None]).T @ sums
        b = xty - sums.T @ (w * totals)
        beta = np.linalg.solve(a, b)
        return a, beta, yty - float((w * totals * totals).sum()) - float(b @ beta)

    def deviance(log_ratio: float) -> float:
        ratio = math.exp(log_ratio)
        a, _, rss = parts(ratio)
        if rss <= 0:
            return math.inf
        return ((n - p) * math.log(rss) + float(np.log1p(sizes * ratio).sum())
                + float(np.linalg.slogdet(a)[1]))

    found = optimize.minimize_scalar(deviance, bounds=LOG_RATIO_BOUNDS, method="bounded",
                                     options={"xatol": 1e-10})
    ratio = math.exp(float(found.x))
    a, beta, rss = parts(ratio)
    return RemlFit(beta=beta, ratio=ratio, scale=rss / (n - p), information=a,
                   converged=bool(found.success), at_boundary=ratio < 1e-6)


def _estimate(vector: np.ndarray, params: np.ndarray, cov: np.ndarray) -> Estimate:
    value = float(vector @ params)
    variance = float(vector @ cov @ vector)
    if not math.isfinite(variance) or variance <= 0:
        return Estimate(value)
    se = math.sqrt(variance)
    z = value / se
    return Estimate(value, se, value - Z * se, value + Z * se, z, float(2 * stats.norm.sf(abs(z))))


def fit_trend(frame: pd.DataFrame, *, time: str, value: str = "value",
              participant: str = "participant") -> MixedFit:
    """`value ~ time + (1 | participant)` with a numeric time, through `fit_mixed`."""
    data = frame[[participant, time, value]].dropna()
    values = data[value].to_numpy(dtype=float)
    design = np.column_stack([np.ones(len(data)), data[time].to_numpy(dtype=float)])
    return fit_mixed(values, design, data[participant].to_numpy(), ("Intercept", time))


# --- one variable over the study's waves --------------------------------------------------


def fit_waves(frame: pd.DataFrame, waves: Sequence[str],
              arms: Mapping[str, str] | None = None, *, variable: str = "",
              label: str = "", better: str | None = None) -> WaveModel:
    """The mixed model of one variable: `frame` has the columns participant, wave, value
    (one row per participant and wave; a missing value is NaN); `waves` are the study's in
    order, the first the reference; `arms` maps a participant to "intervention" or
    "comparison" (a participant without an arm is then left out)."""
    data = _rows(frame, waves)
    notes: list[str] = []
    if arms is not None:
        data, arms_notes = _with_arms(data, arms)
        notes += arms_notes
    answered = {wave: int((data["wave"] == wave).sum()) for wave in waves}
    model = WaveModel(variable, label or variable, better, tuple(waves), (),
                      participants=int(data["participant"].nunique()),
                      observations=len(data), answered=answered)
    used = [wave for wave in waves if answered[wave] >= MIN_ANSWERED]
    if not waves or waves[0] not in used:
        first = waves[0] if waves else "first"
        return replace(model, reason=f"fewer than {MIN_ANSWERED} participants answered the "
                                     f"first wave ({first}), the one the others are compared "
                                     "with", notes=tuple(notes))
    if len(used) < 2:
        return replace(model, reason=f"only the first wave has at least {MIN_ANSWERED} "
                                     "values; the model needs two waves", notes=tuple(notes))
    left = [wave for wave in waves if wave not in used]
    if left:
        notes.append(f"Left out of the model, with fewer than {MIN_ANSWERED} values: "
                     f"{', '.join(left)}.")
    data = data[data["wave"].isin(used)]
    with_arms = arms is not None and _arms_usable(data, used)
    if arms is not None and not with_arms:
        notes.append(f"Fitted as one group: an arm has fewer than {MIN_PER_ARM} values at "
                     "some wave.")
    model = replace(model, waves=tuple(used), arms=ARMS if with_arms else (),
                    participants=int(data["participant"].nunique()), observations=len(data))
    try:
        return _fitted(model, data, with_arms, notes)
    except (np.linalg.LinAlgError, ValueError) as error:
        return replace(model, reason=f"the model could not be fitted ({error})",
                       notes=tuple(notes))


def _rows(frame: pd.DataFrame, waves: Sequence[str]) -> pd.DataFrame:
    data = frame[["participant", "wave", "value"]]
    data = data[data["wave"].isin(list(waves)) & np.isfinite(data["value"].astype(float))]
    doubled = data.duplicated(["participant", "wave"])
    if doubled.any():
        row = data[doubled].iloc[0]
        raise OutcomeError(f"participant {row['participant']!r} has two values in wave "
                           f"{row['wave']!r}")
    return data


def _with_arms(data: pd.DataFrame, arms: Mapping[str, str]) -> tuple[pd.DataFrame, list[str]]:
    arm = data["participant"].map(lambda p: arms.get(p))
    unknown = sorted({a for a in arm.dropna() if a not in ARMS})
    if unknown:
        raise OutcomeError(f"arm {unknown[0]!r}: say {INTERVENTION!r} or {COMPARISON!r}")
    without = data.loc[arm.isna(), "participant"].nunique()
    notes = ([f"{without} participant{'' if without == 1 else 's'} in no arm left out."]
             if without else [])
    return data.assign(arm=arm)[arm.notna()], notes


def _arms_usable(data: pd.DataFrame, waves: Sequence[str]) -> bool:
    counts = data.groupby(["wave", "arm"]).size()
    return all(counts.get((wave, arm), 0) >= MIN_PER_ARM for wave in waves for arm in ARMS)


def _design(data: pd.DataFrame, waves: Sequence[str],
            with_arms: bool) -> tuple[np.ndarray, list[str]]:
    wave = data["wave"].to_numpy()
    columns = [np.ones(len(data))] + [(wave == w).astype(float) for w in waves[1:]]
    names = ["Intercept"] + [f"wave[{w}]" for w in waves[1:]]
    if with_arms:
        treated = (data["arm"].to_numpy() == INTERVENTION).astype(float)
        columns += [treated] + [treated * (wave == w) for w in waves[1:]]
        names += ["arm"] + [f"wave[{w}]:arm" for w in waves[1:]]
    return np.column_stack(columns), names


def _fitted(model: WaveModel, data: pd.DataFrame, with_arms: bool,
            notes: list[str]) -> WaveModel:
    waves = model.waves
    design, names = _design(data, waves, with_arms)
    fit = fit_mixed(data["value"].to_numpy(dtype=float), design,
                    data["participant"].to_numpy(), names)
    notes += list(fit.notes)
    if not fit.converged:
        notes.append("The REML search did not converge; read these estimates with care.")
    arm_of = (data.drop_duplicates("participant")["arm"].value_counts().to_dict()
              if with_arms else {})
    share = {arm: arm_of.get(arm, 0) / max(1, sum(arm_of.values())) for arm in ARMS}
    first = data[data["wave"] == waves[0]]
    sd, n_by_arm = _first_sd(first, with_arms)
    means, contrasts = [], []
    groups = [*ARMS, ALL] if with_arms else [ALL]
    for arm in groups:
        for wave in waves:
            answered = (data["wave"] == wave) & (data["arm"] == arm if arm != ALL else True)
            means.append(WaveMean(wave, arm, int(answered.sum()),
                                  fit.estimate(_cell(wave, arm, waves, with_arms, share))))
        for wave in waves[1:]:
            change = fit.estimate(_change(wave, arm, with_arms, share))
            contrasts.append(Contrast(wave, arm, change, *_standardised(change, sd)))
    differences = []
    if with_arms:
        correction = 1 - 3 / (4 * (sum(n_by_arm.values()) - 2) - 1)
        for wave in waves[1:]:
            difference = fit.coefficient(f"wave[{wave}]:arm")
            g = _standardised(difference, sd, correction)
            differences.append(ArmDifference(wave, difference, *g))
    return replace(
        model, means=means, contrasts=contrasts, differences=differences,
        interaction=_interaction(fit, waves) if with_arms else None, sd_first=sd,
        participant_variance=fit.participant_variance,
        residual_variance=fit.residual_variance, converged=fit.converged,
        notes=tuple(dict.fromkeys(notes)))


def _cell(wave: str, arm: str, waves: Sequence[str], with_arms: bool,
          share: Mapping[str, float]) -> dict[str, float]:
    weights = {"Intercept": 1.0}
    if wave != waves[0]:
        weights[f"wave[{wave}]"] = 1.0
    if with_arms:
        treated = share[INTERVENTION] if arm == ALL else float(arm == INTERVENTION)
        weights["arm"] = treated
        if wave != waves[0]:
            weights[f"wave[{wave}]:arm"] = treated
    return weights


def _change(wave: str, arm: str, with_arms: bool, share: Mapping[str, float]) -> dict[str, float]:
    weights = {f"wave[{wave}]": 1.0}
    if with_arms:
        weights[f"wave[{wave}]:arm"] = (share[INTERVENTION] if arm == ALL
                                        else float(arm == INTERVENTION))
    return weights


def _first_sd(first: pd.DataFrame, with_arms: bool) -> tuple[float | None, dict[str, int]]:
    """The SD at the first wave over everyone who answered it, pooled within arms."""
    if not with_arms:
        values = first["value"].to_numpy(dtype=float)
        sd = float(values.std(ddof=1)) if len(values) >= 2 else None
        return (sd if sd else None), {ALL: len(values)}
    sizes, squares = {}, 0.0
    for arm in ARMS:
        values = first.loc[first["arm"] == arm, "value"].to_numpy(dtype=float)
        sizes[arm] = len(values)
        squares += float(((values - values.mean()) ** 2).sum())
    pooled = math.sqrt(squares / (sum(sizes.values()) - 2))
    return (pooled if pooled else None), sizes


def _standardised(estimate: Estimate, sd: float | None,
                  correction: float = 1.0) -> tuple[float | None, float | None, float | None]:
    if sd is None or estimate.value is None:
        return None, None, None
    scale = correction / sd
    low = estimate.ci_low * scale if estimate.ci_low is not None else None
    high = estimate.ci_high * scale if estimate.ci_high is not None else None
    return estimate.value * scale, low, high


def _interaction(fit: MixedFit, waves: Sequence[str]) -> Interaction:
    index = [fit.names.index(f"wave[{wave}]:arm") for wave in waves[1:]]
    beta = fit.params[index]
    cov = fit.cov[np.ix_(index, index)]
    try:
        chi2 = float(beta @ np.linalg.solve(cov, beta))
    except np.linalg.LinAlgError:
        return Interaction(None, len(index), None)
    return Interaction(chi2, len(index), float(stats.chi2.sf(chi2, len(index))))


# --- every variable -----------------------------------------------------------------------


def frame_of(observations: Iterable[Observation]) -> pd.DataFrame:
    """The long frame `analyse_waves` reads: participant, wave, variable, value."""
    import pandas as pd

    from app.research.long_table import LongTable

    if isinstance(observations, LongTable):
        table = observations
        return pd.DataFrame({
            "participant": np.asarray(table.participants, dtype=object)[table.participant],
            "wave": np.asarray(table.waves, dtype=object)[table.wave],
            "variable": np.asarray(table.variables, dtype=object)[table.variable],
            "value": np.asarray(table.value, dtype=float)})
    rows = [(o.participant, o.wave, o.variable, math.nan if o.value is None else o.value)
            for o in observations]
    return pd.DataFrame(rows, columns=["participant", "wave", "variable", "value"])


def analyse_waves(frame: pd.DataFrame, waves: Sequence[str], *,
                  arms: Mapping[str, str] | None = None, labels: Mapping[str, str] = {},
                  better: Mapping[str, str] = {}, alpha: float = 0.05,
                  paired: OutcomeReport | None = None,
                  progress: Progress | None = None) -> WaveReport:
    """`fit_waves` for every variable of a long frame (participant, wave, variable, value),
    Holm-corrected across variables per contrast, beside the paired report when given."""
    study_arms = _study_arms(arms)
    variables = sorted(frame["variable"].unique())
    grouped = dict(tuple(frame.groupby("variable", sort=False)))
    models = []
    for index, name in enumerate(variables, start=1):
        models.append(fit_waves(grouped[name], waves, arms if study_arms else None,
                                variable=name, label=labels.get(name, name),
                                better=better.get(name)))
        if progress is not None:
            progress(index, len(variables), name)
    models = _holm_corrected(models, alpha)
    sensitivity = _sensitivity(models, paired, alpha) if paired is not None else []
    return WaveReport(
        models=models, waves=tuple(waves), arms=study_arms,
        design="two arms" if study_arms else "single group",
        design_note=TWO_ARMS if study_arms else SINGLE_GROUP,
        summary=_summary(models, tuple(waves), bool(study_arms), alpha),
        sensitivity=sensitivity, alpha=alpha)


def _study_arms(arms: Mapping[str, str] | None) -> tuple[str, ...]:
    present = set((arms or {}).values())
    return ARMS if all(arm in present for arm in ARMS) else ()


def _holm_corrected(models: list[WaveModel], alpha: float) -> list[WaveModel]:
    """Holm across variables, separately for each contrast (wave and arm), each arm
    difference and the interaction test."""
    contrast_keys = {(c.wave, c.arm) for m in models for c in m.contrasts}
    adjusted: dict[tuple[str, str, str], dict[str, float]] = {}
    for wave, arm in contrast_keys:
        found = {m.variable: c.change.p for m in models
                 if (c := m.contrast(wave, arm)) is not None and c.change.p is not None}
        adjusted[("contrast", wave, arm)] = _holm_of(found)
    for wave in {d.wave for m in models for d in m.differences}:
        found = {m.variable: d.difference.p for m in models for d in m.differences
                 if d.wave == wave and d.difference.p is not None}
        adjusted[("difference", wave, "")] = _holm_of(found)
    interactions = {m.variable: m.interaction.p for m in models
                    if m.interaction is not None and m.interaction.p is not None}
    adjusted[("interaction", "", "")] = _holm_of(interactions)
    return [_corrected(model, adjusted, alpha) for model in models]


def _holm_of(pvalues: Mapping[str, float]) -> dict[str, float]:
    names = list(pvalues)
    return dict(zip(names, holm([pvalues[name] for name in names]), strict=True))


def _corrected(model: WaveModel, adjusted: Mapping[tuple[str, str, str], dict[str, float]],
               alpha: float) -> WaveModel:
    contrasts = []
    for c in model.contrasts:
        p_holm = adjusted[("contrast", c.wave, c.arm)].get(model.variable)
        contrasts.append(replace(c, p_holm=p_holm,
                                 verdict=_verdict(c.change.value, p_holm, model.better, alpha)))
    differences = [replace(d, p_holm=adjusted[("difference", d.wave, "")].get(model.variable))
                   for d in model.differences]
    interaction = model.interaction
    if interaction is not None:
        interaction = replace(
            interaction, p_holm=adjusted[("interaction", "", "")].get(model.variable))
    return replace(model, contrasts=contrasts, differences=differences,
                   interaction=interaction)


def _verdict(change: float | None, p_holm: float | None, better: str | None,
             alpha: float) -> str:
    if change is None or p_holm is None:
        return ""
    if p_holm >= alpha or change == 0:
        return "no significant change"
    if better is None:
        return "changed"
    return "improved" if (change > 0) == (better == "higher") else "worsened"


def _sensitivity(models: list[WaveModel], paired: OutcomeReport,
                 alpha: float) -> list[Sensitivity]:
    rows = {row.variable: row for row in paired.rows}
    lines = []
    for model in models:
        row = rows.get(model.variable)
        contrast = model.contrast(paired.post) if model.waves[:1] == (paired.pre,) else None
        if row is None:
            continue
        p_model = contrast.p_holm if contrast is not None else None
        disagree = (row.p_holm is not None and p_model is not None
                    and (row.p_holm < alpha) != (p_model < alpha))
        lines.append(Sensitivity(
            model.variable, model.label, paired.post, row.n, row.mean_change, row.p_holm,
            model.participants if contrast is not None else 0,
            contrast.change.value if contrast is not None else None, p_model, disagree))
    return lines


def _summary(models: list[WaveModel], waves: tuple[str, ...], with_arms: bool,
             alpha: float) -> str:
    fitted = [m for m in models if m.fitted]
    if len(waves) < 2:
        return "The mixed model needs at least two waves."
    parts = []
    for wave in waves[1:]:
        if with_arms:
            differing = sum(1 for m in fitted for d in m.differences
                            if d.wave == wave and d.p_holm is not None and d.p_holm < alpha)
            parts.append(f"{differing} of {len(models)} variables changed differently in the "
                         f"two arms from {waves[0]} to {wave}")
        else:
            improved = sum(1 for m in fitted
                           if (c := m.contrast(wave)) is not None and c.verdict == "improved")
            parts.append(f"{improved} of {len(models)} variables improved significantly from "
                         f"{waves[0]} to {wave}")
    line = ("Mixed model on everyone (intention to treat): " + "; ".join(parts)
            + f", after Holm correction (alpha = {alpha:g})")
    unfitted = len(models) - len(fitted)
    if unfitted:
        line += f"; {unfitted} could not be modelled"
    return line + "."


# --- kept as JSON (the outcome cache) -----------------------------------------------------


def report_from(data: Mapping[str, Any]) -> WaveReport:
    """A `WaveReport` from `dataclasses.asdict` of one (as the outcome cache keeps it)."""
    return WaveReport(**{
        **data, "waves": tuple(data["waves"]), "arms": tuple(data["arms"]),
        "models": [_model_from(model) for model in data["models"]],
        "sensitivity": [Sensitivity(**line) for line in data.get("sensitivity", [])]})


def _model_from(data: Mapping[str, Any]) -> WaveModel:
    interaction = data.get("interaction")
    return WaveModel(**{
        **data, "waves": tuple(data["waves"]), "arms": tuple(data["arms"]),
        "notes": tuple(data.get("notes", ())),
        "means": [WaveMean(**{**m, "mean": Estimate(**m["mean"])}) for m in data["means"]],
        "contrasts": [Contrast(**{**c, "change": Estimate(**c["change"])})
                      for c in data["contrasts"]],
        "differences": [ArmDifference(**{**d, "difference": Estimate(**d["difference"])})
                        for d in data["differences"]],
        "interaction": Interaction(**interaction) if interaction else None})
