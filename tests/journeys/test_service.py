"""Journey services: progress, saves that never silently overwrite, statements and plans."""

from datetime import date

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from app.community import service as community
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.models import (
    Commitment,
    Enrolment,
    EnrolmentStatus,
    StepStatus,
    Visibility,
)
from app.journeys.service import AlreadyEnrolled, SaveConflict, Status
from tests.factories import create_user


@pytest.fixture
def enrolment(db: Session) -> Enrolment:
    user = create_user(db)
    assert user.id is not None
    return journeys.enrol(db, user_id=user.id, journey_key="walk")


def save(db: Session, enrolment: Enrolment, text: str, *, base: int, editor: str,
         done: bool = False) -> int:
    answer = journeys.save_answer(db, enrolment=enrolment, step_id="moments",
                                  data={"responses": {"alive": text}}, base_version=base,
                                  editor=editor, done=done)
    return answer.version


# Progress -----------------------------------------------------------------------------------


def test_steps_open_one_after_another(db: Session, enrolment: Enrolment) -> None:
    journey = journeys.journey_of(db, enrolment)
    progress = journeys.progress(journey, {"baseline": StepStatus.done,
                                           "welcome": StepStatus.done,
                                           "moments": StepStatus.in_progress})
    statuses = [item.status for item in progress.steps]
    assert statuses[:4] == [Status.done, Status.done, Status.in_progress, Status.locked]
    assert set(statuses[3:]) == {Status.locked}
    assert (progress.done, progress.percent) == (2, 15)
    assert progress.next_step is not None and progress.next_step.step.id == "moments"
    assert [item.number for item in progress.steps] == list(range(1, 14))


def test_a_step_done_out_of_order_stays_done_but_opens_nothing(
    db: Session, enrolment: Enrolment
) -> None:
    journey = journeys.journey_of(db, enrolment)
    progress = journeys.progress(journey, {"welcome": StepStatus.done})
    assert progress.of("baseline").status == Status.not_started
    assert progress.of("welcome").status == Status.done
    assert progress.of("moments").status == Status.locked


def test_progress_groups_steps_by_phase_and_stage(db: Session, enrolment: Enrolment) -> None:
    progress = journeys.enrolment_progress(db, enrolment)
    assert [phase.phase.id for phase in progress.phases] == ["discover", "refine", "express"]
    assert [[stage.stage.id for stage in phase.stages] for phase in progress.phases] == [
        ["reflect", "connect"], ["choose"], ["act"]]
    assert progress.neighbours("baseline")[0] is None
    assert progress.neighbours("closing")[1] is None


# Enrolment -----------------------------------------------------------------------------------


def test_a_member_walks_one_journey_at_a_time(db: Session, enrolment: Enrolment) -> None:
    with pytest.raises(AlreadyEnrolled):
        journeys.enrol(db, user_id=enrolment.user_id, journey_key="purpose")
    journeys.leave(db, enrolment=enrolment)
    again = journeys.enrol(db, user_id=enrolment.user_id, journey_key="purpose")
    assert again.status == EnrolmentStatus.active


def test_the_database_itself_holds_one_active_journey_per_member(
    db: Session, enrolment: Enrolment
) -> None:
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(Enrolment(user_id=enrolment.user_id,
                         journey_version_id=enrolment.journey_version_id,
                         status=EnrolmentStatus.active))


def test_the_journey_completes_when_every_step_is_done(
    db: Session, enrolment: Enrolment
) -> None:
    journey = journeys.journey_of(db, enrolment)
    *before, last = journey.steps()
    for step in before:
        journeys.mark_done(db, enrolment=enrolment, step_id=step.id)
    assert journeys.complete_if_finished(db, enrolment=enrolment) is False
    journeys.mark_done(db, enrolment=enrolment, step_id=last.id)
    assert journeys.complete_if_finished(db, enrolment=enrolment) is True
    assert enrolment.status == EnrolmentStatus.completed and enrolment.completed_at
    assert journeys.complete_if_finished(db, enrolment=enrolment) is False


# Saving answers ------------------------------------------------------------------------------


def test_one_page_saving_again_and_again_never_conflicts(
    db: Session, enrolment: Enrolment
) -> None:
    assert save(db, enrolment, "a", base=0, editor="tab-1") == 1
    assert save(db, enrolment, "ab", base=0, editor="tab-1") == 2
    assert save(db, enrolment, "abc", base=1, editor="tab-1") == 3


def test_a_second_page_with_an_old_version_gets_a_conflict_and_overwrites_nothing(
    db: Session, enrolment: Enrolment
) -> None:
    save(db, enrolment, "first tab", base=0, editor="tab-1")
    with pytest.raises(SaveConflict) as conflict:
        save(db, enrolment, "second tab", base=0, editor="tab-2")
    assert conflict.value.saved.data == {"responses": {"alive": "first tab"}}
    stored = journeys.answer_for(db, enrolment_id=enrolment.id or 0, step_id="moments")
    assert stored is not None
    assert (stored.data["responses"]["alive"], stored.version) == ("first tab", 1)


def test_a_second_page_that_has_seen_the_latest_version_may_save(
    db: Session, enrolment: Enrolment
) -> None:
    save(db, enrolment, "first tab", base=0, editor="tab-1")
    assert save(db, enrolment, "second tab", base=1, editor="tab-2") == 2
    with pytest.raises(SaveConflict):
        save(db, enrolment, "first tab again", base=1, editor="tab-1")


