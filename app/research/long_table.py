"""Long observations as columns (codes and a float array), and each variable's two waves
as arrays: what the outcome statistics are computed from, for files and the database alike.

The arrays keep the orders the statistics always used, so every sum is the same: pairs in
participant order, and the baseline of the attrition table in the order of the rows.
"""

import math
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from app.research.outcomes import Observation


@dataclass(frozen=True)
class LongTable:
    """One row per (participant, wave, variable) value; NaN where the value is missing.
    Each name list holds every code its column uses, and only those."""

    participants: list[str]
    waves: list[str]
    variables: list[str]
    participant: np.ndarray
    wave: np.ndarray
    variable: np.ndarray
    value: np.ndarray

    def __len__(self) -> int:
        return len(self.value)

    def __iter__(self) -> Iterator["Observation"]:
        return observations_of(self)

    @classmethod
    def of_rows(cls, participants: Iterable[str], waves: Iterable[str],
                variables: Iterable[str], values: Iterable[float | None]) -> "LongTable":
        participant_codes, participant_names = encode(participants)
        wave_codes, wave_names = encode(waves)
        variable_codes, variable_names = encode(variables)
        numbers = np.array([np.nan if value is None else value for value in values], dtype=float)
        return cls(participant_names, wave_names, variable_names, participant_codes,
                   wave_codes, variable_codes, missing_as_nan(numbers))


@dataclass(frozen=True)
class VariableWaves:
    before: np.ndarray    # participants with a value at both waves, in participant order
    after: np.ndarray
    stayed: np.ndarray    # baseline values, in row order, of those with a post value
    left: np.ndarray      # ... and of those without


def encode(names: Iterable[Hashable]) -> tuple[np.ndarray, list]:
    index: dict[Hashable, int] = {}
    codes = [index.setdefault(name, len(index)) for name in names]
    return np.array(codes, dtype=np.int64), list(index)


def missing_as_nan(values: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(values), values, np.nan)


def first_repeat(table: LongTable) -> int | None:
    """The first row whose participant, wave and variable an earlier row already has."""
    keys = _keys(table)
    ordered = np.sort(keys, kind="stable")
    if not (ordered[1:] == ordered[:-1]).any():
        return None
    _unique, first = np.unique(keys, return_index=True)
    seen = np.zeros(len(keys), dtype=bool)
    seen[first] = True
    return int(np.flatnonzero(~seen)[0])


def _keys(table: LongTable) -> np.ndarray:
    waves, people = len(table.waves), len(table.participants)
    return (table.variable * waves + table.wave) * people + table.participant


def by_variable(table: LongTable, *, pre: str, post: str) -> dict[str, VariableWaves]:
    """Each variable's pre and post values, variables in name order."""
    order = np.argsort(table.variable, kind="stable")
    bounds = np.searchsorted(table.variable[order], np.arange(len(table.variables) + 1))
    rank = _ranks(table.participants)
    pre_code, post_code = _code(table.waves, pre), _code(table.waves, post)
    found = {}
    for code in sorted(range(len(table.variables)), key=table.variables.__getitem__):
        rows = order[bounds[code]:bounds[code + 1]]
        found[table.variables[code]] = _waves(table, rows, rank, pre_code, post_code)
    return found


def _ranks(names: Sequence[str]) -> np.ndarray:
    rank = np.empty(len(names), dtype=np.int64)
    rank[sorted(range(len(names)), key=names.__getitem__)] = np.arange(len(names))
    return rank


def _code(names: list[str], name: str) -> int:
    return names.index(name) if name in names else -1


def _waves(table: LongTable, rows: np.ndarray, rank: np.ndarray,
           pre_code: int, post_code: int) -> VariableWaves:
    wave, who, value = table.wave[rows], table.participant[rows], table.value[rows]
    pre_value = _by_participant(len(rank), who, value, wave == pre_code)
    post_value = _by_participant(len(rank), who, value, wave == post_code)
    baseline = (wave == pre_code) & ~np.isnan(value)
    has_post = ~np.isnan(post_value[who[baseline]])
    paired = who[baseline][has_post]
    paired = paired[np.argsort(rank[paired], kind="stable")]
    return VariableWaves(before=pre_value[paired], after=post_value[paired],
                         stayed=value[baseline][has_post], left=value[baseline][~has_post])


def _by_participant(size: int, who: np.ndarray, value: np.ndarray,
                    chosen: np.ndarray) -> np.ndarray:
    spread = np.full(size, np.nan)
    spread[who[chosen]] = value[chosen]
    return spread


def observations_of(table: LongTable) -> Iterator["Observation"]:
    """The rows as `Observation`s, for code that still reads observations one by one."""
    from app.research.outcomes import Observation

    for participant, wave, variable, value in zip(
            table.participant.tolist(), table.wave.tolist(), table.variable.tolist(),
            table.value.tolist(), strict=True):
        yield Observation(table.participants[participant], table.waves[wave],
                          table.variables[variable], None if math.isnan(value) else value)


def frame(table: LongTable) -> "pd.DataFrame":
    """The long frame (participant, wave, variable, value; NaN where missing)."""
    import pandas as pd

    return pd.DataFrame({
        "participant": np.asarray(table.participants, dtype=object)[table.participant],
        "wave": np.asarray(table.waves, dtype=object)[table.wave],
        "variable": np.asarray(table.variables, dtype=object)[table.variable],
        "value": table.value})
