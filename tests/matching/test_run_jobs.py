"""Match runs as jobs: queued in the asking transaction, computed by the job's real code,
one running run per cohort, safe to deliver twice, failures kept with their reason."""

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import jobs
from app.jobs.models import Job, JobStatus
from app.matching import runs, tasks
from app.matching.models import Match, MatchRun, MatchStatus, RunStatus
from app.settings import Settings
from tests.matching.factories import (
    RUN_JOBS,
    create_cohort,
    create_member,
    create_mentor,
    let_time_pass,
    run_jobs,
)


def drafts(db: Session, run: MatchRun) -> list[Match]:
    return list(db.exec(select(Match).where(Match.run_id == run.id,
                                            Match.status == MatchStatus.draft)
                        .order_by(col(Match.member_id))))


def started(db: Session, cohort_id: int | None) -> MatchRun:
    assert cohort_id is not None
    run = runs.start_run(db, cohort_id=cohort_id, by_id=None, encoder="tfidf")
    db.commit()
    return run


def job_of(db: Session, run: MatchRun) -> Job:
    job = db.get(Job, run.job_id)
    assert job is not None
    return job


def deliver_again(
    db: Session, settings: Settings, run: MatchRun, job_id: int | None = None
) -> dict[str, object]:
    """The run's task once more for its job (or `job_id`), as a queue that delivers twice
    does."""

    @contextmanager
    def sessions() -> Iterator[Session]:
        with db.begin_nested():
            yield db

    context = jobs.JobContext(settings=settings, sessions=sessions,
                              job_id=job_id or run.job_id or 0, attempt=1)
    return tasks.match_run(context, run_id=run.id or 0) or {}


def test_a_run_is_queued_with_its_job_then_done_with_drafts(
    db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    anna, ben = create_member(db, cohort), create_member(db, cohort)
    create_mentor(db), create_mentor(db)
    run = started(db, cohort.id)
    job = job_of(db, run)
    assert (run.status, job.name, job.payload, job.status) == (
        RunStatus.running, "matching.run", {"run_id": run.id}, JobStatus.queued)
    assert drafts(db, run) == [] and run.computed_at is None

    assert run_jobs(db, settings, RUN_JOBS) == 1
    db.refresh(run)
    assert run.status == RunStatus.draft and run.computed_at is not None
    assert [match.member_id for match in drafts(db, run)] == sorted([anna.id or 0, ben.id or 0])
    assert job_of(db, run).status == JobStatus.done
    assert job_of(db, run).result == {"pairs": 2, "members": 2}


def test_a_second_run_of_a_running_pool_is_refused(db: Session) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort), create_mentor(db)
    first = started(db, cohort.id)
    with pytest.raises(runs.RunInProgress) as refused:
        runs.start_run(db, cohort_id=cohort.id or 0, by_id=None, encoder="tfidf")
    assert refused.value.run.id == first.id
    assert "already running for this cohort" in refused.value.message
    with pytest.raises(runs.RunInProgress):
        runs.rerun(db, run=first)
    assert len(db.exec(select(MatchRun).where(MatchRun.cohort_id == cohort.id)).all()) == 1
    assert len(db.exec(select(Job).where(Job.name == "matching.run")).all()) == 1


def test_the_database_refuses_two_running_runs_of_one_cohort(db: Session) -> None:
    """What stops two clicks at the same moment, when neither sees the other's run yet."""
    cohort = create_cohort(db)
    other = create_cohort(db)
    started(db, cohort.id), started(db, other.id)  # other cohorts run beside it
    with pytest.raises(IntegrityError), db.begin_nested():
        db.add(MatchRun(cohort_id=cohort.id or 0, status=RunStatus.running, encoder="tfidf"))
        db.flush()
    db.add(MatchRun(cohort_id=cohort.id or 0, status=RunStatus.draft, encoder="tfidf"))
    db.flush()  # only running runs are limited to one


def test_a_second_delivery_of_a_finished_run_changes_nothing(
    db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort), create_member(db, cohort), create_mentor(db)
    run = started(db, cohort.id)
    run_jobs(db, settings, RUN_JOBS)
    before = [(match.id, match.mentor_id) for match in drafts(db, run)]
    assert deliver_again(db, settings, run) == {
        "skipped": "the run is not waiting for this job"}
    db.expire_all()
    assert [(match.id, match.mentor_id) for match in drafts(db, run)] == before


