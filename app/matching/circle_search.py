"""Grouping one language's members into circles of given sizes: exact (CP-SAT) or local search.

A pool is the members who will meet in one language, the sizes of its circles
(fixed before the search, see circles.py) and the members a manager locked into
a given circle. The value of a grouping is the sum over circles of the circle's
mean pair value, where a pair's value is its similarity, minus FAR_PENALTY when
the two live more than the spread limit apart. docs/matching.md has the
formulation and the heuristic's measured distance from the optimum.
"""

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
from ortools.sat.python import cp_model

from app.matching.explain import hours_apart

# A pair farther apart than the limit counts as its similarity minus this: worse
# than any pair within the limit, since similarities lie between 0 and 1.
FAR_PENALTY = 2.0
# CP-SAT works with integers: pair values in ten-thousandths.
SCALE = 10_000
# Local search stops after this many passes over the members even if still improving.
MAX_PASSES = 25
GAIN_EPSILON = 1e-7
MAX_RESTARTS = 16
# Pools above this size look for swaps only near each member's NEIGHBOURS most similar.
FULL_SCAN_UP_TO = 1_500
NEIGHBOURS = 20
# CP-SAT stops after time_limit_s of its deterministic time (about a second of one
# core's work each, so a seed's answer does not depend on the machine's load), or
# after this many times that in wall-clock seconds, whichever comes first.
WALL_CAP = 4
RESTART_WORK = 2_000


@dataclass(frozen=True)
class Pool:
    rows: np.ndarray                 # each pool member's row in the similarity matrix
    offsets: np.ndarray              # hours from UTC, one per pool member
    sizes: tuple[int, ...]           # circle sizes, summing to the pool's size
    fixed: Mapping[int, int] = field(default_factory=dict)  # pool position -> circle (locked)
    people: tuple[int, ...] = ()     # each pool member's position in the caller's list

    def __len__(self) -> int:
        return len(self.rows)


def pair_values(similarity: np.ndarray, offsets: np.ndarray,
                max_spread_hours: float) -> np.ndarray:
    """The pool's pair values, written over its own similarity matrix (float32)."""
    values = similarity
    zones, index = np.unique(offsets, return_inverse=True)
    for a, left in enumerate(zones):
        far = np.flatnonzero(np.array([hours_apart(left, right) for right in zones])
                             > max_spread_hours + 1e-9)
        if len(far):
            rows = np.flatnonzero(index == a)
            columns = np.flatnonzero(np.isin(index, far))
            values[np.ix_(rows, columns)] -= np.float32(FAR_PENALTY)
    np.fill_diagonal(values, 0.0)
    return values


def circle_weights(sizes: Sequence[int]) -> np.ndarray:
    """1 / (pairs in the circle): a circle's pair sum times this is its mean pair value."""
    return np.array([2 / (s * (s - 1)) if s > 1 else 0.0 for s in sizes], dtype=np.float64)


def grouping_value(values: np.ndarray, circle: np.ndarray, sizes: Sequence[int]) -> float:
    """The sum over circles of each circle's mean pair value: what the search maximises."""
    weights = circle_weights(sizes)
    total = 0.0
    for k, inside in enumerate(_seats(circle, sizes)):
        inside = inside[inside >= 0]
        total += weights[k] * float(values[np.ix_(inside, inside)].sum(dtype=np.float64)) / 2
    return total


def greedy(values: np.ndarray, pool: Pool, rng: np.random.Generator) -> np.ndarray:
    """Circles filled one at a time, each with whoever adds most to the members already in it.

    Locked circles start from their locked members; every other circle starts
    from the next unplaced member in a seeded random order.
    """
    circle = np.full(len(pool), -1, dtype=np.int64)
    for position, slot in pool.fixed.items():
        circle[position] = slot
    order = [int(i) for i in rng.permutation(len(pool)) if int(i) not in pool.fixed]
    cursor = 0
    slots = sorted(range(len(pool.sizes)), key=lambda k: (k not in pool.fixed.values(), k))
    for slot in slots:
        inside = [int(n) for n in np.flatnonzero(circle == slot)]
        if not inside:
            while circle[order[cursor]] >= 0:
                cursor += 1
            inside = [order[cursor]]
            circle[order[cursor]] = slot
        pull = values[inside].sum(axis=0, dtype=np.float64)
        pull[circle >= 0] = -np.inf
        for _ in range(pool.sizes[slot] - len(inside)):
            chosen = int(np.argmax(pull))
            circle[chosen] = slot
            pull += values[chosen]
            pull[chosen] = -np.inf
    return circle


