"""Peer circles: a cohort's members in small groups that share a language and a purpose.

Pure Python, no database; the community pages call it.

    similarity = purpose_similarity(texts, themes)    # row r: the member whose vector_index is r
    drafts = form_circles(members, similarity, min_size=4, max_size=6)

First every member is given one language to meet in and each language its
number of circles (a small CP-SAT model over groups of members who speak the
same languages); then each language's members are grouped, exactly by CP-SAT
when they are few, by greedy construction and swaps when they are many
(circle_search.py). docs/matching.md has the formulation.
"""

import heapq
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from app.errors import TelosError
from app.matching import circle_search as search
from app.matching.encoders import Encoder, make_encoder, similarities, transposed
from app.matching.explain import LANGUAGE_NAMES, language_name, theme_label, words
from app.matching.scoring import Weights

# Languages of at most this many members are grouped exactly by CP-SAT.
EXACT_UP_TO = 36
# "Three of you are within 2 hours of each other."
CLOSE_HOURS = 2.0
# Rows of the similarity matrix computed at once.
BLOCK_ROWS = 1_000
# Moving a member to a less spoken language costs more than any unevenness of sizes.
MOVE_COST = 1_000
NUMBER_WORDS = ["no one", "one", "two", "three", "four", "five", "six", "seven", "eight",
                "nine", "ten"]


class CirclesImpossible(TelosError):
    """The members cannot be grouped under these rules; the message says what to change."""

    title = "These circles cannot be formed"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class CircleMember:
    id: int
    vector_index: int                 # row (and column) of this member in `similarity`
    themes: frozenset[str]            # theme labels the member chose
    languages: frozenset[str]         # languages they can meet in; never empty
    utc_offset_hours: float           # from their time zone at the cohort's start
    locked_circle: int | None = None  # a manager locked this member into this circle


@dataclass(frozen=True)
class CircleDraft:
    members: tuple[int, ...]          # member ids, in the order they were given
    language: str                     # the language all share, as a code ("es") when known
    shared_themes: tuple[str, ...]    # themes two or more members chose, most chosen first
    explanation: str
    mean_similarity: float            # mean similarity over the circle's pairs


@dataclass(frozen=True)
class _Lock:
    number: int
    people: tuple[int, ...]           # positions in `members`
    languages: frozenset[str]


def form_circles(
    members: Sequence[CircleMember], similarity: np.ndarray, *, min_size: int = 4,
    max_size: int = 6, max_spread_hours: float = 6.0, time_limit_s: float = 10.0, seed: int = 0,
) -> list[CircleDraft]:
    """Every member in exactly one circle of min_size..max_size people who share a language.

    The time-zone spread is a soft limit: a pair farther apart than it costs more
    than any similarity gains, so a circle goes over it only when the search
    finds no way round it, and its explanation says so. Locked members stay
    together in a circle of their own lock number (others may join it). Drafts
    with locked members come first, by lock number; the rest by their first
    member. The same input and seed give the same drafts.
    """
    _check(members, similarity, min_size=min_size, max_size=max_size,
           max_spread_hours=max_spread_hours)
    if not members:
        return []
    spoken = [frozenset(language_key(code) for code in m.languages) for m in members]
    locks = _locks(members, spoken, max_size)
    chosen, circles_per_language = _languages(members, spoken, locks, similarity,
                                              min_size=min_size, max_size=max_size)
    pools = [_pool(language, chosen, members, locks, count, min_size=min_size,
                   max_size=max_size) for language, count in circles_per_language.items()]
    exact_members = sum(len(pool) for _, pool, _ in pools if len(pool) <= EXACT_UP_TO)
    drafts: list[tuple[tuple[int, int], CircleDraft]] = []
    for language, pool, lock_numbers in pools:
        budget = time_limit_s * len(pool) / max(1, exact_members)
        drafts += _group(language, pool, lock_numbers, members, similarity, seed=seed,
                         time_limit_s=budget, max_spread_hours=max_spread_hours)
    return [draft for _, draft in sorted(drafts, key=lambda found: found[0])]


