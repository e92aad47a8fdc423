"""Mentor profiles, members' preferences, requests and their answers, and match history.

Manager runs (draft, review, publish) are in `app.matching.runs`; the scoring itself is
the pure engine in `app.matching.engine`.
"""

from collections.abc import Collection, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import jobs, mail
from app.accounts import service as accounts
from app.accounts.models import Role, User, UserRole
from app.clock import now
from app.community import content
from app.community import service as community
from app.community import themes as themes_registry
from app.errors import NotFound, TelosError
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.models import Visibility
from app.matching import engine
from app.matching.models import (
    OPEN_STATUSES,
    Match,
    MatchPreferences,
    MatchSource,
    MatchStatus,
    MentorProfile,
)
from app.matching.wishes import WISHES

NOT_A_GOOD_FIT = "not a good fit"
SUGGESTIONS_TASK = "matching.suggestions"
# Changes to mentors or content within this long make one refresh of everyone's lists.
COALESCE = timedelta(seconds=30)


class AlreadyAnswered(TelosError):
    status_code = 409
    title = "Already answered"


class RequestRefused(TelosError):
    status_code = 409
    title = "This request cannot be made"


# Profiles and preferences ------------------------------------------------------------------


def mentor_profile(session: Session, *, user_id: int) -> MentorProfile | None:
    return session.exec(select(MentorProfile).where(MentorProfile.user_id == user_id)).first()


def save_mentor_profile(session: Session, *, user_id: int, **fields: Any) -> MentorProfile:
    profile = mentor_profile(session, user_id=user_id) or MentorProfile(user_id=user_id)
    for name, value in fields.items():
        setattr(profile, name, value)
    profile.updated_at = now()
    session.add(profile)
    session.flush()
    pool_changed(session)
    return profile


def set_accepting(session: Session, *, user_id: int, accepting: bool) -> MentorProfile:
    return save_mentor_profile(session, user_id=user_id, accepting=accepting)


def preferences(session: Session, *, user_id: int) -> MatchPreferences | None:
    return session.exec(
        select(MatchPreferences).where(MatchPreferences.user_id == user_id)
    ).first()


def save_preferences(
    session: Session, *, user_id: int, themes: list[str], languages: list[str],
    wishes: list[str], wants: str,
) -> MatchPreferences:
    prefs = preferences(session, user_id=user_id) or MatchPreferences(user_id=user_id)
    prefs.themes, prefs.languages, prefs.wishes = themes, languages, wishes
    prefs.wants, prefs.updated_at = wants.strip(), now()
    session.add(prefs)
    session.flush()
    purpose_changed(session, user_id=user_id)
    return prefs


# Asking for stored suggestions (app.matching.suggestions) to be computed again ------------


def purpose_changed(session: Session, *, user_id: int) -> None:
    """The member's preferences or statement changed: their lists are computed again."""
    jobs.enqueue(session, SUGGESTIONS_TASK, user_ids=[user_id])


def statement_changed(session: Session, *, enrolment_id: int) -> None:
    """A new statement version, or its visibility changed."""
    latest = statements.latest(session, enrolment_id=enrolment_id)
    if latest is not None:
        purpose_changed(session, user_id=latest.user_id)