def local_search(values: np.ndarray, pool: Pool, circle: np.ndarray,
                 rng: np.random.Generator, max_passes: int = MAX_PASSES) -> np.ndarray:
    """Best-improvement swaps of two members of different circles until none improves.

    `pull[k, m]` is the sum of m's pair values with the members of circle k, so
    the gain of swapping i (in A) with each candidate j (in B) is a few vector
    operations. In a small pool every member is a candidate; in a large one only
    the members of the circles where i's NEIGHBOURS most similar members are.
    """
    circle = circle.copy()
    weights = circle_weights(pool.sizes)
    everyone = np.arange(len(pool))
    onehot = sp.csr_matrix((np.ones(len(pool)), (circle, everyone)),
                           shape=(len(pool.sizes), len(pool)))
    pull = np.asarray(onehot @ values, dtype=np.float64)
    own = pull[circle, everyone]
    seats = _seats(circle, pool.sizes)
    movable = np.ones(len(pool), dtype=bool)
    movable[list(pool.fixed)] = False
    near = _nearest(values) if len(pool) > FULL_SCAN_UP_TO else None
    for _ in range(max_passes):
        improved = False
        for i in rng.permutation(np.flatnonzero(movable)):
            a = circle[i]
            if near is None:
                others = everyone
            else:
                others = seats[np.unique(circle[near[i]])].ravel()
                others = others[others >= 0]
            there = circle[others]
            w_a, w_b = weights[a], weights[there]
            gain = (w_b * (pull[there, i] - own[others]) + w_a * (pull[a, others] - own[i])
                    - (w_a + w_b) * values[i, others])
            gain[~movable[others] | (there == a)] = -np.inf
            best = int(np.argmax(gain))
            if gain[best] <= GAIN_EPSILON:
                continue
            j = int(others[best])
            b = circle[j]
            pull[a] += values[j] - values[i]
            pull[b] += values[i] - values[j]
            circle[i], circle[j] = b, a
            seats[a][seats[a] == i] = j
            seats[b][seats[b] == j] = i
            for k in (a, b):
                inside = seats[k][seats[k] >= 0]
                own[inside] = pull[k, inside]
            improved = True
        if not improved:
            break
    return circle


def _seats(circle: np.ndarray, sizes: Sequence[int]) -> np.ndarray:
    """Circle -> its members, one row per circle, padded with -1."""
    seats = np.full((len(sizes), max(sizes)), -1, dtype=np.int64)
    order = np.argsort(circle, kind="stable")
    starts = np.concatenate(([0], np.cumsum(sizes)))
    for k in range(len(sizes)):
        seats[k, :sizes[k]] = order[starts[k]:starts[k + 1]]
    return seats


