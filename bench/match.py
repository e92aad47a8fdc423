"""The matcher on synthetic cohorts: time, peak memory, total score beside a greedy baseline.

Members and mentors get purpose statements and bios written from word lists
below (seeded, so every run scores the same people). Each size runs in a child
process of its own, so its peak resident memory is its own.

    .venv/bin/python -m bench.match [--sizes 1000x100,10000x1000,100000x5000] [--top-k 10]
"""

import argparse
import json
import math
import random
import resource
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

THEMES: dict[str, dict[str, list[str]]] = {
    "youth-education": {
        "who": ["young people", "teenagers", "first-generation students", "school leavers",
                "children in care"],
        "do": ["tutor", "coach", "encourage", "teach", "stand beside"],
        "what": ["reading", "maths", "study habits", "university applications",
                 "confidence in class"],
        "role": ["secondary school teacher", "youth worker", "literacy tutor",
                 "head of a sixth form", "school counsellor"],
    },
    "climate": {
        "who": ["neighbours", "local councils", "farmers", "commuters", "small businesses"],
        "do": ["organise", "persuade", "support", "bring together", "train"],
        "what": ["cutting emissions", "home insulation", "cycling to work",
                 "renewable energy co-operatives", "flood defences"],
        "role": ["climate campaigner", "energy engineer", "sustainability officer",
                 "environmental scientist", "transport planner"],
    },
    "health": {
        "who": ["patients", "carers", "rural families", "people with long-term illness",
                "new mothers"],
        "do": ["care for", "support", "advocate for", "listen to", "visit"],
        "what": ["getting to appointments", "healthy eating", "recovery at home",
                 "understanding a diagnosis", "staying active"],
        "role": ["community nurse", "general practitioner", "physiotherapist", "midwife",
                 "public health officer"],
    },
    "arts": {
        "who": ["young musicians", "amateur painters", "local theatre groups", "writers",
                "dancers"],
        "do": ["inspire", "teach", "perform with", "encourage", "exhibit"],
        "what": ["songwriting", "community theatre", "public murals", "poetry readings",
                 "photography"],
        "role": ["theatre director", "music teacher", "gallery curator", "novelist",
                 "choir leader"],
    },
    "enterprise": {
        "who": ["small business owners", "market traders", "women founders",
                "first-time entrepreneurs", "social enterprises"],
        "do": ["advise", "fund", "coach", "grow", "back"],
        "what": ["business plans", "bookkeeping", "finding customers", "raising capital",
                 "pricing"],
        "role": ["accountant", "bank manager", "startup founder", "business adviser",
                 "investor"],
    },
    "older-people": {
        "who": ["older neighbours", "people living alone", "retired veterans",
                "people with dementia", "grandparents"],
        "do": ["visit", "befriend", "help", "keep company", "drive"],
        "what": ["loneliness", "staying independent", "digital skills", "shopping",
                 "memory cafes"],
        "role": ["care home manager", "social worker", "occupational therapist",
                 "befriending co-ordinator", "hospice nurse"],
    },
    "newcomers": {
        "who": ["refugees", "asylum seekers", "new arrivals", "migrant families",
                "international students"],
        "do": ["welcome", "guide", "support", "teach", "house"],
        "what": ["learning the language", "finding housing", "job applications",
                 "understanding paperwork", "making friends"],
        "role": ["immigration lawyer", "language teacher", "resettlement case worker",
                 "interpreter", "charity director"],
    },
    "mental-health": {
        "who": ["students under pressure", "men who do not talk", "new parents",
                "people after a loss", "frontline workers"],
        "do": ["listen to", "support", "counsel", "walk alongside", "check in on"],
        "what": ["anxiety", "burnout", "grief", "low mood", "sleep"],
        "role": ["psychotherapist", "clinical psychologist", "counsellor",
                 "mental health nurse", "peer support worker"],
    },
    "food": {
        "who": ["hungry families", "school children", "community gardeners",
                "food bank users", "urban growers"],
        "do": ["feed", "grow food with", "cook with", "supply", "teach"],
        "what": ["allotments", "cooking on a budget", "food waste", "school meals",
                 "community kitchens"],
        "role": ["chef", "food bank manager", "market gardener", "nutritionist",
                 "farmer"],
    },
    "technology": {
        "who": ["girls in school", "career changers", "charities", "older learners",
                "unemployed adults"],
        "do": ["teach", "train", "build software for", "mentor", "equip"],
        "what": ["coding", "data skills", "websites", "online safety", "digital tools"],
        "role": ["software engineer", "data scientist", "product manager",
                 "IT trainer", "web developer"],
    },
    "justice": {
        "who": ["people leaving prison", "tenants", "young offenders", "victims of crime",
                "families in debt"],
        "do": ["advise", "defend", "support", "represent", "rehabilitate"],
        "what": ["legal rights", "finding work after prison", "housing disputes",
                 "debt advice", "restorative justice"],
        "role": ["solicitor", "probation officer", "judge", "legal aid adviser",
                 "police officer"],
    },
    "sport": {
        "who": ["children", "girls", "disabled athletes", "teenagers", "older runners"],
        "do": ["coach", "train", "inspire", "organise", "referee for"],
        "what": ["football", "swimming", "running clubs", "team spirit", "fitness"],
        "role": ["football coach", "PE teacher", "personal trainer", "club captain",
                 "sports physiotherapist"],
    },
}
OPENINGS = ["I want to", "My purpose is to", "I hope to", "More than anything I would like to",
            "I feel called to", "Over the next years I mean to"]