def pool_changed(session: Session) -> None:
    """A mentor or a content item changed: everyone's stored lists are computed again, by
    one job for all the changes made within COALESCE of each other."""
    moment = now()
    window = int(moment.timestamp() // COALESCE.total_seconds())
    # The job runs once its window has closed, so it sees every change made in it.
    jobs.enqueue(session, SUGGESTIONS_TASK, key=f"{SUGGESTIONS_TASK}:everyone:{window}",
                 at=moment + COALESCE, everyone=True)


def suggestions_wanted(session: Session, *, user_id: int) -> None:
    """A page found no stored lists: one computation, however often the page is opened."""
    jobs.enqueue(session, SUGGESTIONS_TASK, key=f"{SUGGESTIONS_TASK}:first:{user_id}",
                 user_ids=[user_id])


def utc_offset_hours(time_zone: str, at: datetime | None = None) -> float | None:
    try:
        offset = ZoneInfo(time_zone).utcoffset(at or now())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return None if offset is None else offset.total_seconds() / 3600


# What the engine sees -----------------------------------------------------------------------


def member_profile(session: Session, *, user: User) -> engine.MemberProfile:
    """The member's purpose as the matcher reads it: their newest statement, chosen values,
    themes and what they want from a mentor; never their reflections."""
    assert user.id is not None
    prefs = preferences(session, user_id=user.id) or MatchPreferences(user_id=user.id)
    enrolment = journeys.current_enrolment(session, user_id=user.id)
    pieces: list[str] = []
    if enrolment is not None and enrolment.id is not None:
        statement = statements.latest(session, enrolment_id=enrolment.id)
        pieces.append(statement.text if statement else "")
        pieces.append(", ".join(journeys.chosen_values(session, enrolment=enrolment)))
    pieces.append(prefs.wants)
    return engine.MemberProfile(
        id=str(user.id), text="\n".join(piece for piece in pieces if piece),
        themes=frozenset(prefs.themes), languages=frozenset(prefs.languages),
        utc_offset_hours=utc_offset_hours(user.time_zone), wishes=frozenset(prefs.wishes),
    )


def mentor_loads(session: Session) -> dict[int, int]:
    """Open matches (proposed or accepted) per mentor: the places they already fill."""
    rows = session.exec(
        select(Match.mentor_id, func.count()).where(col(Match.status).in_(OPEN_STATUSES))
        .group_by(col(Match.mentor_id))
    )
    return {mentor_id: count for mentor_id, count in rows}


@dataclass(frozen=True)
class Mentor:
    user: User
    profile: MentorProfile
    load: int

    @property
    def free(self) -> int:
        return max(self.profile.capacity - self.load, 0)


def mentors(session: Session, *, only_ids: Collection[int] | None = None) -> list[Mentor]:
    """Every active mentor with a profile, with how many mentees they have now. A profile
    outlives a removed mentor role; such a person is no longer a mentor."""
    query = (select(User, MentorProfile).join(MentorProfile,
                                              col(MentorProfile.user_id) == User.id)
             .join(UserRole, (col(UserRole.user_id) == User.id) & (UserRole.role == Role.mentor))
             .where(col(User.is_active)).order_by(col(User.display_name)))
    if only_ids is not None:
        query = query.where(col(User.id).in_(list(only_ids)))
    loads = mentor_loads(session)
    return [Mentor(user, profile, loads.get(user.id or 0, 0))
            for user, profile in session.exec(query)]


def engine_mentor(mentor: Mentor) -> engine.MentorProfile:
    profile = mentor.profile
    return engine.MentorProfile(
        id=str(mentor.user.id), text=f"{profile.bio}\n{profile.experience}",
        themes=frozenset(profile.themes), languages=frozenset(profile.languages),
        utc_offset_hours=utc_offset_hours(mentor.user.time_zone),
        offers=frozenset(profile.offers), capacity=mentor.free, accepting=profile.accepting,
    )


def ended_pairs(session: Session, *, member_id: int | None = None) -> set[tuple[str, str]]:
    """Pairs that must never be suggested again: declined, or found not a good fit."""
    query = select(Match.member_id, Match.mentor_id).where(or_(
        col(Match.status) == MatchStatus.declined,
        (col(Match.status) == MatchStatus.ended) & (Match.end_reason == NOT_A_GOOD_FIT),
    ))
    if member_id is not None:
        query = query.where(Match.member_id == member_id)
    rows = session.exec(query)
    return {(str(member), str(mentor)) for member, mentor in rows}


def make_encoder(name: str) -> Any:
    return engine.make_encoder(name)


# The member's side ---------------------------------------------------------------------------


@dataclass(frozen=True)
class MentorSuggestion:
    mentor_id: int
    name: str
    bio: str
    themes: list[str]
    languages: list[str]
    explanation: str
    score: float


def suggested_mentors(
    session: Session, *, user: User, encoder_name: str, k: int = 3
) -> list[MentorSuggestion]:
    member = member_profile(session, user=user)
    available = [mentor for mentor in mentors(session) if mentor.user.id != user.id]
    if not available:
        return []
    labels = community.theme_labels(session)
    ranked = engine.score_candidates(
        [member], [engine_mentor(mentor) for mentor in available],
        encoder=make_encoder(encoder_name), theme_labels=labels,
        declined=ended_pairs(session), top_k=k,
    ).get(member.id, [])
    by_id = {str(mentor.user.id): mentor for mentor in available}
    return [suggestion_of(by_id[pick.mentor_id], pick, labels) for pick in ranked]


def suggestion_of(
    mentor: Mentor, pick: engine.Candidate, labels: dict[str, str]
) -> MentorSuggestion:
    assert mentor.user.id is not None
    return MentorSuggestion(
        mentor_id=mentor.user.id, name=mentor.user.display_name, bio=mentor.profile.bio,
        themes=[labels.get(key, key) for key in mentor.profile.themes],
        languages=mentor.profile.languages, explanation=pick.explanation, score=pick.score,
    )


def content_languages(session: Session, *, user: User) -> frozenset[str]:
    """The languages content is chosen in: those of the member's preferences, else their
    account's own language (an unset choice is not "every language")."""
    assert user.id is not None
    prefs = preferences(session, user_id=user.id)
    chosen = prefs.languages if prefs is not None and prefs.languages else [user.locale]
    return frozenset(language.lower() for language in chosen if language)


def suggested_content(
    session: Session, *, user: User, encoder_name: str, k: int = 5, stage: str | None = None
) -> list[Any]:
    member = replace(member_profile(session, user=user),
                     languages=content_languages(session, user=user))
    return list(content.suggestions(session, member=member, k=k, stage=stage,
                                    encoder=make_encoder(encoder_name)))


def open_match(session: Session, *, member_id: int) -> Match | None:
    return session.exec(
        select(Match).where(Match.member_id == member_id, col(Match.status).in_(OPEN_STATUSES))
        .order_by(col(Match.id).desc())
    ).first()


def request_mentor(
    session: Session, *, member: User, mentor_id: int, base_url: str
) -> tuple[Match, list[mail.Mail]]:
    """The member asks a mentor directly; the mentor sees it as a request to answer. The
    same request again (a double click, a second tab) is answered with the one already
    made, and nothing is sent twice; a partial unique index holds one open match per
    member when both clicks arrive at the same moment."""
    assert member.id is not None
    existing = _same_or_refused(session, member_id=member.id, mentor_id=mentor_id)
    if existing is not None:
        return existing, []
    mentor = next(iter(mentors(session, only_ids=[mentor_id])), None)
    if mentor is None or mentor.user.id == member.id:
        raise NotFound("There is no mentor at this address.")
    _refuse_unless_possible(session, member=member, mentor=mentor)
    pick = engine.score_pair(member_profile(session, user=member), engine_mentor(mentor),
                             theme_labels=community.theme_labels(session))
    match = Match(member_id=member.id, mentor_id=mentor_id, source=MatchSource.member,
                  status=MatchStatus.proposed, score=pick.score if pick else 0.0,
                  explanation=pick.explanation if pick else "", created_by_id=member.id,
                  parts=dict(pick.parts) if pick else {}, proposed_at=now())
    try:
        with session.begin_nested():
            session.add(match)
    except IntegrityError:  # the other click's request was stored a moment before
        existing = _same_or_refused(session, member_id=member.id, mentor_id=mentor_id)
        if existing is None:
            raise RequestRefused("Another request of yours changed at the same moment; "
                                 "nothing was sent. Try again.") from None
        return existing, []
    return match, [request_mail(mentor.user, member, base_url=base_url)]


def _same_or_refused(session: Session, *, member_id: int, mentor_id: int) -> Match | None:
    """The member's open request to this mentor, if they made one; refused if they have
    another mentor or request; None if they have neither."""
    current = open_match(session, member_id=member_id)
    if current is None:
        return None
    if (current.mentor_id == mentor_id and current.source == MatchSource.member
            and current.status == MatchStatus.proposed):
        return current
    raise RequestRefused("You already have a mentor or a request waiting for an answer. "
                         "One at a time: wait for the answer first.")


def _refuse_unless_possible(session: Session, *, member: User, mentor: Mentor) -> None:
    if (str(member.id), str(mentor.user.id)) in ended_pairs(session):
        raise RequestRefused("This mentor and you have been matched before and it did not "
                             "go ahead, so they cannot be asked again. Choose another mentor.")
    if not mentor.profile.accepting or mentor.free == 0:
        raise RequestRefused(f"{mentor.user.display_name} is not taking new mentees just now. "
                             "Choose another mentor.")
    wanted = set(member_profile(session, user=member).languages)
    if wanted and mentor.profile.languages and not wanted & set(mentor.profile.languages):
        raise RequestRefused(f"{mentor.user.display_name} does not speak any of the languages "
                             "you chose. Choose another mentor, or add a language.")


def withdraw_request(session: Session, *, member: User, match_id: int) -> list[mail.Mail]:
    """The member takes back a request they made that the mentor has not answered; the
    mentor is told, so they do not spend time on it. One conditional UPDATE: a mentor's
    answer in the same moment wins or loses whole."""
    match = session.get(Match, match_id)
    if match is None or match.member_id != member.id or match.source != MatchSource.member:
        raise NotFound("You have no such request.")
    result = session.execute(
        update(Match)
        .where(col(Match.id) == match_id, col(Match.status) == MatchStatus.proposed)
        .values(status=MatchStatus.withdrawn, answered_at=now())
    )
    session.refresh(match)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyAnswered(f"This request was already {MatchStatus(match.status).value}; "
                              "nothing changed.")
    mentor = accounts.get_user(session, match.mentor_id)
    if mentor is None:
        return []
    return [mail.Mail(
        to=mentor.email, subject=f"{member.display_name} has withdrawn their request",
        body=(f"Hello {mentor.display_name},\n\n{member.display_name} has withdrawn their "
              "request for you to be their mentor, so there is nothing for you to answer. "
              "Thank you for your time.\n"),
    )]


def request_mail(mentor: User, member: User, *, base_url: str) -> mail.Mail:
    return mail.Mail(
        to=mentor.email, subject=f"{member.display_name} would like you as their mentor",
        body=(f"Hello {mentor.display_name},\n\n{member.display_name} would like you to "
              "mentor them on their purpose journey. Read what they chose to share and "
              f"accept or decline here:\n\n{base_url}/mentor/requests\n"),
    )


# The mentor's side ----------------------------------------------------------------------------


@dataclass(frozen=True)
class MenteeView:
    """A match as its mentor sees it: only what the member chose to share."""

    match: Match
    member_name: str
    statement: str | None
    themes: list[str]
    wishes: list[str]
    wants: str


def mentee_views(session: Session, *, mentor_id: int) -> list[MenteeView]:
    matches = session.exec(
        select(Match).where(Match.mentor_id == mentor_id, col(Match.status).in_(OPEN_STATUSES))
        .order_by(col(Match.proposed_at))
    )
    return [_mentee_view(session, match) for match in matches]


def shared_statement(
    session: Session, *, member_id: int, their_mentor: bool = True
) -> str | None:
    """The member's newest statement, only if they shared it with everyone, or with their
    mentor and this is their mentor."""
    enrolment = journeys.current_enrolment(session, user_id=member_id)
    if enrolment is None or enrolment.id is None:
        return None
    latest = statements.latest(session, enrolment_id=enrolment.id)
    if latest is None or latest.visibility == Visibility.private:
        return None
    if latest.visibility == Visibility.mentor and not their_mentor:
        return None
    return latest.text


def chosen_by_member(match: Match) -> bool:
    """A member's mentor is one they asked for, or one whose match is accepted: a mentor a
    manager's run merely proposed is not theirs yet."""
    return match.source == MatchSource.member or match.status == MatchStatus.accepted


def _mentee_view(session: Session, match: Match) -> MenteeView:
    member = accounts.get_user(session, match.member_id)
    assert member is not None
    prefs = preferences(session, user_id=match.member_id) or MatchPreferences(user_id=0)
    labels = community.theme_labels(session)
    return MenteeView(
        match=match, member_name=member.display_name,
        statement=shared_statement(session, member_id=match.member_id,
                                   their_mentor=chosen_by_member(match)),
        themes=[labels.get(key, key) for key in prefs.themes],
        wishes=[WISHES[key] for key in prefs.wishes if key in WISHES], wants=prefs.wants,
    )


def own_match(session: Session, *, match_id: int, user_id: int) -> Match:
    """The match only for its member or its mentor; for anyone else it does not exist."""
    match = session.get(Match, match_id)
    if match is None or user_id not in (match.member_id, match.mentor_id) \
            or match.status == MatchStatus.draft:
        raise NotFound("There is no match of yours at this address.")
    return match


def _answer(session: Session, *, match: Match, status: MatchStatus, reason: str = "") -> None:
    """Moves a proposal on only if it is still a proposal: checked in the UPDATE itself, so
    two answers (two tabs, or a manager and a mentor) cannot both win."""
    result = session.execute(
        update(Match)
        .where(col(Match.id) == match.id, col(Match.status) == MatchStatus.proposed)
        .values(status=status, decline_reason=reason.strip(), answered_at=now())
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(match)
        answered = MatchStatus(match.status).value
        raise AlreadyAnswered(f"This request was already {answered}; nothing changed.")
    session.refresh(match)


def accept(session: Session, *, match: Match, base_url: str) -> list[mail.Mail]:
    _answer(session, match=match, status=MatchStatus.accepted)
    return [_answer_mail(session, match, accepted=True, base_url=base_url)]


def decline(session: Session, *, match: Match, reason: str, base_url: str) -> list[mail.Mail]:
    """A declined pair is never suggested again; the member is back in the pool."""
    _answer(session, match=match, status=MatchStatus.declined, reason=reason)
    return [_answer_mail(session, match, accepted=False, base_url=base_url)]


def _answer_mail(session: Session, match: Match, *, accepted: bool, base_url: str) -> mail.Mail:
    member, mentor = (accounts.get_user(session, match.member_id),
                      accounts.get_user(session, match.mentor_id))
    assert member is not None and mentor is not None
    if accepted:
        news = (f"{mentor.display_name} has accepted to be your mentor. They will get in "
                f"touch; their e-mail address is {mentor.email}.")
    else:
        news = (f"{mentor.display_name} cannot be your mentor just now. You are back in line "
                "for the next round of suggestions, or you can ask another mentor yourself.")
    return mail.Mail(to=member.email, subject="News about your mentor request",
                     body=f"Hello {member.display_name},\n\n{news}\n\n{base_url}/my-mentor\n")


def answer_fit(session: Session, *, match: Match, user_id: int, fit: bool) -> Match:
    """Either side's "no" ends the match and returns the member to the pool."""
    if match.status != MatchStatus.accepted:
        raise AlreadyAnswered("This match is no longer running, so there is nothing to "
                              "answer.")
    side = "member_fit" if user_id == match.member_id else "mentor_fit"
    values: dict[str, Any] = {side: fit}
    if not fit:
        values.update(status=MatchStatus.ended, end_reason=NOT_A_GOOD_FIT, ended_at=now())
    result = session.execute(
        update(Match).where(col(Match.id) == match.id,
                            col(Match.status) == MatchStatus.accepted).values(**values)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise AlreadyAnswered("This match was ended in the meantime; nothing changed.")
    session.refresh(match)
    return match


def mentor_of(session: Session, *, member_id: int) -> tuple[Match, User] | None:
    match = open_match(session, member_id=member_id)
    if match is None:
        return None
    mentor = accounts.get_user(session, match.mentor_id)
    assert mentor is not None
    return match, mentor


# History -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HistoryRow:
    match: Match
    member_name: str
    mentor_name: str

    @property
    def how(self) -> str:
        if self.match.source == MatchSource.member:
            return "requested by the member"
        if self.match.source == MatchSource.manager:
            return f"by hand, in run {self.match.run_id}" if self.match.run_id else "by hand"
        return f"run {self.match.run_id}"

    @property
    def outcome(self) -> str:
        match = self.match
        if match.status == MatchStatus.ended and match.end_reason:
            return f"ended: {match.end_reason}"
        if match.status == MatchStatus.declined and match.decline_reason:
            return f"declined: {match.decline_reason}"
        return {MatchStatus.proposed: "waiting for the mentor",
                MatchStatus.accepted: "running"}.get(match.status, str(match.status))


def history(session: Session, *, limit: int = 500) -> list[HistoryRow]:
    """Every match that left the draft stage, newest first."""
    table = User.__table__  # type: ignore[attr-defined]
    member, mentor = table.alias("member"), table.alias("mentor")
    rows = session.exec(
        select(Match, member.c.display_name, mentor.c.display_name)
        .join(member, member.c.id == Match.member_id)
        .join(mentor, mentor.c.id == Match.mentor_id)
        .where(col(Match.status) != MatchStatus.draft)
        .order_by(col(Match.proposed_at).desc(), col(Match.id).desc())
        .limit(limit)
    )
    return [HistoryRow(match, member_name, mentor_name)
            for match, member_name, mentor_name in rows]


def theme_keys(session: Session) -> set[str]:
    return {theme.key for theme in community.themes(session)}


def labels_of(keys: Iterable[str], labels: dict[str, str]) -> list[str]:
    return [labels.get(key, key) for key in keys]


# What the member's pages show ----------------------------------------------------------------


def preference_values(prefs: MatchPreferences | None) -> dict[str, Any]:
    if prefs is None:
        return {"themes": [], "languages": [], "wishes": [], "wants": ""}
    return {"themes": prefs.themes, "languages": prefs.languages, "wishes": prefs.wishes,
            "wants": prefs.wants}


def member_page(
    session: Session, *, user: User, encoder_name: str, mentors_wanted: bool = True,
    content_wanted: bool = True, stage: str | None = None,
) -> dict[str, Any]:
    """Everything the member's matching views show: their mentor or request, the question
    about fit, their preferences, and suggested mentors and content (the stored lists;
    content for one stage of a journey is chosen when asked, as it differs per stage)."""
    from app.accounts.forms import LOCALES  # late: accounts' forms are not a service
    from app.matching import suggestions  # late: it builds on this module

    assert user.id is not None
    current = mentor_of(session, member_id=user.id)
    show_mentors = mentors_wanted and current is None
    stored = suggestions.shown(session, user=user, mentors_wanted=show_mentors)
    content_now = stored.content if stage is None else suggested_content(
        session, user=user, encoder_name=encoder_name, stage=stage)
    return {
        "current": current,
        "preferences": preference_values(preferences(session, user_id=user.id)),
        "theme_choices": [(theme.key, theme.label) for theme in community.themes(session)],
        "language_choices": LOCALES, "wish_choices": WISHES,
        "suggestions_ready": stored.ready, "content_ready": stored.ready or stage is not None,
        "mentor_suggestions": stored.mentors,
        "content_suggestions": content_now if content_wanted else [],
        "show_mentors": mentors_wanted, "show_content": content_wanted,
    }


@dataclass(frozen=True)
class HomeSummary:
    current: tuple[Match, User] | None
    ready: bool
    mentors: list[MentorSuggestion]
    content: list[Any]
    waiting_requests: int
    has_profile: bool


def home_summary(session: Session, *, user: User, member: bool, mentor: bool) -> HomeSummary:
    """The matching part of the home page: for a member their mentor (or suggestions) and
    content, from their stored lists; for a mentor how many requests wait."""
    from app.matching import suggestions  # late: it builds on this module

    assert user.id is not None
    current = mentor_of(session, member_id=user.id) if member else None
    waiting = session.exec(select(func.count()).where(
        Match.mentor_id == user.id, Match.status == MatchStatus.proposed)).one() if mentor else 0
    stored = suggestions.shown(session, user=user, mentors_wanted=current is None) \
        if member else suggestions.Stored(True, [], [])
    return HomeSummary(
        current=current, ready=stored.ready, mentors=stored.mentors, content=stored.content,
        waiting_requests=waiting,
        has_profile=mentor and mentor_profile(session, user_id=user.id) is not None,
    )


@themes_registry.register_use
def _theme_uses(session: Session, key: str) -> list[str]:
    """Mentor profiles and members' preferences tagged with the theme (JSON lists, so read
    here rather than in SQL that differs between the databases)."""
    mentors_using = sum(1 for tags in session.exec(select(MentorProfile.themes)) if key in tags)
    members_using = sum(1 for tags in session.exec(select(MatchPreferences.themes))
                        if key in tags)
    uses = []
    if mentors_using:
        uses.append(f"{mentors_using} mentor profile{'s' if mentors_using > 1 else ''}")
    if members_using:
        uses.append(f"{members_using} member{'s' if members_using > 1 else ''}' choices")
    return uses
