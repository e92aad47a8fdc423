"""Reliable change (Jacobson & Truax 1991): whether one participant's change is larger than
the measure's own noise, given the SD at the first wave and the instrument's reliability.

    SE    = SD_pre · √(1 - r)          standard error of measurement
    S_diff = √(2 · SE²)                 standard error of a difference of two scores
    RCI   = (x_post - x_pre) / S_diff   reliable when |RCI| > 1.96
"""

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from app.research.outcomes import Observation, OutcomeError, Reliability
from app.surveys.definitions import Instrument

CRITICAL = 1.96
IMPROVED = "reliably improved"
UNCHANGED = "no reliable change"
WORSENED = "reliably worse"
CHANGED = "reliably changed"  # a reliable change in a variable without a better direction


@dataclass(frozen=True)
class ReliableChange:
    variable: str
    reliability: float
    sd_pre: float
    se: float
    s_diff: float
    rci: dict[str, float]               # per participant with a value at both waves
    classes: dict[str, str]             # per participant: one of the labels above
    improved: int
    unchanged: int
    worsened: int
    changed: int = 0                    # reliable changes with no better direction
    label: str = ""
    source: str = ""                    # where the reliability comes from

    @property
    def threshold(self) -> float:
        """The smallest change, in score points, that counts as reliable."""
        return CRITICAL * self.s_diff


def reliable_change(variable: str, pre: Mapping[str, float | None],
                    post: Mapping[str, float | None], *, reliability: float,
                    better: str | None, sd_pre: float | None = None) -> ReliableChange:
    """RCI of every participant with both values. `sd_pre` defaults to the sample SD of
    every value at the first wave (not only of completers), as Jacobson & Truax use the
    pretreatment group's SD."""
    if not 0 <= reliability < 1:
        raise OutcomeError(f"{variable}: reliability {reliability:g} must be at least 0 and "
                           "below 1")
    sd = _sd_pre(variable, pre) if sd_pre is None else sd_pre
    se = sd * math.sqrt(1 - reliability)
    s_diff = math.sqrt(2 * se * se)
    if s_diff == 0:
        raise OutcomeError(f"{variable}: the first wave has no spread, so reliable change is "
                           "undefined")
    both = sorted(p for p, value in pre.items()
                  if value is not None and post.get(p) is not None)
    rci = {p: (float(post[p]) - float(pre[p])) / s_diff for p in both}  # type: ignore[arg-type]
    classes = {p: classify(value, better) for p, value in rci.items()}
    counted = list(classes.values())
    return ReliableChange(variable, reliability, sd, se, s_diff, rci, classes,
                          improved=counted.count(IMPROVED), unchanged=counted.count(UNCHANGED),
                          worsened=counted.count(WORSENED), changed=counted.count(CHANGED))


def classify(rci: float, better: str | None) -> str:
    if abs(rci) <= CRITICAL:
        return UNCHANGED
    if better is None:
        return CHANGED
    if better not in ("higher", "lower"):
        raise OutcomeError(f"better direction {better!r}: say 'higher' or 'lower'")
    return IMPROVED if (rci > 0) == (better == "higher") else WORSENED


def _sd_pre(variable: str, pre: Mapping[str, float | None]) -> float:
    values = np.array([v for v in pre.values() if v is not None and math.isfinite(v)],
                      dtype=float)
    if len(values) < 2:
        raise OutcomeError(f"{variable}: the SD at the first wave needs at least 2 values")
    return float(values.std(ddof=1))


def reliable_changes(observations: Iterable[Observation], found: Sequence[Reliability], *,
                     better: Mapping[str, str], labels: Mapping[str, str] = {},
                     declared: Mapping[str, float] = {},
                     pre: str = "pre", post: str = "post") -> list[ReliableChange]:
    """Reliable change of every variable whose instrument has a Cronbach's alpha at `pre`
    (a variable `instrument.score` takes the alpha of `instrument.score`, else of
    `instrument`), or else a reliability declared in its instrument file (`declared`, by
    variable); variables with neither are left out."""
    waves: dict[str, dict[str, dict[str, float | None]]] = defaultdict(
        lambda: {pre: {}, post: {}})
    for obs in observations:
        if obs.wave in (pre, post):
            waves[obs.variable][obs.wave][obs.participant] = obs.value
    alphas = {item.instrument: item for item in found if item.wave == pre
              and item.alpha is not None and 0 <= item.alpha < 1}
    results = []
    for variable, values in waves.items():
        alpha = alphas.get(variable) or alphas.get(variable.partition(".")[0])
        if alpha is not None and alpha.alpha is not None:
            r, source = alpha.alpha, f"Cronbach's alpha at {pre} (n = {alpha.n})"
        elif variable in declared:
            r, source = declared[variable], "declared in the instrument file"
        else:
            continue
        try:
            change = reliable_change(variable, values[pre], values[post], reliability=r,
                                     better=better.get(variable))
        except OutcomeError:
            continue
        results.append(replace(change, label=labels.get(variable, variable), source=source))
    return results


def declared_reliabilities(instruments: Iterable[Instrument]) -> dict[str, float]:
    """The `reliability:` of each score that declares one, by variable `instrument.score`."""
    return {f"{instrument.id}.{score.name}": score.reliability for instrument in instruments
            for score in instrument.scores if score.reliability is not None}


MEMBER_WORDS = {
    IMPROVED: "improved by more than the measure's usual noise",
    WORSENED: "went down by more than the measure's usual noise",
    CHANGED: "changed by more than the measure's usual noise",
    UNCHANGED: "stayed within the measure's usual noise",
}


def in_plain_words(label: str) -> str:
    """The member's page words for a classification label."""
    return MEMBER_WORDS[label]
