"""The matching engine: pure Python, no database. The web layer and `telos match file` use it.

    candidates = score_candidates(members, mentors)           # each member's best mentors
    assignment = assign(candidates, capacities, pinned=...)   # the cohort's optimum
    run = match_cohort(members, mentors)                      # both, plus widening (below)
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from app.matching.assign import PINNED, Assignment, AssignmentError, assign
from app.matching.content import ContentProfile, ContentSuggestion, suggest_content
from app.matching.encoders import (
    ENCODER_NAMES,
    CacheInfo,
    Encoder,
    EncoderUnavailable,
    MiniLMEncoder,
    TfidfEncoder,
    make_encoder,
)
from app.matching.scoring import (
    Candidate,
    MemberProfile,
    MentorProfile,
    Weights,
    rank_without_fitting,
    score_candidates,
    score_pair,
)

__all__ = [
    "ENCODER_NAMES", "PINNED", "Assignment", "AssignmentError", "CacheInfo", "Candidate",
    "ContentProfile", "ContentSuggestion", "Encoder", "EncoderUnavailable", "MatchRun",
    "MemberProfile", "MentorProfile", "MiniLMEncoder", "TfidfEncoder", "Weights", "assign",
    "make_encoder", "match_cohort", "score_candidates", "score_pair", "suggest_content",
]

# Widening rounds after the first solve; each either matches someone more or ends.
WIDENING_ROUNDS = 3


@dataclass(frozen=True)
class MatchRun:
    candidates: dict[str, list[Candidate]]
    assignment: Assignment


def match_cohort(
    members: Sequence[MemberProfile], mentors: Sequence[MentorProfile], *,
    weights: Weights = Weights(), encoder: Encoder | None = None,
    theme_labels: Mapping[str, str] = {}, declined: Collection[tuple[str, str]] = (),
    pinned: Collection[tuple[str, str]] = (), excluded: Collection[tuple[str, str]] = (),
    top_k: int = 10,
) -> MatchRun:
    """Score, assign, and widen: no member stays unmatched while a mentor who fits has room.

    The solve is exact over each member's top_k candidates. Members whose top_k
    mentors all filled up then get candidates among the mentors that still have
    room, and are assigned to those places (exactly, among themselves), keeping
    every pair already made.
    """
    encoder = encoder or make_encoder()
    candidates = score_candidates(members, mentors, weights=weights, encoder=encoder,
                                  theme_labels=theme_labels, declined=declined, top_k=top_k)
    capacities = {mentor.id: mentor.capacity for mentor in mentors if mentor.accepting}
    assignment = assign(candidates, capacities, pinned=pinned, excluded=excluded)
    for _ in range(WIDENING_ROUNDS):
        waiting = set(assignment.unmatched)
        room = _room(mentors, assignment)
        if not waiting or not room:
            break
        wider = rank_without_fitting(
            [member for member in members if member.id in waiting],
            [mentor for mentor in mentors if mentor.id in room], encoder=encoder,
            weights=weights, theme_labels=theme_labels, declined=[*declined, *excluded],
            top_k=top_k)
        if not _merge(candidates, wider):
            break
        # The pairs already made stay; the members left over share the places left over.
        extra = assign(wider, room, excluded=excluded)
        assignment = Assignment(pairs=[*assignment.pairs, *extra.pairs],
                                unmatched=extra.unmatched)
    return MatchRun(candidates, assignment)


def _room(mentors: Sequence[MentorProfile], assignment: Assignment) -> dict[str, int]:
    used: dict[str, int] = {}
    for pair in assignment.pairs:
        used[pair.mentor_id] = used.get(pair.mentor_id, 0) + 1
    return {mentor.id: mentor.capacity - used.get(mentor.id, 0) for mentor in mentors
            if mentor.accepting and mentor.capacity > used.get(mentor.id, 0)}


def _merge(candidates: dict[str, list[Candidate]], wider: dict[str, list[Candidate]]) -> int:
    added = 0
    for member_id, found in wider.items():
        known = {candidate.mentor_id for candidate in candidates[member_id]}
        fresh = [candidate for candidate in found if candidate.mentor_id not in known]
        candidates[member_id] = sorted([*candidates[member_id], *fresh],
                                       key=lambda candidate: -candidate.score)
        added += len(fresh)
    return added