PLACES = ["in my town", "in our neighbourhood", "across the city", "in rural areas",
          "where I grew up", "in my community", "online and in person"]
REASONS = ["someone once did the same for me", "I saw how much it changed my sister's life",
           "I spent years in work that did not matter to me",
           "my grandmother taught me that we owe something to each other",
           "I know how it feels to be left out",
           "I was lucky and want to pass that luck on",
           "it is the thing that makes me lose track of time"]
VALUES = ["honesty", "curiosity", "family", "fairness", "courage", "kindness", "freedom",
          "learning", "faith", "creativity", "patience", "respect", "generosity",
          "independence", "community", "humour"]
WISHES = {
    "career": "advice on turning this into paid work",
    "listening": "someone who listens before giving advice",
    "network": "introductions to the right people",
    "skills": "practical skills",
    "accountability": "help keeping going when it gets hard",
    "funding": "advice on finding money to get started",
}
LANGUAGES: list[tuple[set[str], int]] = [
    ({"en"}, 70), ({"en", "es"}, 12), ({"es"}, 6), ({"en", "fr"}, 6), ({"fr"}, 3),
    ({"de", "en"}, 3)]
OFFSETS: list[tuple[float, int]] = [
    (-8, 8), (-5, 14), (-3, 6), (0, 22), (1, 26), (2, 8), (5.5, 6), (8, 6), (10, 4)]


T = TypeVar("T")


def _pick(rng: random.Random, weighted: Sequence[tuple[T, int]]) -> T:
    return rng.choices([value for value, _ in weighted], [w for _, w in weighted])[0]


def purpose(rng: random.Random, themes: list[str], wishes: list[str]) -> str:
    main = THEMES[themes[0]]
    sentences = [
        f"{rng.choice(OPENINGS)} {rng.choice(main['do'])} {rng.choice(main['who'])} with "
        f"{rng.choice(main['what'])} {rng.choice(PLACES)}, because {rng.choice(REASONS)}.",
    ]
    for extra in themes[1:]:
        words = THEMES[extra]
        sentences.append(f"I also care about {rng.choice(words['what'])} for "
                         f"{rng.choice(words['who'])}.")
    chosen = rng.sample(VALUES, 3)
    sentences.append(f"What matters most to me is {chosen[0]}, {chosen[1]} and {chosen[2]}.")
    if wishes:
        sentences.append("From a mentor I would like " + _listed([WISHES[w] for w in wishes])
                         + ".")
    return " ".join(sentences)


def bio(rng: random.Random, themes: list[str], offers: list[str]) -> str:
    main = THEMES[themes[0]]
    role = rng.choice(main["role"])
    sentences = [
        f"I spent {rng.randint(4, 35)} years as {_article(role)} {role} "
        f"{rng.choice(PLACES)}, where I learned to {rng.choice(main['do'])} "
        f"{rng.choice(main['who'])}.",
        f"My proudest work was on {rng.choice(main['what'])} and "
        f"{rng.choice(main['what'])}.",
    ]
    for extra in themes[1:]:
        words = THEMES[extra]
        sentences.append(f"Outside work I volunteer with {rng.choice(words['who'])} on "
                         f"{rng.choice(words['what'])}.")
    sentences.append("I can offer " + _listed([WISHES[o] for o in offers]) + ".")
    return " ".join(sentences)


def _article(noun: str) -> str:
    return "an" if noun[0].lower() in "aeiou" else "a"


