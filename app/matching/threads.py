"""The private thread of a member and their accepted mentor: only those two read or post;
each new post tells the other by e-mail (a job), at most once an hour, unless muted."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import jobs
from app.accounts import service as accounts
from app.accounts.models import User
from app.clock import now
from app.community.posts import POST_LIMIT, PostProblem, post_text
from app.errors import NotFound, TelosError
from app.mail import Mail
from app.matching.models import Match, MatchStatus, MentorPost, MentorThreadReader

__all__ = ["POST_LIMIT", "PostProblem"]

NOTIFY_TASK = "matching.thread_mail"
NOTIFY_EVERY = timedelta(hours=1)
# A thread exists once the mentor accepted; after the pairing ended it can still be read.
THREAD_STATUSES = (MatchStatus.accepted, MatchStatus.ended)


class PairingEnded(TelosError):
    status_code = 409
    title = "Your post was not sent"


def thread_match(session: Session, *, match_id: int, user_id: int) -> Match:
    """The match, for its member or its mentor once accepted; for anyone else (a manager
    too) there is no thread here."""
    match = session.get(Match, match_id)
    if (match is None or user_id not in (match.member_id, match.mentor_id)
            or match.status not in THREAD_STATUSES):
        raise NotFound("There is no conversation of yours at this address.")
    return match


def other_side(match: Match, user_id: int) -> int:
    return match.mentor_id if user_id == match.member_id else match.member_id


@dataclass(frozen=True)
class ShownPost:
    post: MentorPost
    author: str
    mine: bool


@dataclass(frozen=True)
class ThreadPage:
    match: Match
    other: User | None
    posts: list[ShownPost]
    muted: bool

    @property
    def open(self) -> bool:
        return self.match.status == MatchStatus.accepted

    @property
    def other_name(self) -> str:
        return self.other.display_name if self.other else "Someone who left Telos"


def thread_page(session: Session, *, match_id: int, user: User) -> ThreadPage:
    assert user.id is not None
    match = thread_match(session, match_id=match_id, user_id=user.id)
    other = accounts.get_user(session, other_side(match, user.id))
    names = {user.id: user.display_name, **({other.id: other.display_name} if other else {})}
    posts = session.exec(select(MentorPost).where(MentorPost.match_id == match.id)
                         .order_by(col(MentorPost.id)))
    shown = [ShownPost(post, names.get(post.author_id, "Someone who left Telos"),
                       post.author_id == user.id) for post in posts]
    reader = _reader(session, match_id=match.id or 0, user_id=user.id)
    return ThreadPage(match, other, shown, bool(reader and reader.muted))


def add_post(session: Session, *, match_id: int, user_id: int, body: str) -> MentorPost:
    match = thread_match(session, match_id=match_id, user_id=user_id)
    if match.status != MatchStatus.accepted:
        raise PairingEnded("This mentoring has ended, so nothing more can be posted here. "
                           "Your text is kept below, to copy and keep.")
    post = MentorPost(match_id=match_id, author_id=user_id, body=post_text(body))
    session.add(post)
    session.flush()
    _tell_later(session, match_id=match_id, recipient_id=other_side(match, user_id))
    return post


def _reader(session: Session, *, match_id: int, user_id: int) -> MentorThreadReader | None:
    return session.exec(select(MentorThreadReader).where(
        MentorThreadReader.match_id == match_id, MentorThreadReader.user_id == user_id)).first()


def _reader_row(session: Session, *, match_id: int, user_id: int) -> MentorThreadReader:
    found = _reader(session, match_id=match_id, user_id=user_id)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(MentorThreadReader(match_id=match_id, user_id=user_id))
    except IntegrityError:  # made in the same moment by the other side's post
        pass
    found = _reader(session, match_id=match_id, user_id=user_id)
    assert found is not None
    return found


def set_muted(session: Session, *, match_id: int, user_id: int, muted: bool) -> None:
    thread_match(session, match_id=match_id, user_id=user_id)
    reader = _reader_row(session, match_id=match_id, user_id=user_id)
    reader.muted = muted
    session.add(reader)
    session.flush()


def _tell_later(session: Session, *, match_id: int, recipient_id: int) -> None:
    """One e-mail job per recipient between two e-mails: every post until it runs shares
    its key, and it runs no sooner than an hour after the last e-mail."""
    reader = _reader_row(session, match_id=match_id, user_id=recipient_id)
    if reader.muted:
        return
    last = reader.notified_at
    since = "never" if last is None else f"{last.timestamp():.6f}"
    jobs.enqueue(session, NOTIFY_TASK, key=f"{NOTIFY_TASK}:{match_id}:{recipient_id}:{since}",
                 at=max(now(), last + NOTIFY_EVERY) if last else None,
                 match_id=match_id, recipient_id=recipient_id)


def notification(session: Session, *, match_id: int, recipient_id: int, base_url: str,
                 moment: datetime) -> Mail | None:
    """The e-mail about the other side's posts since the recipient was last told, or None
    (muted, told within the hour, nothing new, or the thread is gone); marks them told."""
    match = session.get(Match, match_id)
    reader = _reader(session, match_id=match_id, user_id=recipient_id)
    recipient = accounts.get_user(session, recipient_id)
    if (match is None or reader is None or reader.muted or recipient is None
            or not recipient.is_active or match.status not in THREAD_STATUSES):
        return None
    last = reader.notified_at
    if last is not None and moment - last < NOTIFY_EVERY:
        return None
    query = select(MentorPost).where(MentorPost.match_id == match_id,
                                     MentorPost.author_id != recipient_id)
    if last is not None:
        query = query.where(col(MentorPost.created_at) > last)
    new = list(session.exec(query))
    if not new:
        return None
    reader.notified_at = moment
    session.add(reader)
    session.flush()
    author = accounts.get_user(session, other_side(match, recipient_id))
    return _mail(recipient, author.display_name if author else "Someone", len(new),
                 f"{base_url}/matches/{match_id}/thread")


def _mail(recipient: User, author: str, count: int, link: str) -> Mail:
    what = "a new message" if count == 1 else f"{count} new messages"
    return Mail(to=recipient.email, subject=f"{author} wrote to you on Telos",
                body=(f"Hello {recipient.display_name},\n\n{author} sent you {what} in your "
                      f"conversation on Telos. Read and reply here:\n\n{link}\n\n"
                      "You get at most one e-mail an hour about it. To stop these e-mails, "
                      "choose \"Mute\" on the conversation's page.\n"))
