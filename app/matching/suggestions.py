"""A member's suggested mentors and content, stored rather than scored on every visit.

The "matching.suggestions" job (app.matching.tasks) computes them when what they depend
on changes: the member's preferences or purpose statement (for that member), a mentor's
profile or the content library (for everyone who has a stored list, in batches). Pages
read the stored lists and drop, at the moment of viewing, whatever no longer fits: a
mentor who is full, stopped taking mentees or was declined, archived content.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.models import User
from app.clock import now
from app.community import content as library
from app.community import service as community
from app.matching import engine
from app.matching import service as matching
from app.matching.models import MemberSuggestions

TASK = matching.SUGGESTIONS_TASK
# More are kept than shown, so that a mentor filling up does not leave the list short.
MENTORS_KEPT, MENTORS_SHOWN = 8, 3
CONTENT_KEPT, CONTENT_SHOWN = 8, 5
BATCH = 50
# Part of every fingerprint: a change to how reasons are worded computes the lists again.
REASONS_WORDING = 2


def everyone_stored(session: Session) -> list[int]:
    return list(session.exec(select(MemberSuggestions.user_id)
                             .order_by(col(MemberSuggestions.user_id))))


# Computing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Computed:
    user_id: int
    fingerprint: str
    mentors: list[dict[str, Any]]
    content: list[dict[str, Any]]


def compute(session: Session, *, user_ids: list[int], encoder_name: str) -> list[Computed]:
    """The lists of each member whose inputs changed since theirs were stored; it only
    reads, so on SQLite the transaction it runs in holds no write lock."""
    pool = matching.mentors(session)
    ended = matching.ended_pairs(session)
    items = library.items(session)
    shared = _digest([[m.user.id, m.profile.updated_at.isoformat(), m.free, m.profile.accepting]
                      for m in pool], [[i.id, i.version, i.updated_at.isoformat()] for i in items],
                     sorted(ended), encoder_name, REASONS_WORDING)
    done = []
    for user_id in user_ids:
        user = accounts.get_user(session, user_id)
        if user is None or not user.is_active:
            continue
        member = matching.member_profile(session, user=user)
        reads = matching.content_languages(session, user=user)
        fingerprint = _digest(asdict(member), sorted(reads), shared)
        stored = _stored(session, user_id)
        if stored is not None and stored.fingerprint == fingerprint:
            continue
        mentors = matching.suggested_mentors(session, user=user, encoder_name=encoder_name,
                                             k=MENTORS_KEPT)
        picks = library.suggestions(session, member=replace(member, languages=reads),
                                    k=CONTENT_KEPT, encoder=matching.make_encoder(encoder_name))
        done.append(Computed(
            user_id, fingerprint,
            [{"mentor_id": s.mentor_id, "score": s.score, "explanation": s.explanation}
             for s in mentors],
            [{"content_id": p.item.id, "score": p.score, "explanation": p.explanation}
             for p in picks]))
    return done


def _digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=sorted)
    return hashlib.sha256(text.encode()).hexdigest()


def _stored(session: Session, user_id: int) -> MemberSuggestions | None:
    return session.exec(select(MemberSuggestions)
                        .where(MemberSuggestions.user_id == user_id)).first()


def store(session: Session, computed: Computed) -> None:
    row = _stored(session, computed.user_id)
    if row is None:
        row = MemberSuggestions(user_id=computed.user_id)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # another job stored this member's lists just now
            row = _stored(session, computed.user_id)
            assert row is not None
    row.mentors, row.content = computed.mentors, computed.content
    row.fingerprint, row.computed_at = computed.fingerprint, now()
    session.add(row)
    session.flush()


def batches(user_ids: list[int]) -> list[list[int]]:
    return [user_ids[start:start + BATCH] for start in range(0, len(user_ids), BATCH)]


# Reading -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    """What a page shows; `ready` is False while the first lists are being prepared."""

    ready: bool
    mentors: list[matching.MentorSuggestion]
    content: list[library.SuggestedContent]


def shown(session: Session, *, user: User, mentors_wanted: bool = True) -> Stored:
    """The stored lists less what no longer fits now; with none stored yet, asks for them."""
    assert user.id is not None
    row = _stored(session, user.id)
    if row is None:
        matching.suggestions_wanted(session, user_id=user.id)
        return Stored(False, [], [])
    return Stored(True, _mentors_now(session, user, row) if mentors_wanted else [],
                  _content_now(session, user, row))


def _mentors_now(
    session: Session, user: User, row: MemberSuggestions
) -> list[matching.MentorSuggestion]:
    wanted = [pick["mentor_id"] for pick in row.mentors]
    found = {mentor.user.id: mentor for mentor in matching.mentors(session, only_ids=wanted)}
    ended = matching.ended_pairs(session, member_id=user.id)
    labels = community.theme_labels(session)
    fitting = []
    for pick in row.mentors:
        mentor = found.get(pick["mentor_id"])
        if mentor is None or mentor.user.id == user.id or not mentor.profile.accepting \
                or mentor.free == 0 or (str(user.id), str(mentor.user.id)) in ended:
            continue
        fitting.append(matching.suggestion_of(
            mentor, engine.Candidate(str(user.id), str(mentor.user.id), pick["score"],
                                     pick["explanation"]), labels))
    return fitting[:MENTORS_SHOWN]


def _content_now(
    session: Session, user: User, row: MemberSuggestions
) -> list[library.SuggestedContent]:
    found = {item.id: item for item in library.items(session)}  # active ones only
    reads = matching.content_languages(session, user=user)
    fitting = [library.SuggestedContent(found[pick["content_id"]], pick["score"],
                                        pick["explanation"])
               for pick in row.content if pick["content_id"] in found
               and library.in_languages(found[pick["content_id"]], reads)]
    return fitting[:CONTENT_SHOWN]


def computed_at(session: Session, *, user_id: int) -> Any:
    row = _stored(session, user_id)
    return row.computed_at if row else None
