"""Journey versions, enrolments, progress, and step answers that are never silently lost."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, col, select

from app.clock import now
from app.errors import NotFound, TelosError
from app.journeys.definitions import Journey, Phase, Stage, Step, ValuesSortStep
from app.journeys.loader import LoadedJourney
from app.journeys.models import (
    Enrolment,
    EnrolmentStatus,
    JourneyVersion,
    StepAnswer,
    StepStatus,
)

# Autosaves come every few seconds; the enrolment's last activity needs minutes, not writes.
ACTIVITY_GRAIN = timedelta(minutes=1)


class AlreadyEnrolled(TelosError):
    status_code = 409
    title = "You are already on a journey"


class SaveConflict(TelosError):
    """Someone (another tab) saved this step since the page was opened."""

    status_code = 409
    title = "Changed in another window"

    def __init__(self, saved: StepAnswer) -> None:
        super().__init__(
            "This step was saved from another window or device after you opened this page."
        )
        self.saved = saved


# Journey versions -----------------------------------------------------------------


def store_versions(session: Session, journeys: Iterable[LoadedJourney]) -> list[JourneyVersion]:
    """Keeps every journey file's current content as a version; returns the new ones."""
    added = []
    for loaded in journeys:
        exists = session.exec(
            select(JourneyVersion.id).where(
                JourneyVersion.journey_key == loaded.definition.id,
                JourneyVersion.content_hash == loaded.content_hash,
            )
        ).first()
        if exists is None:
            version = JourneyVersion(
                journey_key=loaded.definition.id, content_hash=loaded.content_hash,
                title=loaded.definition.title,
                definition=loaded.definition.model_dump(mode="json"),
            )
            session.add(version)
            added.append(version)
    session.flush()
    return added


def latest_version(session: Session, journey_key: str) -> JourneyVersion | None:
    return session.exec(
        select(JourneyVersion)
        .where(JourneyVersion.journey_key == journey_key)
        .order_by(col(JourneyVersion.id).desc())
    ).first()


def available_journeys(session: Session) -> list[JourneyVersion]:
    newest = (
        select(func.max(JourneyVersion.id)).group_by(col(JourneyVersion.journey_key))
    )
    return list(session.exec(
        select(JourneyVersion).where(col(JourneyVersion.id).in_(newest))
        .order_by(col(JourneyVersion.title))
    ))


_definitions: dict[int, Journey] = {}


def definition_of(version: JourneyVersion) -> Journey:
    """The parsed definition of a stored version (immutable, so parsed once per process)."""
    assert version.id is not None
    if version.id not in _definitions:
        _definitions[version.id] = Journey.model_validate(version.definition)
    return _definitions[version.id]


# Enrolments ---------------------------------------------------------------------------


def active_enrolment(session: Session, *, user_id: int) -> Enrolment | None:
    return session.exec(
        select(Enrolment).where(
            Enrolment.user_id == user_id, Enrolment.status == EnrolmentStatus.active
        )
    ).first()


def current_enrolment(
    session: Session, *, user_id: int, including_left: bool = False
) -> Enrolment | None:
    """The active journey, else the last one completed (still open to revisit); with
    `including_left`, else the last one left (what was written there stays readable)."""
    query = select(Enrolment).where(Enrolment.user_id == user_id)
    if not including_left:
        query = query.where(Enrolment.status != EnrolmentStatus.left)
    rows = session.exec(query.order_by(col(Enrolment.id).desc())).all()
    active = (row for row in rows if row.status == EnrolmentStatus.active)
    return next(active, rows[0] if rows else None)


def enrol(
    session: Session, *, user_id: int, journey_key: str, cohort_id: int | None = None
) -> Enrolment:
    current = active_enrolment(session, user_id=user_id)
    if current is not None:
        version = session.get(JourneyVersion, current.journey_version_id)
        title = version.title if version else "another journey"
        raise AlreadyEnrolled(
            f"You are on “{title}” now. A member walks one journey at a time: "
            "finish it, or leave it from your journey page, before joining another."
        )
    version = latest_version(session, journey_key)
    if version is None:
        raise NotFound(f"There is no journey called {journey_key!r}.")
    assert version.id is not None
    enrolment = Enrolment(
        user_id=user_id, journey_version_id=version.id, cohort_id=cohort_id,
        status=EnrolmentStatus.active,
    )
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:
        # Another request started a journey for this member a moment before.
        raise AlreadyEnrolled("You have just started a journey in another window; "
                              "continue it from your journey page.") from None
    return enrolment