def purpose_similarity(texts: Sequence[str], themes: Sequence[frozenset[str]], *,
                       encoder: Encoder | None = None, weights: Weights = Weights()) -> np.ndarray:
    """Member x member similarity (float32, 0 to 1): the matcher's text and theme parts.

    Row and column r belong to texts[r] and themes[r]. Text is the encoder's
    cosine similarity (fitted on these texts), themes the Jaccard overlap, mixed
    with the matcher's text and theme weights; time zone and language are rules
    of the grouping here, not part of the score.
    """
    if len(texts) != len(themes):
        raise ValueError("one theme set per text is needed")
    mix = weights.text + weights.themes
    if mix <= 0:
        raise ValueError("the text or the theme weight must be above 0")
    encoder = encoder or make_encoder()
    encoder.fit(list(texts))
    vectors = encoder.encode(list(texts))
    right = transposed(vectors)
    overlap, index = _theme_overlap(themes)
    result = np.empty((len(texts), len(texts)), dtype=np.float32)
    for start in range(0, len(texts), BLOCK_ROWS):
        block = slice(start, start + BLOCK_ROWS)
        text = similarities(vectors[block], right)
        shared = overlap[index[block][:, np.newaxis], index[np.newaxis, :]]
        result[block] = (weights.text * text + weights.themes * shared) / mix
    return result


def language_key(code: str) -> str:
    """"es", "ES", "es-MX" and "Spanish" are one language: "es"."""
    cleaned = code.strip()
    primary = cleaned.lower().replace("_", "-").split("-")[0]
    if primary in LANGUAGE_NAMES:
        return primary
    by_name = {name.lower(): key for key, name in LANGUAGE_NAMES.items()}
    return by_name.get(cleaned.lower(), cleaned.lower())


def _check(members: Sequence[CircleMember], similarity: np.ndarray, *, min_size: int,
           max_size: int, max_spread_hours: float) -> None:
    if min_size < 2:
        raise CirclesImpossible("A circle needs at least 2 people: raise the smallest size.")
    if max_size < min_size:
        raise CirclesImpossible(f"The largest circle size ({max_size}) is below the smallest "
                                f"({min_size}): make it at least {min_size}.")
    if not math.isfinite(max_spread_hours) or max_spread_hours < 0:
        raise CirclesImpossible("The time-zone spread limit must be 0 hours or more.")
    if similarity.ndim != 2 or similarity.shape[0] != similarity.shape[1]:
        raise ValueError("similarity must be a square matrix")
    ids = Counter(member.id for member in members)
    if any(count > 1 for count in ids.values()):
        raise ValueError(f"member ids must be unique: {min(i for i, c in ids.items() if c > 1)}")
    for member in members:
        if not 0 <= member.vector_index < similarity.shape[0]:
            raise ValueError(f"member {member.id}: vector_index outside the similarity matrix")
        if not member.languages:
            raise ValueError(f"member {member.id} has no language (use their locale)")


def _locks(members: Sequence[CircleMember], spoken: Sequence[frozenset[str]],
           max_size: int) -> list[_Lock]:
    people: dict[int, list[int]] = {}
    for position, member in enumerate(members):
        if member.locked_circle is not None:
            people.setdefault(member.locked_circle, []).append(position)
    locks = []
    for number, inside in sorted(people.items()):
        ids = words(str(members[p].id) for p in inside)
        if len(inside) > max_size:
            raise CirclesImpossible(
                f"Circle {number} has {len(inside)} locked members ({ids}), more than the "
                f"largest circle size of {max_size}: unlock {len(inside) - max_size} of them "
                f"or allow larger circles.")
        shared = frozenset.intersection(*(spoken[p] for p in inside))
        if not shared:
            raise CirclesImpossible(
                f"The members locked into circle {number} ({ids}) share no language: "
                f"unlock one of them or add a language they have in common.")
        locks.append(_Lock(number, tuple(inside), shared))
    return locks


