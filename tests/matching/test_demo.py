"""The whole of `telos demo`: a match run on the demo cohort weighs themes, not only
time zones, because the demo study's members say what they look for."""

from sqlmodel import Session, col, select

from app import demo
from app.accounts.models import User
from app.matching import demo as matching_demo
from app.matching import runs
from app.matching import service as matching
from app.matching.models import Match
from app.research import demo as research_demo
from app.research import service as research
from app.settings import Settings
from tests.matching.factories import RUN_JOBS, run_jobs


def test_a_run_on_the_demo_cohort_explains_shared_themes(
    db: Session, settings: Settings
) -> None:
    demo.load(db)
    participants = list(db.exec(select(User).where(
        col(User.email).like(matching_demo.PARTICIPANT_EMAILS))))
    assert participants
    assert all(matching.preferences(db, user_id=user.id or 0) for user in participants)

    study = research.study_by_slug(db, research_demo.STUDY_SLUG)
    assert study is not None
    cohort_id = research.cohort_ids_of(db, study)[0]
    run = runs.start_run(db, cohort_id=cohort_id, by_id=None, encoder="tfidf")
    assert run_jobs(db, settings, RUN_JOBS) == 1
    drafts = list(db.exec(select(Match).where(Match.run_id == run.id)))
    places = sum(mentor.capacity for mentor in matching_demo.MENTORS)
    assert len(drafts) == places
    assert any("care about" in match.explanation for match in drafts)