def _nearest(values: np.ndarray) -> np.ndarray:
    """Each member's NEIGHBOURS highest pair values (themselves excluded), in blocks of rows."""
    keep = min(NEIGHBOURS, len(values) - 1)
    near = np.empty((len(values), keep), dtype=np.int64)
    for start in range(0, len(values), 1_000):
        block = values[start:start + 1_000].copy()
        block[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        near[start:start + 1_000] = np.argpartition(-block, keep - 1, axis=1)[:, :keep]
    return near


def heuristic(values: np.ndarray, pool: Pool, seed: int, restarts: int | None = None) -> np.ndarray:
    """The best of a few seeded greedy starts, each improved by swaps.

    Small pools get more starts (about RESTART_WORK members' worth in all, at most
    MAX_RESTARTS); a pool of thousands gets one.
    """
    if restarts is None:
        restarts = max(1, min(MAX_RESTARTS, RESTART_WORK // max(1, len(pool))))
    best, best_value = None, -math.inf
    for start in range(restarts):
        rng = np.random.default_rng([seed, start])
        found = local_search(values, pool, greedy(values, pool, rng), rng)
        value = grouping_value(values, found, pool.sizes)
        if value > best_value + GAIN_EPSILON:
            best, best_value = found, value
    assert best is not None
    return best


def exact(values: np.ndarray, pool: Pool, *, hint: np.ndarray, time_limit_s: float,
          seed: int) -> tuple[np.ndarray, bool]:
    """The best grouping by CP-SAT (or the best found in the time), and whether it is proven.

    Variables x[i, k] (member i in circle k) and y[i, j, k] (both in k); see
    docs/matching.md. One worker and a deterministic time limit keep a seed's
    answer the same from run to run.
    """
    model = cp_model.CpModel()
    n, sizes = len(pool), pool.sizes
    allowed = _allowed_circles(pool)
    x = {(i, k): model.new_bool_var(f"x{i}_{k}") for i in range(n) for k in allowed[i]}
    for i in range(n):
        model.add_exactly_one(x[i, k] for k in allowed[i])
    for k, size in enumerate(sizes):
        model.add(sum(x[i, k] for i in range(n) if (i, k) in x) == size)
    weights = circle_weights(sizes)
    terms = []
    together: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for i in range(n):
        for j in range(i + 1, n):
            for k in sorted(set(allowed[i]) & set(allowed[j])):
                both = model.new_bool_var(f"y{i}_{j}_{k}")
                model.add_implication(both, x[i, k])
                model.add_implication(both, x[j, k])
                together.setdefault((i, k), []).append(both)
                together.setdefault((j, k), []).append(both)
                coefficient = round(float(values[i, j]) * weights[k] * SCALE)
                if coefficient:
                    terms.append(coefficient * both)
    # A member of circle k is together with exactly its size - 1 others there: this
    # makes y the "both in k" of x and tightens the relaxation a great deal.
    for (i, k), pairs in together.items():
        model.add(sum(pairs) == (sizes[k] - 1) * x[i, k])
    model.maximize(sum(terms))
    hint = canonical(hint, pool)
    for (i, k), variable in x.items():
        model.add_hint(variable, int(hint[i] == k))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.random_seed = seed
    solver.parameters.max_deterministic_time = time_limit_s
    solver.parameters.max_time_in_seconds = WALL_CAP * time_limit_s
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return hint, False
    circle = np.array([next(k for k in allowed[i] if solver.value(x[i, k])) for i in range(n)])
    return circle, status == cp_model.OPTIMAL


def canonical(circle: np.ndarray, pool: Pool) -> np.ndarray:
    """The same grouping, unlocked circles of one size numbered in order of their first member."""
    renamed = circle.copy()
    for same in _interchangeable(pool).values():
        by_first = sorted(same, key=lambda k: int(np.flatnonzero(circle == k)[0]))
        for old, new in zip(by_first, same, strict=True):
            renamed[circle == old] = new
    return renamed


def _interchangeable(pool: Pool) -> dict[int, list[int]]:
    """Unlocked circles by size: any two of one size can trade numbers."""
    locked = set(pool.fixed.values())
    groups: dict[int, list[int]] = {}
    for k, size in enumerate(pool.sizes):
        if k not in locked:
            groups.setdefault(size, []).append(k)
    return groups


def _allowed_circles(pool: Pool) -> list[list[int]]:
    """Locked members in their circle; the others anywhere but with symmetry broken.

    Unlocked circles of the same size are interchangeable, so the r-th unlocked
    member may only be in the first r + 1 of them: any grouping can be renumbered
    so that each such circle's first member comes before the next one's.
    """
    locked = set(pool.fixed.values())
    groups = _interchangeable(pool)
    allowed: list[list[int]] = []
    rank = 0
    for i in range(len(pool)):
        if i in pool.fixed:
            allowed.append([pool.fixed[i]])
            continue
        allowed.append(sorted([*locked, *(k for same in groups.values() for k in same[:rank + 1])]))
        rank += 1
    return allowed


def spread_hours(offsets: Sequence[float]) -> float:
    """The most hours apart any two of these clocks are (going round the clock)."""
    return max((hours_apart(a, b) for n, a in enumerate(offsets) for b in offsets[n + 1:]),
               default=0.0)