def leave(session: Session, *, enrolment: Enrolment) -> None:
    enrolment.status = EnrolmentStatus.left
    session.add(enrolment)
    session.flush()


def journey_of(session: Session, enrolment: Enrolment) -> Journey:
    """The pinned definition; versions never change, so a parsed one is reused."""
    cached = _definitions.get(enrolment.journey_version_id)
    if cached is not None:
        return cached
    version = session.get(JourneyVersion, enrolment.journey_version_id)
    assert version is not None
    return definition_of(version)


# Progress -------------------------------------------------------------------------------


class Status(StrEnum):
    not_started = "not started"
    in_progress = "in progress"
    done = "done"
    locked = "locked"


@dataclass(frozen=True)
class StepProgress:
    step: Step
    status: Status
    number: int


@dataclass(frozen=True)
class StageProgress:
    stage: Stage
    steps: list[StepProgress]


@dataclass(frozen=True)
class PhaseProgress:
    phase: Phase
    stages: list[StageProgress]


@dataclass(frozen=True)
class Progress:
    phases: list[PhaseProgress]
    steps: list[StepProgress]

    @property
    def done(self) -> int:
        return sum(1 for item in self.steps if item.status == Status.done)

    @property
    def percent(self) -> int:
        return round(100 * self.done / len(self.steps)) if self.steps else 0

    @property
    def next_step(self) -> StepProgress | None:
        return next((item for item in self.steps if item.status != Status.done), None)

    def of(self, step_id: str) -> StepProgress:
        for item in self.steps:
            if item.step.id == step_id:
                return item
        raise NotFound("This journey has no such step.")

    def neighbours(self, step_id: str) -> tuple[Step | None, Step | None]:
        ids = [item.step.id for item in self.steps]
        index = ids.index(step_id)
        before = self.steps[index - 1].step if index > 0 else None
        after = self.steps[index + 1].step if index + 1 < len(self.steps) else None
        return before, after


def step_statuses(session: Session, enrolment_id: int) -> dict[str, StepStatus]:
    rows = session.exec(
        select(StepAnswer.step_id, StepAnswer.status).where(
            StepAnswer.enrolment_id == enrolment_id
        )
    )
    return {step_id: StepStatus(status) for step_id, status in rows}


def progress(journey: Journey, saved: dict[str, StepStatus]) -> Progress:
    """Steps open in order: each is open once every step before it is done."""
    phases, flat = [], []
    blocked = False
    number = 0
    for phase in journey.phases:
        stages = []
        for stage in phase.stages:
            items = []
            for step in stage.steps:
                number += 1
                status = _status(saved.get(step.id), blocked)
                blocked = blocked or status != Status.done
                items.append(StepProgress(step=step, status=status, number=number))
            flat.extend(items)
            stages.append(StageProgress(stage=stage, steps=items))
        phases.append(PhaseProgress(phase=phase, stages=stages))
    return Progress(phases=phases, steps=flat)


def _status(saved: StepStatus | None, blocked: bool) -> Status:
    if saved == StepStatus.done:
        return Status.done
    if blocked:
        return Status.locked
    return Status.in_progress if saved == StepStatus.in_progress else Status.not_started


def enrolment_progress(session: Session, enrolment: Enrolment) -> Progress:
    assert enrolment.id is not None
    return progress(journey_of(session, enrolment), step_statuses(session, enrolment.id))


# Step answers ------------------------------------------------------------------------------


def answer_for(session: Session, *, enrolment_id: int, step_id: str) -> StepAnswer | None:
    return session.exec(
        select(StepAnswer).where(
            StepAnswer.enrolment_id == enrolment_id, StepAnswer.step_id == step_id
        )
    ).first()


def save_answer(
    session: Session,
    *,
    enrolment: Enrolment,
    step_id: str,
    data: dict[str, Any],
    base_version: int,
    editor: str,
    done: bool = False,
) -> StepAnswer:
    """Saves `data` if nobody else saved the step since `base_version`; else SaveConflict.

    The same page (one `editor`) may save repeatedly without reloading: its own
    autosaves never count as a conflict with itself.
    """
    assert enrolment.id is not None
    moment = now()
    existing = answer_for(session, enrolment_id=enrolment.id, step_id=step_id)
    if existing is None:
        answer = _insert_answer(session, enrolment.id, step_id, data, editor, done)
    else:
        answer = _update_answer(session, existing, data, base_version, editor, done)
    if enrolment.current_step_id != step_id or moment - enrolment.last_activity_at > ACTIVITY_GRAIN:
        enrolment.current_step_id = step_id
        enrolment.last_activity_at = moment
        session.add(enrolment)
    session.flush()
    return answer


