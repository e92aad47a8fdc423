"""A circle's members: its page, the thread of posts and replies, the meeting time and
link, leaving and muting; reports and a manager's moderation; the daily digest."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import User
from app.audit import service as audit
from app.clock import now
from app.community import circles
from app.community import service as community
from app.community.circle_models import (
    Circle,
    CircleMembership,
    CirclePost,
    CirclePostReport,
    CircleStatus,
)
from app.community.models import Cohort
from app.community.posts import PostProblem, post_text
from app.errors import NotFound, TelosError
from app.mail import Mail
from app.matching import service as matching

EVENING = (18.0, 21.0)  # a meeting may start at these local hours, both included


class LeftCircle(TelosError):
    status_code = 409
    title = "Your post was not sent"


def _circle_not_found() -> NotFound:
    return NotFound("There is no circle with that number, or you are not in it.")


# A member's circles ----------


def my_circles(session: Session, *, user_id: int) -> list[Circle]:
    return list(session.exec(
        select(Circle).join(CircleMembership, col(CircleMembership.circle_id) == Circle.id)
        .where(CircleMembership.user_id == user_id, col(CircleMembership.left_at).is_(None),
               Circle.status == CircleStatus.published).order_by(col(Circle.id))))


def membership_of(session: Session, *, circle_id: int, user_id: int) -> CircleMembership | None:
    return session.exec(select(CircleMembership).where(
        CircleMembership.circle_id == circle_id, CircleMembership.user_id == user_id)).first()


def member_circle(session: Session, *, circle_id: int, user_id: int) -> Circle:
    """The published circle, for someone in it now; 404 for anyone else, managers too."""
    circle = session.get(Circle, circle_id)
    membership = membership_of(session, circle_id=circle_id, user_id=user_id)
    if (circle is None or circle.status != CircleStatus.published or membership is None
            or membership.left_at is not None):
        raise _circle_not_found()
    return circle


@dataclass(frozen=True)
class MeetingTime:
    utc_hour: float
    local_hour: float  # for the member looking
    fits: int
    of: int


def suggest_meeting(offsets: Sequence[float], *, mine: float) -> MeetingTime | None:
    """The UTC start, on the half hour, that is an evening hour (18:00 to 21:00 local) for
    the most members; ties go to the one nearest 19:30 for them on average."""
    if not offsets:
        return None
    best: tuple[int, float, float] | None = None
    for step in range(48):
        start = step / 2
        local = [(start + offset) % 24 for offset in offsets]
        fits = sum(EVENING[0] <= hour <= EVENING[1] for hour in local)
        spread = sum(abs(hour - 19.5) for hour in local)
        if best is None or (fits, -spread) > (best[0], -best[1]):
            best = (fits, spread, start)
    assert best is not None
    return MeetingTime(best[2], (best[2] + mine) % 24, best[0], len(offsets))


@dataclass
class Thread:
    post: CirclePost
    author: str
    replies: list["Thread"] = field(default_factory=list)


@dataclass(frozen=True)
class CirclePage:
    circle: Circle
    cohort: Cohort
    members: list[User]
    membership: CircleMembership
    meeting: MeetingTime | None
    threads: list[Thread]


def _offset(user: User) -> float:
    return matching.utc_offset_hours(user.time_zone) or 0.0


def circle_page(session: Session, *, circle_id: int, user: User) -> CirclePage:
    assert user.id is not None
    circle = member_circle(session, circle_id=circle_id, user_id=user.id)
    members = circles.active_members(session, circle_id=circle_id)
    membership = membership_of(session, circle_id=circle_id, user_id=user.id)
    assert membership is not None
    return CirclePage(circle, community.get_cohort(session, circle.cohort_id), members,
                      membership,
                      suggest_meeting([_offset(member) for member in members], mine=_offset(user)),
                      _threads(session, circle_id=circle_id))


def _threads(session: Session, *, circle_id: int) -> list[Thread]:
    posts = list(session.exec(select(CirclePost).where(CirclePost.circle_id == circle_id)
                              .order_by(col(CirclePost.id))))
    names = _names(session, {post.author_id for post in posts if post.author_id})
    top: list[Thread] = []
    replies: dict[int, list[Thread]] = defaultdict(list)
    for post in posts:
        thread = Thread(post, names.get(post.author_id or 0, "Someone who left Telos"))
        (replies[post.parent_id] if post.parent_id else top).append(thread)
    for thread in top:
        thread.replies = replies[thread.post.id or 0]
    return top


def _names(session: Session, user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    rows = session.exec(select(User.id, User.display_name).where(col(User.id).in_(user_ids)))
    return {user_id: name for user_id, name in rows if user_id is not None}


def add_post(session: Session, *, circle_id: int, user_id: int, body: str,
             parent_id: int | None = None) -> CirclePost:
    circle = session.get(Circle, circle_id)
    membership = membership_of(session, circle_id=circle_id, user_id=user_id)
    if circle is None or membership is None or circle.status != CircleStatus.published:
        raise _circle_not_found()
    if membership.left_at is not None:
        raise LeftCircle("You are no longer in this circle, so your post was not sent. "
                         "Your text is below, to copy and keep.")
    text = post_text(body)
    if parent_id is not None:
        parent = session.get(CirclePost, parent_id)
        if parent is None or parent.circle_id != circle_id:
            raise PostProblem("The post you replied to is not in this circle.")
        parent_id = parent.parent_id or parent.id  # a reply to a reply joins its thread
    post = CirclePost(circle_id=circle_id, author_id=user_id, body=text, parent_id=parent_id)
    session.add(post)
    session.flush()
    return post


def _member_post(session: Session, *, circle_id: int, post_id: int, user_id: int) -> CirclePost:
    member_circle(session, circle_id=circle_id, user_id=user_id)
    post = session.get(CirclePost, post_id)
    if post is None or post.circle_id != circle_id:
        raise NotFound("There is no post with that number in this circle.")
    return post


def report_post(session: Session, *, circle_id: int, post_id: int, user_id: int,
                reason: str) -> None:
    post = _member_post(session, circle_id=circle_id, post_id=post_id, user_id=user_id)
    existing = session.exec(select(CirclePostReport).where(
        CirclePostReport.post_id == post.id, CirclePostReport.reporter_id == user_id,
        col(CirclePostReport.resolved_at).is_(None))).first()
    if existing is None:
        session.add(CirclePostReport(post_id=post.id or 0, reporter_id=user_id,
                                     reason=reason.strip()[:500]))
        session.flush()


def link_problem(link: str) -> str | None:
    if not link:
        return None
    parts = urlsplit(link)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return "Give a full web address that starts with https:// (or http://)."
    if len(link) > 500:
        return "That address is too long; it may have at most 500 characters."
    return None


def set_meeting_link(session: Session, *, circle_id: int, user_id: int, link: str,
                     version: int) -> Circle:
    circle = member_circle(session, circle_id=circle_id, user_id=user_id)
    if circle.version != version:
        raise circles.CircleConflict(
            "Someone in your circle changed the meeting link meanwhile, so yours was not "
            "saved. Look at the link now shown and save again if yours is still needed.")
    circle.meeting_link, circle.version = link, circle.version + 1
    session.add(circle)
    session.flush()
    return circle


def leave(session: Session, *, circle_id: int, user_id: int) -> Circle:
    circle = member_circle(session, circle_id=circle_id, user_id=user_id)
    membership = membership_of(session, circle_id=circle_id, user_id=user_id)
    assert membership is not None
    membership.left_at = now()
    session.add(membership)
    session.flush()
    return circle


def set_muted(session: Session, *, circle_id: int, user_id: int, muted: bool) -> None:
    member_circle(session, circle_id=circle_id, user_id=user_id)
    membership = membership_of(session, circle_id=circle_id, user_id=user_id)
    assert membership is not None
    membership.muted = muted
    session.add(membership)
    session.flush()


# Moderation ----------


@dataclass(frozen=True)
class ReportedPost:
    post: CirclePost
    circle: Circle
    author: str
    reasons: list[str]


def reported_posts(session: Session, *, cohort_id: int) -> list[ReportedPost]:
    """The cohort's posts with an open report; the only posts a manager ever sees."""
    rows = list(session.exec(
        select(CirclePostReport, CirclePost, Circle)
        .join(CirclePost, col(CirclePost.id) == CirclePostReport.post_id)
        .join(Circle, col(Circle.id) == CirclePost.circle_id)
        .where(Circle.cohort_id == cohort_id, col(CirclePostReport.resolved_at).is_(None))
        .order_by(col(CirclePost.id))))
    names = _names(session, {post.author_id for _, post, _ in rows if post.author_id})
    found: dict[int, ReportedPost] = {}
    for report, post, circle in rows:
        entry = found.setdefault(post.id or 0, ReportedPost(
            post, circle, names.get(post.author_id or 0, "Someone who left Telos"), []))
        entry.reasons.append(report.reason or "(no reason given)")
    return list(found.values())