def _listed(phrases: list[str]) -> str:
    return phrases[0] if len(phrases) == 1 else f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def cohort(members: int, mentors: int, seed: int = 5) -> tuple[list, list]:
    from app.matching.engine import MemberProfile, MentorProfile

    rng = random.Random(seed)  # noqa: S311 - a reproducible cohort, not a secret
    keys = list(THEMES)
    people = []
    for n in range(members):
        themes = rng.sample(keys, rng.choice([1, 1, 2]))
        wishes = rng.sample(list(WISHES), rng.choice([0, 1, 1, 2]))
        people.append(MemberProfile(
            id=f"m{n}", text=purpose(rng, themes, wishes), themes=frozenset(themes),
            languages=frozenset(_pick(rng, LANGUAGES)), utc_offset_hours=_pick(rng, OFFSETS),
            wishes=frozenset(wishes)))
    places = 1.1 * members / mentors
    guides = []
    for n in range(mentors):
        themes = rng.sample(keys, rng.choice([1, 2, 2, 3]))
        offers = rng.sample(list(WISHES), rng.choice([1, 2, 3]))
        guides.append(MentorProfile(
            id=f"t{n}", text=bio(rng, themes, offers), themes=frozenset(themes),
            languages=frozenset(_pick(rng, LANGUAGES) | ({"en"} if rng.random() < 0.5 else set())),
            utc_offset_hours=_pick(rng, OFFSETS), offers=frozenset(offers),
            capacity=rng.randint(max(1, math.ceil(places / 2)), math.ceil(places * 1.5)),
            accepting=rng.random() > 0.03))
    return people, guides


@dataclass
class Greedy:
    matched: int
    total: float
    seconds: float


def greedy(candidates: Mapping[str, Sequence], capacities: Mapping[str, int]) -> Greedy:
    """Highest-scoring pairs first, each taken while member and mentor are both free."""
    start = time.perf_counter()
    pairs = sorted((c for found in candidates.values() for c in found), key=lambda c: -c.score)
    free = dict(capacities)
    taken: set[str] = set()
    total = 0.0
    for pair in pairs:
        if pair.member_id not in taken and free.get(pair.mentor_id, 0) > 0:
            taken.add(pair.member_id)
            free[pair.mentor_id] -= 1
            total += pair.score
    return Greedy(len(taken), total, time.perf_counter() - start)


def run_case(members: int, mentors: int, top_k: int) -> dict[str, float]:
    from app.matching.engine import assign, make_encoder, match_cohort

    people, guides = cohort(members, mentors)
    before = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    run = match_cohort(people, guides, encoder=make_encoder("tfidf"), top_k=top_k)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    capacities = {g.id: g.capacity for g in guides if g.accepting}
    solve_start = time.perf_counter()
    assign(run.candidates, capacities)
    solve = time.perf_counter() - solve_start
    baseline = greedy(run.candidates, capacities)
    return {
        "members": members, "mentors": mentors, "places": sum(capacities.values()),
        "seconds": seconds, "cpu_seconds": cpu, "solve_seconds": solve,
        "peak_mb": after.ru_maxrss / 1024, "inputs_mb": before.ru_maxrss / 1024,
        "matched": len(run.assignment.pairs),
        "total": run.assignment.total_score, "greedy_matched": baseline.matched,
        "greedy_total": baseline.total, "greedy_seconds": baseline.seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000x100,10000x1000,100000x5000")
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument("--case", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.case:
        members, mentors = map(int, options.case.split("x"))
        print(json.dumps(run_case(members, mentors, options.top_k)))
        return
    print(f"{'members × mentors':>18} {'places':>7} {'match s':>8} {'cpu s':>7} {'solve s':>8} "
          f"{'peak MB':>8} {'matched':>8} {'total score':>12} {'greedy matched':>15} "
          f"{'greedy total':>13} {'× greedy':>9}")
    for size in options.sizes.split(","):
        child = subprocess.run(
            [sys.executable, "-m", "bench.match", "--case", size, "--top-k", str(options.top_k)],
            check=True, capture_output=True, text=True)
        r = json.loads(child.stdout)
        print(f"{r['members']:>8,} × {r['mentors']:<7,} {r['places']:>7,} {r['seconds']:8.2f} "
              f"{r['cpu_seconds']:7.2f} {r['solve_seconds']:8.2f} {r['peak_mb']:8.0f} "
              f"{r['matched']:>8,} {r['total']:12.1f} {r['greedy_matched']:>15,} "
              f"{r['greedy_total']:13.1f} {r['total'] / r['greedy_total']:9.4f}")
    print("match s: scoring, assignment and widening as `telos match file` does them, wall "
          "clock;\ncpu s: the same in processor time (user + system, every thread), which other "
          "work on the machine does not inflate;\nsolve s: the min-cost flow alone; peak MB: "
          "the child's maximum resident memory, inputs included.")


if __name__ == "__main__":
    main()
