"""Pair scores: text similarity, shared themes and soft preferences, under hard constraints.

Scores are computed for blocks of members against every mentor at once (sparse
or dense products), and only each member's best `top_k` feasible mentors are
kept, so 100,000 x 5,000 pairs never sit in memory together.
"""

import math
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from app.matching.encoders import Encoder, Vectors, make_encoder, similarities, transposed
from app.matching.explain import Explainer, language_name

# Neutral time-zone part when either side's offset is unknown: not knowing is
# better than being far apart and worse than being close.
UNKNOWN_TIME_ZONE = 0.5
# Rows of the member x mentor score matrix computed at once (about 20 MB each array).
BLOCK_CELLS = 5_000_000
THREADS = 2


@dataclass(frozen=True, slots=True)
class MemberProfile:
    id: str
    text: str
    themes: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    utc_offset_hours: float | None = None
    wishes: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class MentorProfile:
    id: str
    text: str
    themes: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    utc_offset_hours: float | None = None
    offers: frozenset[str] = frozenset()
    capacity: int = 1
    accepting: bool = True


@dataclass(frozen=True, slots=True)
class Weights:
    text: float = 0.55
    themes: float = 0.30
    time_zone: float = 0.10
    wishes: float = 0.05

    def __post_init__(self) -> None:
        values = (self.text, self.themes, self.time_zone, self.wishes)
        if any(not math.isfinite(value) or value < 0 for value in values):
            raise ValueError("every weight must be a number of at least 0")
        if sum(values) <= 0:
            raise ValueError("at least one weight must be above 0")

    @property
    def total(self) -> float:
        return self.text + self.themes + self.time_zone + self.wishes


@dataclass(frozen=True, slots=True)
class Candidate:
    member_id: str
    mentor_id: str
    score: float
    explanation: str
    parts: Mapping[str, float] = field(default_factory=dict, hash=False)


def score_candidates(
    members: Sequence[MemberProfile], mentors: Sequence[MentorProfile], *,
    weights: Weights = Weights(), encoder: Encoder | None = None,
    theme_labels: Mapping[str, str] = {}, declined: Collection[tuple[str, str]] = (),
    top_k: int = 10,
) -> dict[str, list[Candidate]]:
    """Every member id -> its best `top_k` feasible mentors, best first (`top_k` 0: all)."""
    members = list(members)
    encoder = encoder or make_encoder()
    encoder.fit([member.text for member in members] + [mentor.text for mentor in mentors])
    table = _MentorTable(mentors, encoder=encoder, weights=weights, theme_labels=theme_labels)
    return table.rank(members, declined=declined, top_k=top_k)


def rank_without_fitting(
    members: Sequence[MemberProfile], mentors: Sequence[MentorProfile], *, encoder: Encoder,
    weights: Weights = Weights(), theme_labels: Mapping[str, str] = {},
    declined: Collection[tuple[str, str]] = (), top_k: int = 10,
) -> dict[str, list[Candidate]]:
    """As score_candidates, with the encoder as a run already fitted it (scores stay comparable)."""
    table = _MentorTable(mentors, encoder=encoder, weights=weights, theme_labels=theme_labels)
    return table.rank(list(members), declined=declined, top_k=top_k)


def score_pair(
    member: MemberProfile, mentor: MentorProfile, *, weights: Weights = Weights(),
    encoder: Encoder | None = None, theme_labels: Mapping[str, str] = {},
) -> Candidate | None:
    """One pair, None if a hard constraint forbids it.

    With the encoder of a run, the text part is the one that run computed; a fresh
    TF-IDF encoder learns its IDF from these two texts alone.
    """
    encoder = encoder or make_encoder()
    if not encoder.fitted:
        encoder.fit([member.text, mentor.text])
    table = _MentorTable([mentor], encoder=encoder, weights=weights, theme_labels=theme_labels)
    found = table.rank([member], declined=(), top_k=1)[member.id]
    return found[0] if found else None


class _Vocabulary:
    """Tag -> column, for the tags mentors carry (a member's other tags match nobody)."""

    def __init__(self, tag_sets: Sequence[frozenset[str]]) -> None:
        self.columns = {tag: n for n, tag in enumerate(sorted(set().union(*tag_sets)))}

    def matrix(self, tag_sets: Sequence[frozenset[str]]) -> np.ndarray:
        matrix = np.zeros((len(tag_sets), len(self.columns)), dtype=np.float32)
        for row, tags in enumerate(tag_sets):
            for tag in tags:
                column = self.columns.get(tag)
                if column is not None:
                    matrix[row, column] = 1.0
        return matrix


