"""`telos demo`'s study: enough synthetic participants that the report and every export
show something real on a fresh install."""

import time

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import User
from app.research import demo, downloads, service
from app.research.exports import FORMATS
from app.research.report import outcome_report
from app.research.source import count, select_part


def test_the_demo_study_has_participants_drop_outs_and_withdrawals(db: Session) -> None:
    started = time.monotonic()
    demo.load(db)
    assert time.monotonic() - started < 30  # a few seconds; generous for a shared machine
    users = db.exec(select(func.count()).select_from(User)).one()
    demo.load(db)
    assert db.exec(select(func.count()).select_from(User)).one() == users  # idempotent

    study = service.study_by_slug(db, demo.STUDY_SLUG)
    assert study is not None
    owner = accounts.get_user_by_email(db, demo.RESEARCHER_EMAIL)
    assert owner is not None and owner.id is not None
    assert service.studies_for(db, user_id=owner.id) == [study]
    census = service.census(db, study)
    assert (census.consented, census.withdrawn, census.no_research_consent) == (51, 4, 5)
    done = service.waves_done(db, census.participants)
    answered = {wave: sum(1 for waves in done.values() if waves.get(wave)) for wave in
                ("pre", "post", "followup")}
    assert answered["pre"] == 51
    assert 30 <= answered["post"] < 51          # some dropped out
    assert 10 <= answered["followup"] < answered["post"]
    names = db.exec(select(User.display_name).where(
        col(User.email).like("%@demo.example.org"))).all()
    assert "Demo participant 17" in names

    result = outcome_report(db, study)
    improved = [row for row in result.report.rows if row.improved]
    assert 5 <= len(improved) < len(result.report.rows)
    assert all(r.alpha is not None and r.alpha > 0.5 for r in result.reliability if r.n >= 30)


def test_every_export_of_the_demo_has_rows(db: Session) -> None:
    demo.load(db)
    study = service.study_by_slug(db, demo.STUDY_SLUG)
    assert study is not None
    selection = select_part(study)
    people = service.participants(db, study)
    assert count(db, selection, people).participants == 51
    for fmt in FORMATS.values():
        path, rows = downloads.write_file(db, study=study, fmt=fmt, selection=selection,
                                          people=people)
        try:
            assert rows > 0 and path.stat().st_size > 0, fmt.name
        finally:
            path.unlink()
