"""Themes and content items for tests, made through the real services and committed."""

from typing import Any

from sqlmodel import Session

from app.community import content, themes
from app.community.content_forms import ContentForm
from app.community.models import ContentItem, Theme


def create_theme(db: Session, label: str) -> Theme:
    theme = themes.add_theme(db, label=label)
    db.commit()
    return theme


def create_item(db: Session, **overrides: Any) -> ContentItem:
    fields = {"title": "A walk in the park", "summary": "Go for a walk and notice things.",
              "body": "Walk for twenty minutes without your phone.", "kind": "exercise",
              **overrides}
    item = content.create_item(db, fields=ContentForm(**fields), created_by_id=None)
    db.commit()
    return item