def test_a_redelivery_recomputes_the_draft_cleanly(db: Session, settings: Settings) -> None:
    """A re-run (or a worker that died mid-way) leaves the earlier unpinned drafts; the job
    replaces them, keeps the pinned pair and the exclusion, and leaves one draft each."""
    cohort = create_cohort(db)
    anna, ben = create_member(db, cohort), create_member(db, cohort)
    create_mentor(db), create_mentor(db)
    run = started(db, cohort.id)
    run_jobs(db, settings, RUN_JOBS)
    rows = {match.member_id: match for match in drafts(db, run)}
    runs.pin(db, match=rows[anna.id or 0], pinned=True)
    runs.exclude(db, run=run, match=rows[ben.id or 0])
    runs.rerun(db, run=run)
    db.commit()
    assert run.status == RunStatus.running
    assert deliver_again(db, settings, run)["pairs"] == 1  # the first delivery
    db.expire_all()
    again = db.get(MatchRun, run.id)
    assert again is not None and again.status == RunStatus.draft
    after = drafts(db, run)
    assert sorted(match.member_id for match in after) == sorted([anna.id or 0, ben.id or 0])
    pinned = next(match for match in after if match.member_id == anna.id)
    assert pinned.id == rows[anna.id or 0].id and pinned.pinned
    moved = next(match for match in after if match.member_id == ben.id)
    assert moved.mentor_id != rows[ben.id or 0].mentor_id
    # The queue delivers the same job once more: it finds the run done and adds nothing.
    assert run_jobs(db, settings, RUN_JOBS) == 1
    assert job_of(db, run).result == {"skipped": "the run is not waiting for this job"}
    assert len(drafts(db, run)) == 2


def test_a_job_asked_for_earlier_does_not_touch_a_newer_request(
    db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort), create_mentor(db)
    run = started(db, cohort.id)
    earlier = run.job_id
    run_jobs(db, settings, RUN_JOBS)
    runs.rerun(db, run=run)
    db.commit()
    assert run.job_id != earlier
    assert deliver_again(db, settings, run, job_id=earlier) == {
        "skipped": "the run is not waiting for this job"}
    db.refresh(run)
    assert run.status == RunStatus.running


def spoil_weights(db: Session, run: MatchRun) -> None:
    """Weights no form accepts, stored on the run as a damaged row or a bad import would."""
    db.execute(update(MatchRun).where(col(MatchRun.id) == run.id).values(
        weights={"text": -1.0, "themes": 0.3, "time_zone": 0.1, "wishes": 0.05}))
    db.commit()


def test_a_run_that_keeps_failing_ends_failed_with_the_reason_and_can_be_tried_again(
    db: Session, settings: Settings
) -> None:
    cohort = create_cohort(db)
    create_member(db, cohort), create_mentor(db)
    run = started(db, cohort.id)
    spoil_weights(db, run)
    assert run_jobs(db, settings, RUN_JOBS) == 1
    db.refresh(run)
    assert run.status == RunStatus.running  # the job will be tried again
    for _ in range(2):
        let_time_pass(db, RUN_JOBS)
        assert run_jobs(db, settings, RUN_JOBS) == 1
    db.refresh(run)
    assert run.status == RunStatus.failed
    assert run.error == ("The matcher stopped with this problem: every weight must be a "
                         "number of at least 0.")
    assert job_of(db, run).status == JobStatus.failed

    runs.rerun(db, run=run)  # "Try again" takes the cohort's weights, which are fine
    db.commit()
    assert (run.status, run.error) == (RunStatus.running, "")
    assert run_jobs(db, settings, RUN_JOBS) == 1
    db.refresh(run)
    assert run.status == RunStatus.draft and len(drafts(db, run)) == 1


def test_a_run_whose_job_was_lost_shows_as_failed(db: Session) -> None:
    """A worker killed on the job's last attempt: the job ends failed without the task
    saying so; the run page then says it failed, and it can be tried again."""
    cohort = create_cohort(db)
    create_member(db, cohort), create_mentor(db)
    run = started(db, cohort.id)
    job = job_of(db, run)
    job.status, job.error = JobStatus.failed, "The worker host:1 stopped during attempt 3."
    db.add(job)
    db.commit()
    review = runs.review(db, run_id=run.id or 0)
    assert review.run.status == RunStatus.failed and review.rows == []
    assert "The worker host:1 stopped during attempt 3" in review.run.error
    runs.start_run(db, cohort_id=cohort.id or 0, by_id=None, encoder="tfidf")
    assert run.status == RunStatus.running