def test_saving_a_done_step_keeps_it_done(db: Session, enrolment: Enrolment) -> None:
    save(db, enrolment, "finished", base=0, editor="tab-1", done=True)
    save(db, enrolment, "touched up", base=1, editor="tab-1")
    stored = journeys.answer_for(db, enrolment_id=enrolment.id or 0, step_id="moments")
    assert stored is not None and stored.status == StepStatus.done
    assert enrolment.current_step_id == "moments"


# Statements ------------------------------------------------------------------------------------


def test_every_changed_statement_is_a_new_version(db: Session, enrolment: Enrolment) -> None:
    first = statements.save_version(db, enrolment=enrolment, text=" One. ", parts={"a": "x"})
    assert first is not None and (first.number, first.text) == (1, "One.")
    assert statements.save_version(db, enrolment=enrolment, text="One.", parts={}) is None
    second = statements.save_version(db, enrolment=enrolment, text="Two.", parts={})
    assert second is not None and second.number == 2
    history = statements.history(db, enrolment_id=enrolment.id or 0)
    assert [version.text for version in history] == ["Two.", "One."]


def test_a_new_version_keeps_the_chosen_visibility(db: Session, enrolment: Enrolment) -> None:
    statements.save_version(db, enrolment=enrolment, text="One.", parts={})
    statements.publish(db, enrolment_id=enrolment.id or 0, visibility=Visibility.community)
    later = statements.save_version(db, enrolment=enrolment, text="Two.", parts={})
    assert later is not None and later.visibility == Visibility.community
    shared = statements.community_statements(db)
    assert [item.text for item in shared] == ["Two."]


def test_word_diff_marks_added_and_removed_words() -> None:
    runs = statements.word_diff("I help people find their feet.",
                                "I help young people find their voice.")
    assert ("added", " young") in runs
    assert ("removed", "feet.") in runs and ("added", "voice.") in runs
    assert "".join(text for kind, text in runs if kind != "removed") \
        == "I help young people find their voice."
    assert "".join(text for kind, text in runs if kind != "added") \
        == "I help people find their feet."


# Commitments -----------------------------------------------------------------------------------


def test_a_revised_plan_keeps_what_was_already_done(db: Session, enrolment: Enrolment) -> None:
    enrolment_id = enrolment.id or 0
    statements.replace_plan(db, enrolment_id=enrolment_id, rows=[
        ("Call Sam", date(2030, 1, 1)), ("Walk daily", date(2030, 2, 1))])
    called = statements.commitments(db, enrolment_id=enrolment_id)[0]
    statements.set_done(db, commitment=called, done=True)
    statements.replace_plan(db, enrolment_id=enrolment_id, rows=[
        ("Read more", date(2030, 3, 1)), ("Call Sam", date(2030, 1, 15))])
    plan = statements.commitments(db, enrolment_id=enrolment_id)
    assert [(item.text, item.due_on, item.done_at is not None) for item in plan] == [
        ("Read more", date(2030, 3, 1), False), ("Call Sam", date(2030, 1, 15), True)]
    assert len(list(db.exec(select(Commitment)))) == 2


# Cohorts ---------------------------------------------------------------------------------------


def test_cohort_progress_counts_done_steps_only(db: Session, enrolment: Enrolment) -> None:
    cohort = community.create_cohort(db, name="Autumn", journey_key="walk",
                                     starts_on=date(2026, 9, 1), ends_on=None,
                                     created_by_id=None)
    member = create_user(db, display_name="Ada")
    assert member.id is not None and cohort.id is not None
    joined = community.join(db, cohort=cohort, user_id=member.id)
    journeys.mark_done(db, enrolment=joined, step_id="baseline")
    journeys.save_answer(db, enrolment=joined, step_id="welcome", data={}, base_version=0,
                         editor="x")
    rows = community.cohort_progress(db, cohort.id)
    assert [(row.display_name, row.status, row.steps_done) for row in rows] == [
        ("Ada", "active", 1)]


def test_a_first_save_racing_one_from_the_same_page_is_no_conflict(db: Session) -> None:
    from app.journeys.models import StepAnswer as Row
    from tests.factories import create_user as make_user

    member = make_user(db)
    assert member.id is not None
    enrolment = journeys.enrol(db, user_id=member.id, journey_key="walk")
    assert enrolment.id is not None
    # The racing request's row is already there, but this session has not seen it.
    db.add(Row(enrolment_id=enrolment.id, step_id="moments", data={"responses": {}},
               editor="page-1", status="in_progress"))
    db.flush()
    db.expunge_all()
    enrolment = db.get(type(enrolment), enrolment.id)
    assert enrolment is not None
    answer = journeys._insert_answer(db, enrolment.id, "moments",
                                     {"responses": {"alive": "x"}}, "page-1", False)
    assert answer.data == {"responses": {"alive": "x"}} and answer.version == 2
    with pytest.raises(journeys.SaveConflict):
        journeys._insert_answer(db, enrolment.id, "moments", {}, "page-2", False)


def test_a_second_active_journey_is_refused_by_the_database_too(
    db: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.factories import create_user as make_user

    member = make_user(db)
    assert member.id is not None
    journeys.enrol(db, user_id=member.id, journey_key="walk")
    # Another request enrolled between this one's check and its insert: only the
    # database's partial unique index can see it.
    monkeypatch.setattr(journeys, "active_enrolment", lambda *_args, **_kwargs: None)
    with pytest.raises(journeys.AlreadyEnrolled):
        journeys.enrol(db, user_id=member.id, journey_key="walk")