def _cohort_post(session: Session, *, cohort_id: int, post_id: int) -> CirclePost:
    post = session.get(CirclePost, post_id)
    circle = session.get(Circle, post.circle_id) if post else None
    if post is None or circle is None or circle.cohort_id != cohort_id:
        raise NotFound("This cohort's circles have no post with that number.")
    return post


def _resolve_reports(session: Session, *, post_id: int, by_id: int | None) -> int:
    return int(session.execute(
        update(CirclePostReport).where(col(CirclePostReport.post_id) == post_id,
                                       col(CirclePostReport.resolved_at).is_(None))
        .values(resolved_at=now(), resolved_by_id=by_id)).rowcount)  # type: ignore[attr-defined]


def _reported(session: Session, *, post_id: int) -> bool:
    return session.exec(select(CirclePostReport.id).where(
        CirclePostReport.post_id == post_id,
        col(CirclePostReport.resolved_at).is_(None))).first() is not None


def hide_post(session: Session, *, cohort_id: int, post_id: int, by_id: int | None) -> None:
    post = _cohort_post(session, cohort_id=cohort_id, post_id=post_id)
    if not _reported(session, post_id=post_id):
        raise NotFound("Nobody has reported that post, so it is not yours to see.")
    post.hidden_at, post.hidden_by_id = now(), by_id
    session.add(post)
    reports = _resolve_reports(session, post_id=post_id, by_id=by_id)
    audit.record(session, action="circles.post_hidden", actor_id=by_id,
                 target_type="circle_post", target_id=post_id, circle_id=post.circle_id,
                 reports=reports)
    session.flush()


