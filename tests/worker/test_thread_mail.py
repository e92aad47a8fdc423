"""The e-mail about a new post in a member's thread with their mentor, sent by the real
worker from committed data, on each backend and queue."""

import time
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from app.accounts.models import Role
from app.db import session_scope
from app.jobs.queue import attach
from app.jobs.worker import BackgroundWorker
from app.matching import threads
from app.matching.models import Match, MatchSource, MatchStatus
from app.settings import Settings
from tests.factories import create_user

WAIT_SECONDS = 30.0


def mails_in(outbox: Path) -> list[str]:
    return [path.read_text() for path in sorted(outbox.glob("*.eml"))] if outbox.exists() else []


def wait_for_mails(outbox: Path, count: int) -> list[str]:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if len(found := mails_in(outbox)) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"waited {WAIT_SECONDS:.0f} s for {count} mail(s) in {outbox}")


def test_the_worker_tells_the_mentor_of_a_new_post_once(
    job_engine: Engine, job_settings: Settings
) -> None:
    with Session(job_engine, expire_on_commit=False) as db:
        member = create_user(db, roles=[Role.member], display_name="Ines Member")
        mentor = create_user(db, roles=[Role.mentor])
        match = Match(member_id=member.id or 0, mentor_id=mentor.id or 0,
                      source=MatchSource.member, status=MatchStatus.accepted)
        db.add(match)
        db.commit()
    attach(job_settings, job_engine)
    outbox = Path(job_settings.outbox_dir)
    with BackgroundWorker(job_settings, job_engine):
        for body in ("Hello.", "And one more thing."):
            with session_scope(job_engine) as session:
                threads.add_post(session, match_id=match.id or 0, user_id=member.id or 0,
                                 body=body)
        [sent] = wait_for_mails(outbox, 1)
        time.sleep(1.0)  # a second e-mail would have come by now
        assert len(mails_in(outbox)) == 1
    assert f"To: {mentor.email}" in sent
    assert "Ines Member wrote to you on Telos" in sent
    assert f"/matches/{match.id}/thread" in sent
