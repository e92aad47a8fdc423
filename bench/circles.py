"""Peer circles on synthetic cohorts: time and mean within-circle similarity beside baselines.

Members get purpose statements, themes, languages and time zones from the word
lists of bench/match.py (seeded, so every run groups the same people). Each
size runs in a child process of its own. In the same run, on the same
similarity matrix, language pools and circle sizes as form_circles chose, two
baselines group the members: at random, and greedily (a random unplaced
member with the unplaced members most similar to it).

    .venv/bin/python -m bench.circles [--sizes 200,10000] [--size 5]
"""

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from collections.abc import Sequence

import numpy as np

from bench.match import LANGUAGES, OFFSETS, THEMES, purpose


def cohort(members: int, seed: int = 7) -> tuple[list, list[str]]:
    from app.matching.circles import CircleMember

    rng = random.Random(seed)  # noqa: S311 - a reproducible cohort, not a secret
    keys = list(THEMES)
    people, texts = [], []
    for n in range(members):
        themes = rng.sample(keys, rng.choice([1, 1, 2]))
        texts.append(purpose(rng, themes, []))
        languages = rng.choices([v for v, _ in LANGUAGES], [w for _, w in LANGUAGES])[0]
        offset = rng.choices([v for v, _ in OFFSETS], [w for _, w in OFFSETS])[0]
        people.append(CircleMember(id=n, vector_index=n, themes=frozenset(themes),
                                   languages=frozenset(languages), utc_offset_hours=offset))
    return people, texts


def mean_within(similarity: np.ndarray, circles: Sequence[Sequence[int]]) -> float:
    """The mean over circles of each circle's mean pair similarity."""
    means = []
    for circle in circles:
        rows = np.array(circle)
        block = similarity[np.ix_(rows, rows)].astype(np.float64)
        means.append((block.sum() - np.trace(block)) / (len(rows) * (len(rows) - 1)))
    return float(np.mean(means))


def over_limit(offsets: np.ndarray, circles: Sequence[Sequence[int]], limit: float) -> int:
    from app.matching.circle_search import spread_hours

    return sum(spread_hours([float(offsets[m]) for m in circle]) > limit for circle in circles)


def random_grouping(pools: list[tuple[list[int], list[int]]],
                    rng: random.Random) -> list[list[int]]:
    circles = []
    for people, sizes in pools:
        shuffled = rng.sample(people, len(people))
        for size in sizes:
            circles.append(shuffled[:size])
            shuffled = shuffled[size:]
    return circles


def greedy_grouping(similarity: np.ndarray, pools: list[tuple[list[int], list[int]]],
                    rng: random.Random) -> list[list[int]]:
    circles = []
    for people, sizes in pools:
        rows = np.array(people)
        block = similarity[np.ix_(rows, rows)].astype(np.float32)
        free = np.ones(len(people), dtype=bool)
        order = rng.sample(range(len(people)), len(people))
        cursor = 0
        for size in sorted(sizes, reverse=True):
            while not free[order[cursor]]:
                cursor += 1
            seed = order[cursor]
            free[seed] = False
            likeness = np.where(free, block[seed], -np.inf)
            rest = np.argsort(-likeness, kind="stable")[:size - 1]
            free[rest] = False
            circles.append([people[seed], *(people[int(r)] for r in rest)])
    return circles


def run_case(members: int, size: int) -> dict[str, float]:
    from app.matching.circles import form_circles, purpose_similarity

    people, texts = cohort(members)
    start, cpu_start = time.perf_counter(), time.process_time()
    similarity = purpose_similarity(texts, [p.themes for p in people])
    similarity_seconds = time.perf_counter() - start
    similarity_cpu = time.process_time() - cpu_start
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    drafts = form_circles(people, similarity, min_size=size, max_size=size)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    circles = [list(draft.members) for draft in drafts]
    pools: dict[str, tuple[list[int], list[int]]] = {}
    for draft in drafts:
        people_here, sizes = pools.setdefault(draft.language, ([], []))
        people_here.extend(draft.members)
        sizes.append(len(draft.members))
    rng = random.Random(11)  # noqa: S311
    start = time.perf_counter()
    greedy = greedy_grouping(similarity, list(pools.values()), rng)
    greedy_seconds = time.perf_counter() - start
    at_random = random_grouping(list(pools.values()), rng)
    offsets = np.array([p.utc_offset_hours for p in people])
    return {
        "members": members, "circles": len(drafts), "languages": len(pools),
        "similarity_seconds": similarity_seconds, "similarity_cpu": similarity_cpu,
        "seconds": seconds,
        "cpu_seconds": (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
        "peak_mb": after.ru_maxrss / 1024,
        "mean": mean_within(similarity, circles), "greedy": mean_within(similarity, greedy),
        "random": mean_within(similarity, at_random), "greedy_seconds": greedy_seconds,
        "over": over_limit(offsets, circles, 6.0), "greedy_over": over_limit(offsets, greedy, 6.0),
        "random_over": over_limit(offsets, at_random, 6.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="200,10000")
    parser.add_argument("--size", type=int, default=5, help="members per circle")
    parser.add_argument("--case", type=int, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.case:
        print(json.dumps(run_case(options.case, options.size)))
        return
    print(f"{'members':>8} {'circles':>8} {'similarity s':>13} {'cpu s':>7} {'circles s':>10} "
          f"{'cpu s':>7} "
          f"{'peak MB':>8} {'mean sim':>9} {'greedy':>8} {'random':>8} {'× greedy':>9} "
          f"{'× random':>9} {'over 6 h':>9} {'greedy over':>12} {'random over':>12}")
    for members in options.sizes.split(","):
        child = subprocess.run(
            [sys.executable, "-m", "bench.circles", "--case", members, "--size", str(options.size)],
            check=True, capture_output=True, text=True)
        r = json.loads(child.stdout)
        print(f"{r['members']:>8,} {r['circles']:>8,} {r['similarity_seconds']:13.2f} "
              f"{r['similarity_cpu']:7.2f} "
              f"{r['seconds']:10.2f} {r['cpu_seconds']:7.2f} {r['peak_mb']:8.0f} "
              f"{r['mean']:9.4f} {r['greedy']:8.4f} {r['random']:8.4f} "
              f"{r['mean'] / r['greedy']:9.3f} {r['mean'] / r['random']:9.3f} "
              f"{r['over']:>9,} {r['greedy_over']:>12,} {r['random_over']:>12,}")
    print("similarity s: purpose_similarity (TF-IDF text and theme overlap), wall clock; "
          "circles s: form_circles alone, wall clock;\ncpu s: the one before it in processor "
          "time (user + system), which other work on the machine does not inflate; "
          "mean sim: the mean over circles of each circle's mean pair similarity;\n"
          "greedy, random: the same measure for the baselines, on the same languages and "
          "circle sizes;\nover 6 h: circles whose members are more than 6 hours apart.")


if __name__ == "__main__":
    main()