class _MentorTable:
    """The mentor side of the score, prepared once and multiplied by blocks of members."""

    def __init__(self, mentors: Sequence[MentorProfile], *, encoder: Encoder,
                 weights: Weights, theme_labels: Mapping[str, str]) -> None:
        self.mentors = [mentor for mentor in mentors if mentor.accepting and mentor.capacity > 0]
        self.column = {mentor.id: n for n, mentor in enumerate(self.mentors)}
        self.encoder = encoder
        self.weights = weights
        self.explainer = Explainer(encoder, theme_labels)
        self.text_t = transposed(encoder.encode([mentor.text for mentor in self.mentors]))
        self.themes = _Vocabulary([mentor.themes for mentor in self.mentors])
        theme_sets, self.theme_set_index = _distinct([mentor.themes for mentor in self.mentors])
        self.theme_sets_t = self.themes.matrix(theme_sets).T.copy()
        self.theme_set_sizes = np.array([len(themes) for themes in theme_sets], np.float32)
        spoken = [spoken_languages(mentor.languages) for mentor in self.mentors]
        self.languages = _Vocabulary(spoken)
        self.languages_t = self.languages.matrix(spoken).T.copy()
        self.any_language = np.array([not m.languages for m in self.mentors])
        self.zones, self.zone_index = _zones(
            np.array([_offset(mentor.utc_offset_hours) for mentor in self.mentors]))
        self.offers = _Vocabulary([mentor.offers for mentor in self.mentors])
        self.offers_t = self.offers.matrix([mentor.offers for mentor in self.mentors]).T.copy()

    def rank(self, members: Sequence[MemberProfile], *, declined: Collection[tuple[str, str]],
             top_k: int) -> dict[str, list[Candidate]]:
        ranked: dict[str, list[Candidate]] = {member.id: [] for member in members}
        if not members or not self.mentors:
            return ranked
        keep = len(self.mentors) if top_k <= 0 else min(top_k, len(self.mentors))
        refused = self._declined_columns(declined)
        rows = max(1, BLOCK_CELLS // len(self.mentors))
        vectors = self.encoder.encode([member.text for member in members])

        def rank_block(start: int) -> list[list[Candidate]]:
            block = members[start:start + rows]
            parts = self._parts(block, vectors[start:start + rows])
            total = self._total(parts)
            total[~self._feasible(block)] = -1.0
            for row, member in enumerate(block):
                total[row, refused.get(member.id, [])] = -1.0
            best = _best_columns(total, keep)
            return self._candidates(block, best, total, parts)

        # NumPy and SciPy let go of the interpreter lock in their loops, so two
        # blocks at once keep both cores busy.
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            for start, found in zip(range(0, len(members), rows),
                                    pool.map(rank_block, range(0, len(members), rows)),
                                    strict=True):
                for member, candidates in zip(members[start:start + rows], found, strict=True):
                    ranked[member.id] = candidates
        return ranked

    def _declined_columns(self, declined: Collection[tuple[str, str]]) -> dict[str, list[int]]:
        refused: dict[str, list[int]] = {}
        for member_id, mentor_id in declined:
            column = self.column.get(mentor_id)
            if column is not None:
                refused.setdefault(member_id, []).append(column)
        return refused

    def _parts(self, block: Sequence[MemberProfile], vectors: Vectors) -> dict[str, np.ndarray]:
        text = similarities(vectors, self.text_t)
        return {
            "text": text,
            "themes": self._theme_overlap(block),
            "time_zone": self._time_zone_closeness(block),
            "wishes": self._wishes_offered(block),
        }

    def _total(self, parts: dict[str, np.ndarray]) -> np.ndarray:
        weights = self.weights
        total = parts["text"] * np.float32(weights.text / weights.total)
        total += parts["themes"] * np.float32(weights.themes / weights.total)
        total += parts["time_zone"] * np.float32(weights.time_zone / weights.total)
        total += parts["wishes"] * np.float32(weights.wishes / weights.total)
        return np.clip(total, 0.0, 1.0, out=total)

    def _theme_overlap(self, block: Sequence[MemberProfile]) -> np.ndarray:
        """Jaccard overlap of the member's and the mentor's themes (0 if either has none).

        Computed once per distinct pair of theme sets, then looked up per pair.
        """
        sets, index = _distinct([member.themes for member in block])
        shared = self.themes.matrix(sets) @ self.theme_sets_t
        own = np.array([[len(themes)] for themes in sets], dtype=np.float32)
        union = own + self.theme_set_sizes[np.newaxis, :] - shared
        # An empty union means nothing is shared either: 0 / 1.
        table = shared / np.maximum(union, 1, out=union)
        return table[index[:, np.newaxis], self.theme_set_index[np.newaxis, :]]

    def _time_zone_closeness(self, block: Sequence[MemberProfile]) -> np.ndarray:
        """1 in the same zone, 0 twelve hours apart (the farthest two clocks can be).

        People share few distinct offsets, so closeness is looked up in a small
        table of offset x offset rather than computed per pair.
        """
        own = np.array([_offset(member.utc_offset_hours) for member in block])
        member_zones, member_index = _zones(own)
        table = _closeness(member_zones[:, np.newaxis], self.zones[np.newaxis, :])
        return table[member_index[:, np.newaxis], self.zone_index[np.newaxis, :]]

    def _wishes_offered(self, block: Sequence[MemberProfile]) -> np.ndarray:
        """The share of the member's wishes that the mentor offers (0 if they wish nothing)."""
        offered = self.offers.matrix([member.wishes for member in block]) @ self.offers_t
        wished = np.array([[max(1, len(member.wishes))] for member in block], dtype=np.float32)
        return offered / wished

    def _feasible(self, block: Sequence[MemberProfile]) -> np.ndarray:
        """No shared language is a hard stop, but only when both sides name languages."""
        spoken = [spoken_languages(member.languages) for member in block]
        shared = self.languages.matrix(spoken) @ self.languages_t
        any_language = np.array([[not member.languages] for member in block])
        return (shared > 0) | any_language | self.any_language[np.newaxis, :]

    def _candidates(self, block: Sequence[MemberProfile], best: np.ndarray, total: np.ndarray,
                    parts: dict[str, np.ndarray]) -> list[list[Candidate]]:
        # Values of the chosen cells only, as Python floats, taken per block not per cell.
        scores = np.take_along_axis(total, best, axis=1).tolist()
        chosen = {name: np.take_along_axis(matrix, best, axis=1).tolist()
                  for name, matrix in parts.items()}
        explain = self.explainer.pair
        found: list[list[Candidate]] = []
        for row, member in enumerate(block):
            own: list[Candidate] = []
            for rank, column in enumerate(best[row].tolist()):
                score = scores[row][rank]
                if score < 0:
                    continue
                mentor = self.mentors[column]
                values = {name: chosen[name][row][rank] for name in chosen}
                own.append(Candidate(member.id, mentor.id, score,
                                     explain(member, mentor, values["text"]), values))
            found.append(own)
        return found


def _best_columns(total: np.ndarray, keep: int) -> np.ndarray:
    """Each row's `keep` highest columns, best first; ties go to the earlier mentor."""
    if keep < total.shape[1]:
        chosen = np.argpartition(-total, keep - 1, axis=1)[:, :keep]
    else:
        chosen = np.broadcast_to(np.arange(total.shape[1]), total.shape)
    values = np.take_along_axis(total, chosen, axis=1)
    order = np.lexsort((chosen, -values), axis=1)
    return np.take_along_axis(chosen, order, axis=1)


def _distinct(tag_sets: Sequence[frozenset[str]]) -> tuple[list[frozenset[str]], np.ndarray]:
    """The distinct sets, and each position's index into them."""
    position: dict[frozenset[str], int] = {}
    index = np.array([position.setdefault(tags, len(position)) for tags in tag_sets],
                     dtype=np.int64)
    return list(position), index


def _zones(offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct offsets (unknown as NaN, kept once) and each person's index into them."""
    known = np.nan_to_num(offsets, nan=np.inf)
    distinct, index = np.unique(known, return_inverse=True)
    return np.where(np.isinf(distinct), np.nan, distinct), index


def _closeness(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    apart = np.abs(left - right) % 24
    closeness = 1 - np.minimum(apart, 24 - apart) / 12
    return np.where(np.isnan(closeness), UNKNOWN_TIME_ZONE, closeness).astype(np.float32)


def _offset(hours: float | None) -> float:
    return math.nan if hours is None else float(hours)


def spoken_languages(languages: frozenset[str]) -> frozenset[str]:
    """"es", "ES" and "spanish" are one language."""
    return frozenset(language_name(code).lower() for code in languages)
