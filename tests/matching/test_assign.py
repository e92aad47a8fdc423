"""The cohort assignment: most members matched, then the best total, within capacity."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from app.matching.assign import SCALE
from app.matching.engine import (
    PINNED,
    AssignmentError,
    Candidate,
    MemberProfile,
    MentorProfile,
    assign,
    match_cohort,
)


def pair(member_id: str, mentor_id: str, score: float) -> Candidate:
    return Candidate(member_id, mentor_id, score, "test pair", {"text": score})


def chosen(assignment_pairs: list[Candidate]) -> set[tuple[str, str]]:
    return {(c.member_id, c.mentor_id) for c in assignment_pairs}


def test_more_members_matched_beats_a_higher_total() -> None:
    # Alone, ana with x would give the best single score; both matched is what counts.
    candidates = {"ana": [pair("ana", "x", 0.99), pair("ana", "y", 0.01)],
                  "ben": [pair("ben", "x", 0.50)]}
    result = assign(candidates, {"x": 1, "y": 1})
    assert chosen(result.pairs) == {("ana", "y"), ("ben", "x")}
    assert result.unmatched == []


def test_among_full_matchings_the_best_total_wins() -> None:
    candidates = {"ana": [pair("ana", "x", 0.9), pair("ana", "y", 0.8)],
                  "ben": [pair("ben", "x", 0.85), pair("ben", "y", 0.2)]}
    result = assign(candidates, {"x": 1, "y": 1})
    assert chosen(result.pairs) == {("ana", "y"), ("ben", "x")}
    assert result.total_score == pytest.approx(1.65)


def test_capacity_is_never_exceeded_and_the_rest_are_unmatched() -> None:
    candidates = {f"m{n}": [pair(f"m{n}", "x", n / 10)] for n in range(5)}
    result = assign(candidates, {"x": 2})
    assert chosen(result.pairs) == {("m4", "x"), ("m3", "x")}
    assert sorted(result.unmatched) == ["m0", "m1", "m2"]


def test_pinned_pairs_stay_and_use_a_place() -> None:
    candidates = {"ana": [pair("ana", "x", 0.9)], "ben": [pair("ben", "x", 0.8)]}
    result = assign(candidates, {"x": 1}, pinned=[("ben", "x")])
    assert chosen(result.pairs) == {("ben", "x")}
    assert result.unmatched == ["ana"]
    assert result.pairs[0].score == 0.8


def test_a_pin_without_a_candidate_is_kept_and_says_so() -> None:
    result = assign({"ana": []}, {"x": 1}, pinned=[("ana", "x")])
    assert result.pairs == [Candidate("ana", "x", 0.0, PINNED, {})]


def test_excluded_pairs_are_never_used() -> None:
    candidates = {"ana": [pair("ana", "x", 0.9), pair("ana", "y", 0.1)]}
    result = assign(candidates, {"x": 1, "y": 1}, excluded=[("ana", "x")])
    assert chosen(result.pairs) == {("ana", "y")}


@pytest.mark.parametrize(("pinned", "excluded", "message"), [
    ([("ana", "x")], [("ana", "x")], "both pinned to and excluded"),
    ([("ana", "x"), ("ana", "y")], [], "pinned to two mentors"),
])
def test_contradictory_pins_are_refused(pinned: list[tuple[str, str]],
                                        excluded: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(AssignmentError, match=message):
        assign({"ana": [pair("ana", "x", 0.5)]}, {"x": 1, "y": 1}, pinned=pinned,
               excluded=excluded)


def test_widening_matches_a_member_whose_top_mentors_filled_up() -> None:
    # Everyone's top choice is "star" (one place); with top_k=1 the others would be stranded.
    members = [MemberProfile(id=f"m{n}", text="teach teenagers reading") for n in range(3)]
    mentors = [MentorProfile(id="star", text="teach teenagers reading", capacity=1),
               MentorProfile(id="other", text="tax audits", capacity=2)]
    run = match_cohort(members, mentors, top_k=1)
    assert run.assignment.unmatched == []
    assert Counter(c.mentor_id for c in run.assignment.pairs) == {"star": 1, "other": 2}


def exact_optimum(candidates: dict[str, list[Candidate]], capacities: dict[str, int],
                  excluded: set[tuple[str, str]]) -> tuple[int, float]:
    """(members matched, total score) by a different method: an assignment problem over
    capacity slots, with a bonus per matched member larger than any total score."""
    members = list(candidates)
    slots = [mentor for mentor, places in capacities.items() for _ in range(max(places, 0))]
    bonus = len(members) + 1.0
    forbidden = -1000.0 * bonus
    value = np.full((len(members), len(slots) + len(members)), forbidden)
    value[:, len(slots):] = 0.0  # every member may stay unmatched
    for row, member in enumerate(members):
        for candidate in candidates[member]:
            if (member, candidate.mentor_id) in excluded:
                continue
            for column, slot in enumerate(slots):
                if slot == candidate.mentor_id:
                    value[row, column] = max(value[row, column], bonus + candidate.score)
    rows, columns = linear_sum_assignment(value, maximize=True)
    taken = [value[r, c] for r, c in zip(rows, columns, strict=True) if c < len(slots)]
    return len(taken), sum(taken) - bonus * len(taken)


@st.composite
def cohorts(draw: st.DrawFn) -> tuple[dict[str, list[Candidate]], dict[str, int],
                                      list[tuple[str, str]], set[tuple[str, str]]]:
    mentors = [f"t{n}" for n in range(draw(st.integers(1, 4)))]
    capacities = {mentor: draw(st.integers(0, 3)) for mentor in mentors}
    candidates: dict[str, list[Candidate]] = {}
    for n in range(draw(st.integers(1, 7))):
        member = f"m{n}"
        linked = draw(st.lists(st.sampled_from(mentors), unique=True))
        candidates[member] = [
            pair(member, mentor, draw(st.floats(0, 1, allow_nan=False))) for mentor in linked]
    pinned: list[tuple[str, str]] = []
    left = dict(capacities)
    for member in draw(st.lists(st.sampled_from(list(candidates)), unique=True, max_size=2)):
        open_mentors = [mentor for mentor in mentors if left[mentor] > 0]
        if open_mentors:
            mentor = draw(st.sampled_from(open_mentors))
            pinned.append((member, mentor))
            left[mentor] -= 1
    every_pair = [(c.member_id, c.mentor_id) for found in candidates.values() for c in found]
    excluded = set(draw(st.lists(st.sampled_from(every_pair), max_size=3))) if every_pair \
        else set()
    excluded -= set(pinned)
    return candidates, capacities, pinned, excluded


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cohorts())
def test_the_assignment_is_feasible_and_optimal(case: tuple) -> None:
    candidates, capacities, pinned, excluded = case
    result = assign(candidates, capacities, pinned=pinned, excluded=excluded)
    used = Counter(c.mentor_id for c in result.pairs)
    assert all(used[mentor] <= capacities[mentor] for mentor in used)
    assert set(pinned) <= chosen(result.pairs)
    assert not chosen(result.pairs) & excluded
    members = [c.member_id for c in result.pairs] + result.unmatched
    assert sorted(members) == sorted(candidates)
    for c in result.pairs:
        if (c.member_id, c.mentor_id) not in set(pinned):
            assert c in candidates[c.member_id]

    pinned_members = {member for member, _ in pinned}
    rest = {member: found for member, found in candidates.items()
            if member not in pinned_members}
    left = {mentor: places - Counter(m for _, m in pinned)[mentor]
            for mentor, places in capacities.items()}
    matched, total = exact_optimum(rest, left, excluded)
    ours = [c for c in result.pairs if c.member_id not in pinned_members]
    assert len(ours) == matched
    # Scores are compared in millionths inside the solver: totals agree to that grain.
    assert sum(c.score for c in ours) == pytest.approx(total, abs=len(rest) / SCALE + 1e-9)
