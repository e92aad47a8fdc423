from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator

from app.accounts.forms import LOCALES
from app.community.models import ContentKind
from app.forms import Form

KINDS = tuple(kind.value for kind in ContentKind)


class ThemeForm(Form):
    label: str = Field(min_length=1, max_length=80)


class ContentForm(Form):
    """One content item as a manager writes it, on the page or as a row of a CSV file."""
    multi_line = frozenset({"summary", "body"})

    title: str = Field(min_length=1, max_length=200)
    summary: str = Field(min_length=1, max_length=600)
    url: str = Field(default="", max_length=500)
    body: str = Field(default="", max_length=20000, validate_default=True)
    kind: str
    themes: list[str] = Field(default_factory=list)
    stages: list[str] = Field(default_factory=list)
    language: str = "en"

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str) -> str:
        parts = urlsplit(value)
        if value and (parts.scheme not in {"http", "https"} or not parts.netloc):
            raise ValueError("Give a full web address starting with https:// (or http://).")
        return value

    @field_validator("body")
    @classmethod
    def _link_or_text(cls, value: str, info: ValidationInfo) -> str:
        if not value and info.data.get("url") == "":
            raise ValueError("Give a text to read here, a link, or both.")
        return value

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value.lower() not in KINDS:
            raise ValueError("Choose one of: " + ", ".join(KINDS) + ".")
        return value.lower()

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        code = language_code(value)
        if code is None:
            raise ValueError("Choose one of the languages: " + ", ".join(LOCALES.values()) + ".")
        return code


# Names people may type for each language, besides its code and its own name.
LANGUAGE_NAMES = {
    "en": ("english",),
    "es": ("spanish", "espanol"),
    "fr": ("french", "francais"),
    "de": ("german",),
    "pt": ("portuguese", "portugues"),
}


def language_names(code: str) -> frozenset[str]:
    """Every lower-case way a member's profile may name the language `code`."""
    return frozenset({code, LOCALES.get(code, code).lower(), *LANGUAGE_NAMES.get(code, ())})


def language_code(value: str) -> str | None:
    wanted = value.strip().lower() or "en"
    return next((code for code in LOCALES if wanted in language_names(code)), None)