def _languages(members: Sequence[CircleMember], spoken: Sequence[frozenset[str]],
               locks: Sequence[_Lock], similarity: np.ndarray, *, min_size: int,
               max_size: int) -> tuple[list[str], dict[str, int]]:
    """Each member's meeting language, and each language's number of circles.

    CP-SAT over groups of members with the same languages: how many of each
    group meet in each language, and how many circles each language has, such
    that every language's members fill its circles within the size bounds.
    Fewest members away from the most spoken language they know, then sizes
    nearest the middle of the bounds. Which members of a group move is then
    chosen by their similarity to those who speak only the other language.
    """
    locked = {p for lock in locks for p in lock.people}
    groups: dict[frozenset[str], list[int]] = {}
    for position, languages in enumerate(spoken):
        if position not in locked:
            groups.setdefault(languages, []).append(position)
    speakers = Counter(code for languages in spoken for code in languages)
    preferred = {languages: min(languages, key=lambda c: (-speakers[c], c)) for languages in groups}
    model = cp_model.CpModel()
    counts = {(languages, code): model.new_int_var(0, len(people), f"n_{code}_{n}")
              for n, (languages, people) in enumerate(groups.items()) for code in languages}
    placed = {(lock.number, code): model.new_bool_var(f"lock{lock.number}_{code}")
              for lock in locks for code in lock.languages}
    for languages, people in groups.items():
        model.add(sum(counts[languages, code] for code in languages) == len(people))
    for lock in locks:
        model.add_exactly_one(placed[lock.number, code] for code in lock.languages)
    circles, deviations = {}, []
    for code in sorted(speakers):
        size = (sum(v for (_, c), v in counts.items() if c == code)
                + sum(len(lock.people) * placed[lock.number, c] for lock in locks
                      for c in lock.languages if c == code))
        circles[code] = model.new_int_var(0, len(members) // min_size, f"circles_{code}")
        locks_here = [(lock, placed[lock.number, code]) for lock in locks
                      if code in lock.languages]
        model.add(min_size * circles[code] <= size)
        model.add(size <= max_size * circles[code])
        model.add(sum(v for _, v in locks_here) <= circles[code])
        model.add(min_size * circles[code]
                  + sum(max(0, len(lock.people) - min_size) * v for lock, v in locks_here)
                  <= size)
        deviation = model.new_int_var(0, 2 * max_size * len(members), f"dev_{code}")
        model.add_abs_equality(deviation, 2 * size - (min_size + max_size) * circles[code])
        deviations.append(deviation)
    moved = sum(v for (languages, code), v in counts.items() if code != preferred[languages])
    model.minimize(MOVE_COST * moved + sum(deviations))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 10.0
    if solver.solve(model) not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        raise CirclesImpossible(_why_impossible(spoken, min_size=min_size, max_size=max_size))
    chosen = [""] * len(members)
    for lock in locks:
        code = next(c for c in lock.languages if solver.value(placed[lock.number, c]))
        for position in lock.people:
            chosen[position] = code
    only = {code: [p for p in groups.get(frozenset([code]), [])] for code in speakers}
    for languages, people in groups.items():
        wanted = {code: solver.value(counts[languages, code]) for code in languages}
        _share_out(people, wanted, preferred[languages], only, members, similarity, chosen)
    return chosen, {code: solver.value(v) for code, v in circles.items() if solver.value(v)}


def _share_out(people: list[int], wanted: Mapping[str, int], preferred: str,
               only: Mapping[str, list[int]], members: Sequence[CircleMember],
               similarity: np.ndarray, chosen: list[str]) -> None:
    """Members of one language group to languages, the moves going to those who fit there best."""
    left = list(people)
    for code in sorted(wanted):
        if code == preferred or not wanted[code]:
            continue
        fit = _affinity(left, only[code], members, similarity)
        stay = _affinity(left, only[preferred], members, similarity)
        order = sorted(range(len(left)), key=lambda n: (stay[n] - fit[n], n))
        going = {left[n] for n in order[:wanted[code]]}
        for position in going:
            chosen[position] = code
        left = [p for p in left if p not in going]
    for position in left:
        chosen[position] = preferred


def _affinity(people: list[int], others: list[int], members: Sequence[CircleMember],
              similarity: np.ndarray) -> np.ndarray:
    if not others:
        return np.zeros(len(people))
    rows = np.array([members[p].vector_index for p in people])
    columns = np.array([members[p].vector_index for p in others])
    return np.asarray(similarity[np.ix_(rows, columns)].mean(axis=1), dtype=np.float64)


def _pool(language: str, chosen: Sequence[str], members: Sequence[CircleMember],
          locks: Sequence[_Lock], count: int, *, min_size: int,
          max_size: int) -> tuple[str, search.Pool, list[int]]:
    people = [p for p, code in enumerate(chosen) if code == language]
    at = {person: n for n, person in enumerate(people)}
    here = [lock for lock in locks if chosen[lock.people[0]] == language]
    fixed = {at[p]: slot for slot, lock in enumerate(here) for p in lock.people}
    sizes = _sizes(len(people), count, [len(lock.people) for lock in here],
                   min_size=min_size, max_size=max_size)
    pool = search.Pool(
        rows=np.array([members[p].vector_index for p in people], dtype=np.int64),
        offsets=np.array([members[p].utc_offset_hours for p in people], dtype=np.float64),
        sizes=tuple(sizes), fixed=fixed, people=tuple(people))
    return language, pool, [lock.number for lock in here]


def _sizes(total: int, count: int, locked: Sequence[int], *, min_size: int,
           max_size: int) -> list[int]:
    """As even as possible: each place left over goes to the smallest circle."""
    sizes = [max(min_size, size) for size in locked] + [min_size] * (count - len(locked))
    smallest = [(size, k) for k, size in enumerate(sizes) if size < max_size]
    heapq.heapify(smallest)
    for _ in range(total - sum(sizes)):
        size, k = heapq.heappop(smallest)
        sizes[k] = size + 1
        if size + 1 < max_size:
            heapq.heappush(smallest, (size + 1, k))
    return sizes


def _group(language: str, pool: search.Pool, lock_numbers: Sequence[int],
           members: Sequence[CircleMember], similarity: np.ndarray, *, seed: int,
           time_limit_s: float, max_spread_hours: float,
           ) -> list[tuple[tuple[int, int], CircleDraft]]:
    raw = np.asarray(similarity[np.ix_(pool.rows, pool.rows)], dtype=np.float32)
    pairs = len(pool) * (len(pool) - 1)
    at_random = float(raw.sum(dtype=np.float64) - np.trace(raw)) / pairs if pairs else 0.0
    values = search.pair_values(raw, pool.offsets, max_spread_hours)
    circle = search.heuristic(values, pool, seed)
    if len(pool) <= EXACT_UP_TO and len(pool.sizes) > 1:
        found, _ = search.exact(values, pool, hint=circle, time_limit_s=time_limit_s, seed=seed)
        if (search.grouping_value(values, found, pool.sizes)
                > search.grouping_value(values, circle, pool.sizes)):
            circle = found
    drafts = []
    for slot in range(len(pool.sizes)):
        inside = [int(n) for n in np.flatnonzero(circle == slot)]
        people = [members[pool.people[n]] for n in inside]
        mean = _mean_pair(similarity, pool.rows[inside])
        key = ((0, lock_numbers[slot]) if slot < len(lock_numbers)
               else (1, pool.people[inside[0]]))
        drafts.append((key, _draft(people, language, mean, at_random, max_spread_hours)))
    return drafts


def _mean_pair(similarity: np.ndarray, rows: np.ndarray) -> float:
    block = similarity[np.ix_(rows, rows)].astype(np.float64)
    pairs = len(rows) * (len(rows) - 1)
    return float(block.sum() - np.trace(block)) / pairs if pairs else 0.0


def _draft(people: Sequence[CircleMember], language: str, mean: float, at_random: float,
           max_spread_hours: float) -> CircleDraft:
    chosen = Counter(theme for person in people for theme in person.themes)
    shared = sorted((t for t, n in chosen.items() if n >= 2), key=lambda t: (-chosen[t], t))
    said = [_themes_said(shared, chosen, len(people)),
            f"you all speak {language_name(language)}",
            "your purposes are more alike than two members picked at random"
            if mean > at_random else "",
            _time_said([p.utc_offset_hours for p in people], max_spread_hours)]
    sentence = "; ".join(phrase for phrase in said if phrase)
    return CircleDraft(members=tuple(p.id for p in people), language=language,
                       shared_themes=tuple(shared),
                       explanation=sentence[:1].upper() + sentence[1:] + ".",
                       mean_similarity=mean)


def _themes_said(shared: Sequence[str], chosen: Counter[str], size: int) -> str:
    if not shared:
        return ""
    most = chosen[shared[0]]
    labels = words(theme_label(t, {}) for t in shared if chosen[t] == most)
    if most == size:
        return f"all care about {labels}"
    return f"{_number(most)} of you care about {labels}"


def _time_said(offsets: Sequence[float], limit: float) -> str:
    spread = search.spread_hours(offsets)
    close = _most_within(offsets, CLOSE_HOURS)
    if spread > limit:
        closer = (f"; {_number(close)} of you are within {_hours(CLOSE_HOURS)} of each other"
                  if close >= 2 else "")
        return (f"the widest gap between you is {_hours(spread)}, more than the "
                f"{limit:g}-hour limit{closer}")
    if spread == 0:
        return "you are all in the same time zone"
    closer = (f", {_number(close)} of you within {_hours(CLOSE_HOURS)}"
              if 2 <= close < len(offsets) else "")
    return f"you are all within {_hours(spread)} of each other{closer}"


def _most_within(offsets: Sequence[float], hours: float) -> int:
    """The most of these clocks that lie within `hours` of each other."""
    return max(sum(1 for other in offsets if 0 <= (other - start) % 24 <= hours)
               for start in offsets)


def _hours(hours: float) -> str:
    return "1 hour" if hours == 1 else f"{hours:g} hours"


def _number(count: int) -> str:
    return NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else str(count)


def _why_impossible(spoken: Sequence[frozenset[str]], *, min_size: int, max_size: int) -> str:
    sizes = f"exactly {min_size}" if min_size == max_size else f"{min_size} to {max_size}"
    total = len(spoken)
    if math.ceil(total / max_size) > total // min_size:
        return (f"{total} members cannot be split into circles of {sizes} people: "
                f"change the circle sizes.")
    speakers = Counter(code for languages in spoken for code in languages)
    alone = Counter(next(iter(languages)) for languages in spoken if len(languages) == 1)
    for code in sorted(alone, key=lambda c: (speakers[c], c)):
        if speakers[code] < min_size:
            name = language_name(code)
            return (f"Only {speakers[code]} {_members(speakers[code])} can meet in {name} "
                    f"({alone[code]} of them in no other language), fewer than the smallest "
                    f"circle size of {min_size}: allow circles of {speakers[code]}, or find "
                    f"another language those members share.")
    counts = ", ".join(f"{language_name(code)} {speakers[code]} ({alone[code]} only that)"
                       for code in sorted(speakers, key=lambda c: (-speakers[c], c)))
    return (f"The members cannot be split into circles of {sizes} people who share a "
            f"language (speakers per language: {counts}): widen the circle sizes or add "
            f"languages members can meet in.")


def _members(count: int) -> str:
    return "member" if count == 1 else "members"


def _theme_overlap(themes: Sequence[frozenset[str]]) -> tuple[np.ndarray, np.ndarray]:
    """Jaccard overlap of every two distinct theme sets, and each row's set."""
    position: dict[frozenset[str], int] = {}
    index = np.array([position.setdefault(tags, len(position)) for tags in themes],
                     dtype=np.int64)
    column = {tag: n for n, tag in enumerate(sorted(set().union(*position)))}
    chosen = np.zeros((len(position), len(column)), dtype=np.float32)
    for row, tags in enumerate(position):
        chosen[row, [column[tag] for tag in tags]] = 1.0
    shared = chosen @ chosen.T
    own = chosen.sum(axis=1)
    union = own[:, np.newaxis] + own[np.newaxis, :] - shared
    return shared / np.maximum(union, 1), index
