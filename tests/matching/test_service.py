"""Matching services: the pool, hard constraints, runs, publishing, answers, fit, history."""

import pytest
from sqlmodel import Session, select

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.audit.models import AuditEvent
from app.community import service as community
from app.journeys import service as journeys
from app.journeys.models import Visibility
from app.matching import demo, runs
from app.matching import service as matching
from app.matching.models import Match, MatchSource, MatchStatus, RunStatus
from app.settings import Settings
from tests.factories import create_user
from tests.matching.factories import (
    PRIVATE_REFLECTION,
    RUN_JOBS,
    create_cohort,
    create_member,
    create_mentor,
    create_theme,
    run_jobs,
)

BASE = "http://testserver"
YOUTH = "I want to help young people in my town find work they care about."


def ids(users: list[User]) -> set[int | None]:
    return {user.id for user in users}


def start(db: Session, settings: Settings, cohort_id: int | None) -> runs.MatchRun:
    """A run started and its job done: the draft is there."""
    assert cohort_id is not None
    run = runs.start_run(db, cohort_id=cohort_id, by_id=None, encoder="tfidf")
    db.commit()
    assert run.status == RunStatus.running
    assert run_jobs(db, settings, RUN_JOBS) == 1
    db.refresh(run)
    return run


def drafts(db: Session, run: runs.MatchRun) -> dict[int, Match]:
    rows = db.exec(select(Match).where(Match.run_id == run.id,
                                       Match.status == MatchStatus.draft)).all()
    return {row.member_id: row for row in rows}


def test_the_pool_is_the_cohorts_members_without_a_mentor(db: Session) -> None:
    cohort = create_cohort(db)
    waiting, matched, left = (create_member(db, cohort) for _ in range(3))
    outsider = create_member(db)
    mentor = create_mentor(db)
    matching.request_mentor(db, member=matched, mentor_id=mentor.id or 0, base_url=BASE)
    assert left.id is not None
    enrolment = journeys.active_enrolment(db, user_id=left.id)
    assert enrolment is not None
    journeys.leave(db, enrolment=enrolment)
    pool = runs.pool(db, cohort_id=cohort.id or 0)
    assert ids(pool) == {waiting.id}
    assert outsider.id not in ids(pool)


def test_a_run_pairs_by_purpose_and_explains_why(db: Session, settings: Settings) -> None:
    youth = create_theme(db, "Youth and education")
    climate = create_theme(db, "Environment and climate")
    cohort = create_cohort(db)
    member = create_member(db, cohort, statement=YOUTH, themes=[youth])
    teacher = create_mentor(db, name="Teacher", themes=[youth],
                            bio="Twenty years teaching young people and helping them find work.")
    create_mentor(db, name="Gardener", themes=[climate], bio="I plant trees by the river.")
    run = start(db, settings, cohort.id)
    pair = drafts(db, run)[member.id or 0]
    assert pair.mentor_id == teacher.id
    assert pair.source == MatchSource.run and 0 < pair.score <= 1
    assert "both care about youth and education" in pair.explanation
    assert [alt["mentor_id"] for alt in pair.alternatives] != [teacher.id]
    assert run.status == RunStatus.draft and run.encoder == "tfidf"
    assert run.weights["text"] == pytest.approx(0.55)


def test_hard_constraints_language_accepting_and_capacity(db: Session, settings: Settings) -> None:
    cohort = create_cohort(db)
    spanish = create_member(db, cohort, languages=["es"])
    first, second = create_member(db, cohort), create_member(db, cohort)
    create_mentor(db, languages=["en"], capacity=1)
    create_mentor(db, languages=["es"], accepting=False)
    run = start(db, settings, cohort.id)
    paired = drafts(db, run)
    assert spanish.id not in paired  # nobody accepting speaks Spanish
    assert len(paired) == 1 and set(paired) <= {first.id, second.id}  # capacity 1
    review = runs.review(db, run_id=run.id or 0)
    assert spanish.id in ids(review.unmatched)


def test_a_declined_pair_is_never_suggested_again(db: Session, settings: Settings) -> None:
    cohort = create_cohort(db)
    member = create_member(db, cohort)
    mentor = create_mentor(db)
    match, _mails = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                            base_url=BASE)
    matching.decline(db, match=match, reason="Too busy this spring", base_url=BASE)
    assert ids(runs.pool(db, cohort_id=cohort.id or 0)) == {member.id}  # back in the pool
    run = start(db, settings, cohort.id)
    assert drafts(db, run) == {}
    with pytest.raises(matching.RequestRefused):
        matching.request_mentor(db, member=member, mentor_id=mentor.id or 0, base_url=BASE)