def keep_post(session: Session, *, cohort_id: int, post_id: int, by_id: int | None) -> None:
    _cohort_post(session, cohort_id=cohort_id, post_id=post_id)
    if not _reported(session, post_id=post_id):
        raise NotFound("Nobody has reported that post, so it is not yours to see.")
    reports = _resolve_reports(session, post_id=post_id, by_id=by_id)
    audit.record(session, action="circles.report_dismissed", actor_id=by_id,
                 target_type="circle_post", target_id=post_id, reports=reports)
    session.flush()


def remove_member(session: Session, *, cohort_id: int, circle_id: int, user_id: int,
                  by_id: int | None) -> User:
    circle = circles.cohort_circle(session, cohort_id=cohort_id, circle_id=circle_id)
    membership = membership_of(session, circle_id=circle_id, user_id=user_id)
    user = accounts.get_user(session, user_id)
    if membership is None or membership.left_at is not None or user is None:
        raise NotFound("That person is not in this circle.")
    membership.left_at, membership.removed_by_id = now(), by_id
    session.add(membership)
    audit.record(session, action="circles.member_removed", actor_id=by_id,
                 target_type="user", target_id=user_id, circle_id=circle.id,
                 cohort_id=cohort_id)
    session.flush()
    return user


# The daily digest ----------


def send_digests(session: Session, *, base_url: str, moment: datetime) -> list[Mail]:
    """For each unmuted member not yet sent one today: others' new posts since their last
    digest, as who wrote how many (the text stays on the circle's page)."""
    rows = list(session.exec(
        select(CircleMembership, Circle, User)
        .join(Circle, col(Circle.id) == CircleMembership.circle_id)
        .join(User, col(User.id) == CircleMembership.user_id)
        .where(Circle.status == CircleStatus.published, col(CircleMembership.left_at).is_(None),
               col(CircleMembership.muted).is_(False), col(User.is_active).is_(True))))
    mails: list[Mail] = []
    for membership, circle, user in rows:
        since = membership.digest_sent_at or membership.joined_at
        if membership.digest_sent_at and since.date() == moment.date():
            continue
        posts = list(session.exec(select(CirclePost).where(
            CirclePost.circle_id == circle.id, CirclePost.author_id != user.id,
            col(CirclePost.hidden_at).is_(None), col(CirclePost.created_at) > since,
            col(CirclePost.created_at) <= moment)))
        if not posts:
            continue
        mails.append(_digest(user, circle, posts, _names(
            session, {post.author_id for post in posts if post.author_id}), base_url))
        membership.digest_sent_at = moment
        session.add(membership)
    session.flush()
    return mails


def _digest(user: User, circle: Circle, posts: list[CirclePost], names: dict[int, str],
            base_url: str) -> Mail:
    counts: dict[str, int] = defaultdict(int)
    for post in posts:
        counts[names.get(post.author_id or 0, "someone")] += 1
    lines = "\n".join(f"- {name}: {count} new post{'s' if count != 1 else ''}"
                      for name, count in sorted(counts.items()))
    return Mail(to=user.email, subject=f"{len(posts)} new in your circle {circle.number}",
                body=(f"Hello {user.display_name},\n\nSince your last digest:\n{lines}\n\n"
                      f"Read and reply: {base_url}/circles/{circle.id}\n\nTo stop these "
                      "e-mails, choose \"Mute\" on your circle's page.\n"))
