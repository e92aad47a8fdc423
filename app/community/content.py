"""The content library: items managers write or import, and the ones suggested to a member."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.clock import now
from app.community.content_forms import ContentForm, language_names
from app.community.models import ContentItem
from app.community.service import theme_labels
from app.errors import NotFound, TelosError
from app.journeys import service as journeys
from app.matching.engine import ContentProfile, MemberProfile, suggest_content


class DuplicateTitle(TelosError):
    status_code = 409
    title = "That title is taken"


class EditConflict(TelosError):
    """Another manager saved the item after this one opened it."""

    status_code = 409
    title = "Changed by someone else"

    def __init__(self, current: ContentItem) -> None:
        super().__init__("Someone else saved this item after you opened it. Your changes are "
                         "below, not saved yet; compare them with the saved version and save "
                         "again to replace it.")
        self.current = current


def title_key(title: str) -> str:
    return " ".join(title.lower().split())


# Reading ------------------------------------------------------------------------------


def items(
    session: Session, *, kind: str = "", theme: str = "", language: str = "",
    archived: bool = False,
) -> list[ContentItem]:
    query = select(ContentItem).where(ContentItem.archived == archived)
    if kind:
        query = query.where(ContentItem.kind == kind)
    if language:
        query = query.where(ContentItem.language == language)
    found = session.exec(query.order_by(col(ContentItem.title)))
    return [item for item in found if not theme or theme in item.themes]


def get_item(session: Session, item_id: int) -> ContentItem:
    item = session.get(ContentItem, item_id)
    if item is None:
        raise NotFound("There is no content item with that number.")
    return item


def readable_item(session: Session, *, item_id: int, manager: bool) -> ContentItem:
    """An item to read in the library; archived ones only for managers."""
    item = get_item(session, item_id)
    if item.archived and not manager:
        raise NotFound("There is no content item with that number.")
    return item


def existing_titles(session: Session) -> dict[str, ContentItem]:
    return {item.title_key: item for item in session.exec(select(ContentItem))}


def unknown_choices(session: Session, *, fields: ContentForm) -> dict[str, str]:
    """Messages for themes or stages that are not (or no longer) on offer."""
    errors = {}
    if set(fields.themes) - set(theme_labels(session)):
        errors["themes"] = "Choose themes from the list; one of them is no longer on it."
    if set(fields.stages) - {choice.key for choice in stage_choices(session)}:
        errors["stages"] = "Choose phases and stages from the list."
    return errors


# Writing ------------------------------------------------------------------------------


def _values(fields: ContentForm) -> dict[str, Any]:
    return {
        "title": fields.title, "title_key": title_key(fields.title), "summary": fields.summary,
        "url": fields.url, "body": fields.body, "kind": fields.kind,
        "themes": list(dict.fromkeys(fields.themes)), "stages": list(dict.fromkeys(fields.stages)),
        "language": fields.language,
    }


def _refuse_taken_title(session: Session, title: str, *, keep: int | None = None) -> None:
    same = session.exec(select(ContentItem).where(ContentItem.title_key == title_key(title)))
    if any(item.id != keep for item in same):
        raise DuplicateTitle("Another item already has this title. Choose a different one.")


def create_items(
    session: Session, *, rows: Iterable[ContentForm], created_by_id: int | None
) -> list[ContentItem]:
    """All the items or none: a title taken meanwhile undoes the whole batch."""
    created = [ContentItem(**_values(row), created_by_id=created_by_id) for row in rows]
    keys = [item.title_key for item in created]
    taken = select(ContentItem.id).where(col(ContentItem.title_key).in_(keys))
    if session.exec(taken).first() is not None:
        raise DuplicateTitle("Another item already has this title. Choose a different one.")
    try:
        with session.begin_nested():
            session.add_all(created)
    except IntegrityError:
        raise DuplicateTitle("Another item already has this title. Choose a different one.") \
            from None
    _suggestions_again(session)
    return created


def create_item(session: Session, *, fields: ContentForm, created_by_id: int | None) -> ContentItem:
    return create_items(session, rows=[fields], created_by_id=created_by_id)[0]


def update_item(
    session: Session, *, item: ContentItem, fields: ContentForm, base_version: int
) -> ContentItem:
    _refuse_taken_title(session, fields.title, keep=item.id)
    try:
        with session.begin_nested():
            changed = session.execute(
                update(ContentItem)
                .where(col(ContentItem.id) == item.id, col(ContentItem.version) == base_version)
                .values(**_values(fields), version=col(ContentItem.version) + 1, updated_at=now())
            )
    except IntegrityError:
        raise DuplicateTitle("Another item already has this title. Choose a different one.") \
            from None
    session.refresh(item)
    if changed.rowcount == 0:  # type: ignore[attr-defined]
        raise EditConflict(item)
    _suggestions_again(session)
    return item


def set_archived(session: Session, *, item: ContentItem, archived: bool) -> None:
    item.archived = archived
    item.updated_at = now()
    session.add(item)
    session.flush()
    _suggestions_again(session)


def _suggestions_again(session: Session) -> None:
    from app.matching import service as matching  # late: matching builds on this module

    matching.pool_changed(session)


# Journey stages -----------------------------------------------------------------------


@dataclass(frozen=True)
class StageChoice:
    key: str
    label: str
    phase: str  # the phase's own key for a phase


def stage_choices(session: Session) -> list[StageChoice]:
    """The phases and stages of the loaded journeys, each key once, in journey order."""
    choices: dict[str, StageChoice] = {}
    for version in journeys.available_journeys(session):
        for phase in journeys.definition_of(version).phases:
            choices.setdefault(phase.id, StageChoice(phase.id, phase.title, phase.id))
            for stage in phase.stages:
                choices.setdefault(stage.id, StageChoice(stage.id, stage.title, phase.id))
    return list(choices.values())


def _stage_family(choices: Sequence[StageChoice]) -> dict[str, set[str]]:
    """What each key covers: a phase its stages, a stage its phase (asking "discover" finds
    items for "reflect", and asking "reflect" finds items for the whole Discover phase)."""
    family: dict[str, set[str]] = {}
    for choice in choices:
        family.setdefault(choice.key, {choice.key}).add(choice.phase)
        family.setdefault(choice.phase, {choice.phase}).add(choice.key)
    return family


# Suggestions --------------------------------------------------------------------------


@dataclass(frozen=True)
class SuggestedContent:
    item: ContentItem
    score: float
    explanation: str


def profile_of(item: ContentItem, family: dict[str, set[str]]) -> ContentProfile:
    stages = {key for stage in item.stages for key in family.get(stage, {stage})}
    return ContentProfile(
        id=str(item.id), text=f"{item.title}\n{item.summary}\n{item.body}",
        themes=frozenset(item.themes), languages=language_names(item.language),
        kind=item.kind, stages=frozenset(stages),
    )


def in_languages(item: ContentItem, languages: frozenset[str]) -> bool:
    return not languages or bool(language_names(item.language) & languages)


def suggestions(
    session: Session, *, member: MemberProfile, k: int = 5, stage: str | None = None,
    encoder: Any = None,
) -> list[SuggestedContent]:
    """The member's top k active items in their languages, varied (not near-duplicates)."""
    languages = frozenset(language.lower() for language in member.languages)
    shown = {str(item.id): item for item in items(session) if in_languages(item, languages)}
    if not shown:
        return []
    family = _stage_family(stage_choices(session))
    chosen = suggest_content(
        member, [profile_of(item, family) for item in shown.values()], k=k, stage=stage,
        encoder=encoder, theme_labels=theme_labels(session),
    )
    return [SuggestedContent(shown[pick.content_id], pick.score, pick.explanation)
            for pick in chosen]
