"""Why a pair was suggested, in words a person can read.

Every phrase is built from something true of the pair: themes both carry, the
mentor's themes the member writes about, the words both texts use, the text
similarity band, a language both name, the distance between their clocks,
wishes the mentor offers. Nothing is said that the data does not show, and an
item's kind (article, exercise) is never a reason.
"""

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Protocol

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from app.matching.wishes import wish_label

if TYPE_CHECKING:
    from app.matching.scoring import MemberProfile, MentorProfile

NOTHING_IN_COMMON = "little in common beyond having room to mentor"
MOST_NAMED = 3
WORD = re.compile(r"[^\W\d_]{3,}")
# Words nearly every purpose uses; that two texts share them says nothing.
COMMON_WORDS = frozenset({
    "help", "helping", "helps", "people", "want", "wants", "like", "make", "way", "ways",
    "thing", "things", "really", "also", "feel", "just", "year", "years", "time", "good",
    "know", "work", "life", "day", "days", "lot", "new", "use", "try", "able",
})
# Plural and verb endings, so "teaching", "teachers" and "teach" are one word.
ENDINGS = ("ings", "ing", "ers", "er", "es", "ed", "s")

LANGUAGE_NAMES = {
    "ar": "Arabic", "bn": "Bengali", "ca": "Catalan", "cs": "Czech", "da": "Danish",
    "de": "German", "el": "Greek", "en": "English", "es": "Spanish", "fa": "Persian",
    "fi": "Finnish", "fr": "French", "he": "Hebrew", "hi": "Hindi", "hu": "Hungarian",
    "id": "Indonesian", "it": "Italian", "ja": "Japanese", "ko": "Korean", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sv": "Swedish", "sw": "Swahili", "ta": "Tamil", "th": "Thai", "tl": "Tagalog",
    "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}


class Bands(Protocol):
    similar: float
    very_similar: float


def explain_pair(member: "MemberProfile", mentor: "MentorProfile", *, text_similarity: float,
                 encoder: Bands, theme_labels: Mapping[str, str]) -> str:
    return Explainer(encoder, theme_labels).pair(member, mentor, text_similarity)


class Explainer:
    """explain_pair for many pairs: each phrase is built once per distinct thing it says."""

    def __init__(self, bands: Bands, theme_labels: Mapping[str, str]) -> None:
        self.bands = bands
        self.theme_labels = theme_labels
        self._themes: dict[frozenset[str], str] = {}
        self._languages: dict[tuple[frozenset[str], frozenset[str]], str] = {}
        self._time: dict[tuple[float | None, float | None], str] = {}
        self._offers: dict[frozenset[str], str] = {}

    def pair(self, member: "MemberProfile", mentor: "MentorProfile",
             text_similarity: float) -> str:
        shared_themes = member.themes & mentor.themes
        if shared_themes not in self._themes:
            self._themes[shared_themes] = _themes(shared_themes, self.theme_labels)
        languages = (member.languages, mentor.languages)
        if languages not in self._languages:
            self._languages[languages] = _languages(*languages)
        clocks = (member.utc_offset_hours, mentor.utc_offset_hours)
        if clocks not in self._time:
            self._time[clocks] = _time_apart(*clocks)
        offered = member.wishes & mentor.offers
        if offered not in self._offers:
            self._offers[offered] = _offers(offered)
        said = [reason for reason in (
            self._themes[shared_themes],
            _themes_written(member.text, mentor.themes - member.themes, self.theme_labels),
            words_shared(member.text, mentor.text, "their profile speaks of"),
            purpose_band(text_similarity, self.bands),
            self._languages[languages], self._time[clocks], self._offers[offered],
        ) if reason]
        return "; ".join(said) if said else NOTHING_IN_COMMON


def purpose_band(similarity: float, encoder: Bands) -> str:
    if similarity >= encoder.very_similar:
        return "very similar purpose"
    if similarity >= encoder.similar:
        return "similar purpose"
    return ""


def theme_label(key: str, theme_labels: Mapping[str, str]) -> str:
    """The theme's label in running text: "Youth education" reads "youth education"."""
    label = theme_labels.get(key, key).strip()
    first, _, rest = label.partition(" ")
    if first[:1].isupper() and first[1:].islower():
        return f"{first.lower()} {rest}".strip()
    return label


def language_name(code: str) -> str:
    primary = code.strip().lower().replace("_", "-").split("-")[0]
    if primary in LANGUAGE_NAMES:
        return LANGUAGE_NAMES[primary]
    return code.strip()[:1].upper() + code.strip()[1:]


def words(items: Iterable[str]) -> str:
    """"a", "a and b", "a, b and c", "a, b, c and 2 more"."""
    listed = list(items)
    if len(listed) > MOST_NAMED:
        listed = [*listed[:MOST_NAMED], f"{len(listed) - MOST_NAMED} more"]
    if len(listed) <= 1:
        return "".join(listed)
    return f"{', '.join(listed[:-1])} and {listed[-1]}"


def hours_apart(left: float, right: float) -> float:
    apart = abs(left - right) % 24
    return min(apart, 24 - apart)


def _stem(word: str) -> str:
    for ending in ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[:-len(ending)]
    return word


@lru_cache(maxsize=200_000)
def content_words(text: str) -> dict[str, str]:
    """The stems of the words of `text` that carry meaning, each with the first form the
    text uses, in the order the text uses them."""
    found: dict[str, str] = {}
    for word in WORD.findall(text.lower()):
        if word not in ENGLISH_STOP_WORDS and word not in COMMON_WORDS:
            found.setdefault(_stem(word), word)
    return found


def shared_words(member_text: str, other_text: str) -> list[str]:
    """The member's words (as they wrote them) that the other text uses too."""
    other = content_words(other_text)
    return [word for stem, word in content_words(member_text).items() if stem in other]


def words_shared(member_text: str, other_text: str, lead: str) -> str:
    """The longest (most particular) shared words, named in the member's order."""
    shared = shared_words(member_text, other_text)
    kept = set(sorted(shared, key=len, reverse=True)[:MOST_NAMED])
    found = [word for word in shared if word in kept]
    return f"{lead} {words(found)}, as you do" if found else ""


def themes_written(member_text: str, themes: Iterable[str],
                   theme_labels: Mapping[str, str]) -> list[str]:
    """The themes whose every meaningful word the member's text uses, as labels."""
    written = content_words(member_text)
    found = []
    for key in themes:
        label = theme_label(key, theme_labels)
        needed = content_words(label)
        if needed and all(stem in written for stem in needed):
            found.append(label)
    return sorted(found)


def _themes_written(member_text: str, themes: Iterable[str],
                    theme_labels: Mapping[str, str]) -> str:
    found = themes_written(member_text, themes, theme_labels)
    return f"you write about {words(found)}, which they mentor in" if found else ""


def _themes(shared: frozenset[str], theme_labels: Mapping[str, str]) -> str:
    if not shared:
        return ""
    return "both care about " + words(sorted(theme_label(key, theme_labels) for key in shared))


def _languages(member: frozenset[str], mentor: frozenset[str]) -> str:
    names_member = {language_name(code) for code in member}
    shared = names_member & {language_name(code) for code in mentor}
    return f"both speak {words(sorted(shared))}" if shared else ""


def _time_apart(member: float | None, mentor: float | None) -> str:
    if member is None or mentor is None:
        return ""
    apart = hours_apart(member, mentor)
    if apart == 0:
        return "same time zone"
    shown = f"{apart:g}"
    return f"{shown} hour apart" if apart == 1 else f"{shown} hours apart"


def _offers(offered: frozenset[str]) -> str:
    if not offered:
        return ""
    return f"offers what was asked for: {words(sorted(wish_label(key) for key in offered))}"