def test_publish_proposes_and_mails_both_sides_once(db: Session, settings: Settings) -> None:
    cohort = create_cohort(db)
    member = create_member(db, cohort)
    mentor = create_mentor(db)
    run = start(db, settings, cohort.id)
    proposed, mails = runs.publish(db, run=run, by_id=None, base_url=BASE)
    assert proposed == 1
    assert sorted(message.to for message in mails) == sorted([member.email, mentor.email])
    match = db.exec(select(Match).where(Match.member_id == member.id)).one()
    assert match.status == MatchStatus.proposed and match.proposed_at is not None
    with pytest.raises(runs.AlreadyPublished):
        runs.publish(db, run=run, by_id=None, base_url=BASE)
    assert len(db.exec(select(Match).where(Match.member_id == member.id)).all()) == 1
    assert runs.pool(db, cohort_id=cohort.id or 0) == []


def test_rerun_keeps_pins_and_exclusions(db: Session, settings: Settings) -> None:
    cohort = create_cohort(db)
    anna, ben = create_member(db, cohort, name="Anna"), create_member(db, cohort, name="Ben")
    create_mentor(db), create_mentor(db)
    run = start(db, settings, cohort.id)
    before = drafts(db, run)
    pinned, excluded = before[anna.id or 0], before[ben.id or 0]
    runs.pin(db, match=pinned, pinned=True)
    runs.exclude(db, run=run, match=excluded)
    runs.rerun(db, run=run)
    assert run.status == RunStatus.running
    assert run_jobs(db, settings, RUN_JOBS) == 1
    after = drafts(db, run)
    assert after[anna.id or 0].id == pinned.id and after[anna.id or 0].pinned
    assert after[ben.id or 0].mentor_id != excluded.mentor_id
    assert runs.exclusions(db, run) == [(ben.id, excluded.mentor_id)]


def test_a_swap_is_pinned_and_respects_capacity(db: Session, settings: Settings) -> None:
    cohort = create_cohort(db)
    anna, ben = create_member(db, cohort), create_member(db, cohort)
    first, second = create_mentor(db, capacity=1), create_mentor(db, capacity=1)
    run = start(db, settings, cohort.id)
    rows = drafts(db, run)
    row = rows[anna.id or 0]
    other = second if row.mentor_id == first.id else first
    with pytest.raises(runs.DraftConflict):  # the other mentor's only place is taken by Ben
        runs.choose_mentor(db, run=run, member_id=anna.id or 0, mentor_id=other.id or 0,
                           match=row)
    runs.exclude(db, run=run, match=rows[ben.id or 0])
    runs.choose_mentor(db, run=run, member_id=anna.id or 0, mentor_id=other.id or 0, match=row)
    assert (row.mentor_id, row.pinned, row.source) == (other.id, True, MatchSource.manager)


def test_accept_after_decline_is_refused_not_doubled(db: Session) -> None:
    member, mentor = create_member(db), create_mentor(db)
    match, _ = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                       base_url=BASE)
    matching.decline(db, match=match, reason="", base_url=BASE)
    with pytest.raises(matching.AlreadyAnswered, match="already declined"):
        matching.accept(db, match=match, base_url=BASE)
    db.refresh(match)
    assert match.status == MatchStatus.declined


def test_one_open_request_at_a_time(db: Session) -> None:
    member = create_member(db)
    first, second = create_mentor(db), create_mentor(db)
    matching.request_mentor(db, member=member, mentor_id=first.id or 0, base_url=BASE)
    with pytest.raises(matching.RequestRefused, match="One at a time"):
        matching.request_mentor(db, member=member, mentor_id=second.id or 0, base_url=BASE)


def test_fit_no_ends_the_match_and_returns_the_member_to_the_pool(db: Session) -> None:
    cohort = create_cohort(db)
    member = create_member(db, cohort)
    mentor = create_mentor(db)
    match, _ = matching.request_mentor(db, member=member, mentor_id=mentor.id or 0,
                                       base_url=BASE)
    matching.accept(db, match=match, base_url=BASE)
    matching.answer_fit(db, match=match, user_id=member.id or 0, fit=True)
    assert (match.member_fit, match.status) == (True, MatchStatus.accepted)
    matching.answer_fit(db, match=match, user_id=mentor.id or 0, fit=False)
    assert (match.mentor_fit, match.status) == (False, MatchStatus.ended)
    assert match.end_reason == matching.NOT_A_GOOD_FIT
    assert ids(runs.pool(db, cohort_id=cohort.id or 0)) == {member.id}
    assert (str(member.id), str(mentor.id)) in matching.ended_pairs(db)
    with pytest.raises(matching.AlreadyAnswered):
        matching.answer_fit(db, match=match, user_id=member.id or 0, fit=True)


