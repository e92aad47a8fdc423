"""Why a pair was suggested, in words a person can read.

Every phrase is built from something true of the pair: themes both carry, the
text similarity band, a language both name, the distance between their clocks,
wishes the mentor offers. Nothing is said that the data does not show.
"""

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from app.matching.scoring import MemberProfile, MentorProfile

NOTHING_IN_COMMON = "little in common beyond having room to mentor"
MOST_NAMED = 3

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
            self._themes[shared_themes], purpose_band(text_similarity, self.bands),
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
    return f"offers what was asked for: {words(sorted(offered))}" if offered else ""
