"""The shared theme list: purposes, mentors and content items are tagged from it."""

import re
import unicodedata
from collections.abc import Callable

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.community.models import ContentItem, Theme
from app.errors import NotFound, TelosError

KEY_LENGTH = 64


class ThemeProblem(TelosError):
    """A theme label that cannot be used, said beside the label field."""


class ThemeInUse(TelosError):
    status_code = 409
    title = "This theme is in use"


# Other domains that tag things with themes (mentor profiles, purposes) register a
# function saying what uses a theme, so a theme is never deleted from under them.
ThemeUse = Callable[[Session, str], list[str]]
_uses: list[ThemeUse] = []


def register_use(describe: ThemeUse) -> ThemeUse:
    _uses.append(describe)
    return describe


def slug(label: str) -> str:
    """A stable ascii key for a label: "Youth & education" becomes "youth-education"."""
    folded = unicodedata.normalize("NFKD", label).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", folded.lower()).strip("-")[:KEY_LENGTH].strip("-")


def get_theme(session: Session, theme_id: int) -> Theme:
    theme = session.get(Theme, theme_id)
    if theme is None:
        raise NotFound("There is no theme with that number.")
    return theme


def add_theme(session: Session, *, label: str) -> Theme:
    label = _usable_label(session, label)
    key = _free_key(session, slug(label) or "theme")
    theme = Theme(key=key, label=label)
    session.add(theme)
    session.flush()
    return theme


def rename_theme(session: Session, *, theme: Theme, label: str) -> Theme:
    """A new label; the key stays, so everything tagged with the theme keeps it."""
    theme.label = _usable_label(session, label, keep=theme)
    session.add(theme)
    session.flush()
    return theme


def delete_theme(session: Session, *, theme: Theme) -> None:
    uses = theme_uses(session, theme.key)
    if uses:
        raise ThemeInUse(f"“{theme.label}” is still used by " + "; ".join(uses) + ". "
                         "Take the theme off those first, or rename it instead.")
    session.delete(theme)
    session.flush()


def theme_uses(session: Session, key: str) -> list[str]:
    return [use for describe in (_content_uses, *_uses) for use in describe(session, key)]


def content_using(session: Session, key: str) -> list[ContentItem]:
    # Theme lists are short JSON arrays; filtering here keeps one query for both databases.
    items = session.exec(select(ContentItem).order_by(col(ContentItem.title)))
    return [item for item in items if key in item.themes]


def _content_uses(session: Session, key: str) -> list[str]:
    items = content_using(session, key)
    if not items:
        return []
    titles = ", ".join(f"“{item.title}”" for item in items[:3])
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    noun = "content item" if len(items) == 1 else "content items"
    return [f"{len(items)} {noun} ({titles}{more})"]


def _usable_label(session: Session, label: str, *, keep: Theme | None = None) -> str:
    label = " ".join(label.split())
    if not slug(label):
        raise ThemeProblem("Use at least one letter or digit in the name.")
    same = session.exec(
        select(Theme).where(func.lower(Theme.label) == label.lower())
    ).first()
    if same is not None and same is not keep:
        raise ThemeProblem(f"There is already a theme called “{same.label}”.")
    return label


def _free_key(session: Session, base: str) -> str:
    taken = set(session.exec(select(Theme.key)))
    key, number = base, 2
    while key in taken:
        suffix = f"-{number}"
        key, number = base[: KEY_LENGTH - len(suffix)] + suffix, number + 1
    return key


def use_counts(session: Session) -> dict[str, int]:
    """How many content items carry each theme key, for the theme list."""
    counts: dict[str, int] = {}
    for keys in session.exec(select(ContentItem.themes)):
        for key in keys:
            counts[key] = counts.get(key, 0) + 1
    return counts
