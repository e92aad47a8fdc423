"""Deleting an account: personal data and reflections go; research answers follow consent."""

from sqlmodel import Session

from app.accounts import consent
from app.accounts.models import User
from app.audit import service as audit
from app.research import service as research
from app.surveys import waves


def keeps_research_answers(session: Session, *, user_id: int) -> bool:
    return consent.research_consent_active(session, user_id=user_id)


def delete_account(session: Session, *, user: User) -> bool:
    """Deletes the user and all they wrote. Returns whether pseudonymous answers were kept.

    Survey answers given under research consent (not withdrawn) stay, without the
    account: their user and enrolment links become empty, their participant code
    remains. Without that consent they are deleted with everything else.
    """
    assert user.id is not None
    keep = keeps_research_answers(session, user_id=user.id)
    if keep:
        research.keep_enrolments(session, user_id=user.id)
    else:
        waves.forget_answers(session, user_id=user.id)
    audit.record(session, action="account.deleted", actor_id=None, target_type="user",
                 target_id=user.id, research_answers_kept=keep)
    session.delete(user)
    session.flush()
    return keep
