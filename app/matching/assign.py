"""The cohort's assignment: as many members matched as capacity allows, then the best total score.

Solved exactly as a min-cost flow (OR-Tools) over the candidate pairs; the
formulation is written out in docs/matching.md.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import min_cost_flow

from app.matching.scoring import Candidate

# Scores become integer costs in millionths; two totals closer than
# (members / SCALE) may be told apart wrongly, far below anything shown.
SCALE = 1_000_000
PINNED = "pinned by a manager"


class AssignmentError(ValueError):
    """Pins and exclusions that contradict each other, or a solver failure."""


@dataclass(frozen=True)
class Assignment:
    pairs: list[Candidate]
    unmatched: list[str]

    @property
    def total_score(self) -> float:
        return sum(pair.score for pair in self.pairs)


def assign(
    candidates: Mapping[str, Sequence[Candidate]], capacities: Mapping[str, int], *,
    pinned: Collection[tuple[str, str]] = (), excluded: Collection[tuple[str, str]] = (),
) -> Assignment:
    """Members of `candidates` (plus pinned ones) to mentors, never over `capacities`."""
    pins = _pins(pinned, excluded)
    kept = [_pinned_pair(candidates.get(member_id, ()), member_id, mentor_id)
            for member_id, mentor_id in pins.items()]
    free = dict(capacities)
    for _, mentor_id in pins.items():
        free[mentor_id] = free.get(mentor_id, 0) - 1
    barred = set(excluded)
    full = {mentor_id for mentor_id, places in free.items() if places <= 0}
    open_arcs = {
        member_id: [c for c in found if c.mentor_id not in full and c.mentor_id in free
                    and not (barred and (member_id, c.mentor_id) in barred)]
        for member_id, found in candidates.items() if member_id not in pins
    }
    chosen = _solve(open_arcs, free)
    unmatched = [member_id for member_id in open_arcs if member_id not in chosen]
    return Assignment(pairs=kept + list(chosen.values()), unmatched=unmatched)


def _pins(pinned: Collection[tuple[str, str]],
          excluded: Collection[tuple[str, str]]) -> dict[str, str]:
    pins: dict[str, str] = {}
    barred = set(excluded)
    for member_id, mentor_id in pinned:
        if (member_id, mentor_id) in barred:
            raise AssignmentError(f"{member_id} is both pinned to and excluded from {mentor_id}")
        if pins.get(member_id, mentor_id) != mentor_id:
            raise AssignmentError(f"{member_id} is pinned to two mentors")
        pins[member_id] = mentor_id
    return pins


def _pinned_pair(found: Sequence[Candidate], member_id: str, mentor_id: str) -> Candidate:
    for candidate in found:
        if candidate.mentor_id == mentor_id:
            return candidate
    return Candidate(member_id, mentor_id, 0.0, PINNED, {})


def _solve(arcs: Mapping[str, Sequence[Candidate]],
           capacities: Mapping[str, int]) -> dict[str, Candidate]:
    """Member id -> chosen candidate, for the members the optimum matches."""
    members = [member_id for member_id, found in arcs.items() if found]
    if not members:
        return {}
    mentors = sorted({c.mentor_id for member_id in members for c in arcs[member_id]})
    mentor_node = {mentor_id: len(members) + n for n, mentor_id in enumerate(mentors)}
    sink = len(members) + len(mentors)
    pairs = [c for member_id in members for c in arcs[member_id]]
    tails = np.repeat(np.arange(len(members)), [len(arcs[m]) for m in members])
    heads = np.array([mentor_node[c.mentor_id] for c in pairs])
    scores = np.rint(np.clip([c.score for c in pairs], 0.0, 1.0) * SCALE).astype(np.int64)
    # Leaving a member unmatched costs more than any change of score could win back.
    unmatched_cost = (len(members) + 1) * SCALE
    flow = min_cost_flow.SimpleMinCostFlow()
    flow.add_arcs_with_capacity_and_unit_cost(tails, heads, np.ones(len(pairs), np.int64),
                                              SCALE - scores)
    flow.add_arcs_with_capacity_and_unit_cost(
        np.arange(len(members)), np.full(len(members), sink), np.ones(len(members), np.int64),
        np.full(len(members), unmatched_cost, np.int64))
    flow.add_arcs_with_capacity_and_unit_cost(
        np.array([mentor_node[m] for m in mentors]), np.full(len(mentors), sink),
        np.array([capacities[m] for m in mentors], np.int64), np.zeros(len(mentors), np.int64))
    supplies = np.zeros(sink + 1, np.int64)
    supplies[:len(members)] = 1
    supplies[sink] = -len(members)
    flow.set_nodes_supplies(np.arange(sink + 1), supplies)
    status = flow.solve()
    if status != flow.OPTIMAL:
        raise AssignmentError(f"the min-cost flow solver stopped with status {status}")
    used = flow.flows(np.arange(len(pairs))) > 0
    return {pair.member_id: pair for pair, on in zip(pairs, used, strict=True) if on}
