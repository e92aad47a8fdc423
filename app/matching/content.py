"""Content for a member: relevant to their purpose, and varied rather than five of a kind.

Relevance is text similarity plus shared themes; the list is then picked by
maximal marginal relevance, so each next item must be relevant and unlike the
items already chosen (in words and in kind).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from app.matching.encoders import Encoder, make_encoder, similarities, transposed
from app.matching.explain import purpose_band, theme_label, themes_written, words, words_shared
from app.matching.scoring import MemberProfile, spoken_languages

TEXT_WEIGHT = 0.65
THEME_WEIGHT = 0.35
# How much relevance counts against resemblance to what was already picked.
RELEVANCE_TRADE = 0.7
# A second item of a kind already picked counts as this much more alike.
SAME_KIND = 0.25
# What is true of an item picked with nothing in common with the member: the list is
# varied on purpose, so it widens what they see.
VARIETY = "something different from the rest of your list"


@dataclass(frozen=True, slots=True)
class ContentProfile:
    id: str
    text: str
    themes: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    kind: str = "article"
    stages: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ContentSuggestion:
    content_id: str
    score: float
    explanation: str


def suggest_content(
    member: MemberProfile, items: Sequence[ContentProfile], *, k: int = 5,
    stage: str | None = None, encoder: Encoder | None = None,
    theme_labels: Mapping[str, str] = {},
) -> list[ContentSuggestion]:
    """Up to k items in the member's languages that suit the stage, relevant and varied."""
    usable = [item for item in items if _suits(item, member, stage)]
    if not usable or k <= 0:
        return []
    encoder = encoder or make_encoder()
    if not encoder.fitted:
        encoder.fit([member.text, *(item.text for item in usable)])
    item_vectors = encoder.encode([item.text for item in usable])
    text = similarities(encoder.encode([member.text]), transposed(item_vectors))[0]
    themes = np.array([_jaccard(member.themes, item.themes) for item in usable], np.float32)
    relevance = TEXT_WEIGHT * text + THEME_WEIGHT * themes
    resemblance = similarities(item_vectors, transposed(item_vectors))
    picked = _most_relevant_and_varied(relevance, resemblance, [i.kind for i in usable], k)
    return [
        ContentSuggestion(usable[n].id, float(relevance[n]),
                          _explain(member, usable[n], float(text[n]), encoder, theme_labels))
        for n in picked
    ]


def _suits(item: ContentProfile, member: MemberProfile, stage: str | None) -> bool:
    shared = spoken_languages(item.languages) & spoken_languages(member.languages)
    speaks = not item.languages or not member.languages or bool(shared)
    in_stage = stage is None or not item.stages or stage in item.stages
    return speaks and in_stage


def _jaccard(left: frozenset[str], right: frozenset[str]) -> float:
    union = len(left | right)
    return len(left & right) / union if union else 0.0


def _most_relevant_and_varied(relevance: np.ndarray, resemblance: np.ndarray,
                              kinds: list[str], k: int) -> list[int]:
    picked: list[int] = []
    closest = np.zeros(len(relevance), dtype=np.float32)
    kind_of = np.array(kinds)
    available = np.ones(len(relevance), dtype=bool)
    for _ in range(min(k, len(relevance))):
        value = RELEVANCE_TRADE * relevance - (1 - RELEVANCE_TRADE) * closest
        value[~available] = -np.inf
        best = int(np.argmax(value))
        picked.append(best)
        available[best] = False
        likeness = resemblance[best] + SAME_KIND * (kind_of == kind_of[best])
        closest = np.maximum(closest, likeness)
    return picked


def _explain(member: MemberProfile, item: ContentProfile, similarity: float,
             encoder: Encoder, theme_labels: Mapping[str, str]) -> str:
    shared = sorted(theme_label(key, theme_labels) for key in member.themes & item.themes)
    written = themes_written(member.text, item.themes - member.themes, theme_labels)
    reasons = [
        f"about {words(shared)}, which you care about" if shared else "",
        f"about {words(written)}, which you write about" if written else "",
        words_shared(member.text, item.text, "speaks of"),
        "close to your purpose" if purpose_band(similarity, encoder) else "",
    ]
    return "; ".join(reason for reason in reasons if reason) or VARIETY