def test_history_says_how_each_match_was_made_and_ended(
    db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    by_run = create_member(db, cohort, name="Run Member")
    by_request = create_member(db, name="Asking Member")
    mentor = create_mentor(db, capacity=3, name="Mentor One")
    run = start(db, settings, cohort.id)
    runs.publish(db, run=run, by_id=None, base_url=BASE)
    match, _ = matching.request_mentor(db, member=by_request, mentor_id=mentor.id or 0,
                                       base_url=BASE)
    matching.decline(db, match=match, reason="Not my field", base_url=BASE)
    rows = {row.member_name: row for row in matching.history(db)}
    assert rows[by_run.display_name].how == f"run {run.id}"
    assert rows[by_run.display_name].outcome == "waiting for the mentor"
    assert rows[by_request.display_name].how == "requested by the member"
    assert rows[by_request.display_name].outcome == "declined: Not my field"


def test_the_matcher_reads_the_statement_and_values_never_reflections(db: Session) -> None:
    member = create_member(db, statement=YOUTH, wants="Someone patient")
    assert member.id is not None
    enrolment = journeys.active_enrolment(db, user_id=member.id)
    assert enrolment is not None
    journeys.save_answer(db, enrolment=enrolment, step_id="values",
                         data={"chosen": ["kindness"], "ranking": ["kindness"]},
                         base_version=0, editor="t")
    profile = matching.member_profile(db, user=member)
    assert YOUTH in profile.text and "Kindness" in profile.text
    assert "Someone patient" in profile.text
    assert PRIVATE_REFLECTION not in profile.text


def test_a_mentor_sees_a_statement_only_when_it_is_shared(db: Session) -> None:
    private = create_member(db, statement="My private purpose.", visibility=Visibility.private)
    shared = create_member(db, statement="My shared purpose.", visibility=Visibility.mentor)
    assert matching.shared_statement(db, member_id=private.id or 0) is None
    assert matching.shared_statement(db, member_id=shared.id or 0) == "My shared purpose."


def test_publishing_is_in_the_audit_log(db: Session, settings: Settings) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort), create_mentor(db)
    run = start(db, settings, cohort.id)
    runs.publish(db, run=run, by_id=None, base_url=BASE)
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "match_run.published")).one()
    assert (event.target_id, event.details["proposed"]) == (str(run.id), 1)


def test_demo_mentors_load_once_with_profiles(db: Session) -> None:
    demo.load(db)
    demo.load(db)
    for mentor in demo.MENTORS:
        user = accounts.get_user_by_email(db, mentor.email)
        assert user is not None
        profile = matching.mentor_profile(db, user_id=user.id or 0)
        assert profile is not None and profile.bio == mentor.bio and profile.themes
    labels = community.theme_labels(db)
    assert "Youth and education" in labels.values()


def test_publish_withdraws_drafts_the_world_has_overtaken(
    db: Session, settings: Settings
) -> None:
    first, second = create_cohort(db), create_cohort(db)
    declined_member, full_member = create_member(db, first), create_member(db, second)
    picky = create_mentor(db, capacity=1)
    run_one, run_two = start(db, settings, first.id), start(db, settings, second.id)
    assert {m.mentor_id for m in drafts(db, run_one).values()} == {picky.id}
    assert {m.mentor_id for m in drafts(db, run_two).values()} == {picky.id}
    # After both drafts were made the member asks the mentor directly and is declined.
    match, _ = matching.request_mentor(db, member=declined_member, mentor_id=picky.id or 0,
                                       base_url=BASE)
    matching.decline(db, match=match, reason="", base_url=BASE)
    assert runs.publish(db, run=run_one, by_id=None, base_url=BASE)[0] == 0
    # The second cohort's draft still fits the one place, and fills it.
    assert runs.publish(db, run=run_two, by_id=None, base_url=BASE)[0] == 1
    statuses = {(m.member_id, m.status) for m in db.exec(
        select(Match).where(Match.mentor_id == picky.id, Match.run_id.is_not(None)))}  # type: ignore[union-attr]
    assert statuses == {(declined_member.id, MatchStatus.withdrawn),
                        (full_member.id, MatchStatus.proposed)}


def test_publish_never_fills_a_mentor_past_capacity(db: Session, settings: Settings) -> None:
    first, second = create_cohort(db), create_cohort(db)
    create_member(db, first), create_member(db, second)
    mentor = create_mentor(db, capacity=1)
    run_one, run_two = start(db, settings, first.id), start(db, settings, second.id)
    assert runs.publish(db, run=run_one, by_id=None, base_url=BASE)[0] == 1
    assert runs.publish(db, run=run_two, by_id=None, base_url=BASE)[0] == 0
    assert matching.mentors(db)[0].load == 1 and matching.mentors(db)[0].user.id == mentor.id


def test_someone_no_longer_a_mentor_is_never_suggested(
    db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort)
    former = create_mentor(db)
    admin = create_user(db, roles=[Role.admin])
    accounts.set_roles(db, user=former, roles=[Role.member], actor_id=admin.id or 0)
    assert matching.mentors(db) == []
    assert drafts(db, start(db, settings, cohort.id)) == {}


def test_a_statement_for_my_mentor_waits_until_the_match_is_accepted(
    db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    member = create_member(db, cohort, statement="Only for my mentor.",
                           visibility=Visibility.mentor)
    mentor = create_mentor(db)
    runs.publish(db, run=start(db, settings, cohort.id), by_id=None, base_url=BASE)
    [view] = matching.mentee_views(db, mentor_id=mentor.id or 0)
    assert view.member_name == member.display_name and view.statement is None
    matching.accept(db, match=view.match, base_url=BASE)
    [view] = matching.mentee_views(db, mentor_id=mentor.id or 0)
    assert view.statement == "Only for my mentor."