def _insert_answer(
    session: Session, enrolment_id: int, step_id: str, data: dict[str, Any], editor: str,
    done: bool,
) -> StepAnswer:
    answer = StepAnswer(
        enrolment_id=enrolment_id, step_id=step_id, data=data, editor=editor,
        status=StepStatus.done if done else StepStatus.in_progress,
    )
    try:
        with session.begin_nested():
            session.add(answer)
    except IntegrityError:
        # Another request inserted the first answer a moment before this one. From this
        # same page (an autosave racing Continue) that is no conflict: update it instead.
        saved = answer_for(session, enrolment_id=enrolment_id, step_id=step_id)
        assert saved is not None
        if saved.editor != editor:
            raise SaveConflict(saved) from None
        return _update_answer(session, saved, data, saved.version, editor, done)
    return answer


def _update_answer(
    session: Session, existing: StepAnswer, data: dict[str, Any], base_version: int,
    editor: str, done: bool,
) -> StepAnswer:
    status = StepStatus.done if done or existing.status == StepStatus.done else None
    values: dict[str, Any] = {
        "data": data, "version": StepAnswer.version + 1, "editor": editor,
        "updated_at": now(),
    }
    if status is not None:
        values["status"] = status
    saved = session.execute(
        update(StepAnswer)
        .where(
            col(StepAnswer.id) == existing.id,
            (col(StepAnswer.version) == base_version) | (col(StepAnswer.editor) == editor),
        )
        .values(**values)
        .returning(col(StepAnswer.version), col(StepAnswer.updated_at), col(StepAnswer.status))
    ).first()
    if saved is None:
        session.refresh(existing)
        raise SaveConflict(existing)
    # What the UPDATE wrote, without reading the row back.
    for name, value in (("data", data), ("editor", editor), *saved._mapping.items()):
        set_committed_value(existing, name, value)
    return existing


def mark_done(session: Session, *, enrolment: Enrolment, step_id: str) -> None:
    """Marks a step done that stores nothing of its own (content, survey, match)."""
    assert enrolment.id is not None
    answer = answer_for(session, enrolment_id=enrolment.id, step_id=step_id)
    if answer is None:
        session.add(StepAnswer(enrolment_id=enrolment.id, step_id=step_id, data={},
                               editor="", status=StepStatus.done))
    elif answer.status != StepStatus.done:
        answer.status = StepStatus.done
        answer.updated_at = now()
        session.add(answer)
    enrolment.last_activity_at = now()
    session.add(enrolment)
    session.flush()


def complete_if_finished(session: Session, *, enrolment: Enrolment) -> bool:
    """Marks the enrolment completed once every step is done."""
    if enrolment.status != EnrolmentStatus.active:
        return False
    if enrolment_progress(session, enrolment).next_step is not None:
        return False
    enrolment.status = EnrolmentStatus.completed
    enrolment.completed_at = now()
    session.add(enrolment)
    session.flush()
    return True


# For the matcher ------------------------------------------------------------------------


def chosen_values(session: Session, *, enrolment: Enrolment) -> list[str]:
    """The labels of the values the member chose in the journey's values-sort steps, in
    their order (the matcher reads purpose from them, never the reflections)."""
    assert enrolment.id is not None
    labels: list[str] = []
    for step in journey_of(session, enrolment).steps():
        if not isinstance(step, ValuesSortStep):
            continue
        answer = answer_for(session, enrolment_id=enrolment.id, step_id=step.id)
        names = {value.id: value.label for value in step.values}
        chosen = (answer.data.get("ranking") or answer.data.get("chosen") or []) if answer else []
        labels.extend(names[value] for value in chosen if value in names)
    return labels


def cohort_member_ids(session: Session, *, cohort_id: int) -> list[int]:
    """Who is walking (or has walked) the cohort's journey; those who left are not counted."""
    return list(session.exec(
        select(Enrolment.user_id).where(Enrolment.cohort_id == cohort_id,
                                        Enrolment.status != EnrolmentStatus.left)
        .distinct()
    ))
