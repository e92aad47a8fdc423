"""The community manager's dashboard: how far a cohort's members got, who stalled, and the
mentors' load; counts and activity only, never what anyone wrote.

It is a read model over several rooms' tables (enrolments, survey responses, consent,
matches, reminders). Each figure is one grouped query for the whole cohort: asking each
room's per-member functions would cost queries per member, and a cohort may have
thousands.
"""

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.accounts.consent_models import ConsentDocument, ConsentRecord
from app.accounts.models import User
from app.community.circle_models import Circle, CircleMembership, CirclePost, CircleStatus
from app.community.models import Cohort
from app.errors import NotFound
from app.journeys import service as journeys
from app.journeys.definitions import Journey, Wave
from app.journeys.models import Enrolment, EnrolmentStatus, JourneyVersion, StepAnswer, StepStatus
from app.matching import service as matching
from app.matching.models import OPEN_STATUSES, Match, MatchStatus
from app.reminders import service as reminders
from app.research.models import Study, StudyCohort
from app.surveys.models import ResponseStatus, SurveyResponse
from app.surveys.waves import wave_keys

WAVE_LABELS = {Wave.pre: "Baseline questionnaires done", Wave.post: "Closing questionnaires done",
               Wave.followup: "Follow-up questionnaires done"}
# The stalled list shows this many, longest quiet first; the count above it says if more.
STALLED_SHOWN = 500


def _latest_enrolments(cohort_id: int) -> Select[Any]:
    """Each member once: their latest enrolment in the cohort (someone who left and joined
    again counts once)."""
    return (select(func.max(Enrolment.id)).where(Enrolment.cohort_id == cohort_id)
            .group_by(col(Enrolment.user_id)))


def percent(count: int, joined: int) -> int | None:
    return round(100 * count / joined) if joined else None


# The list of cohorts ----------------------------------------------------------------------


@dataclass(frozen=True)
class Headline:
    joined: int = 0
    active: int = 0
    completed: int = 0
    left: int = 0
    stalled: int = 0


def headlines(session: Session, *, quiet_days: int, moment: datetime,
              cohort_id: int | None = None) -> dict[int, Headline]:
    """Every cohort's headline counts (or one cohort's), by cohort id, in two queries."""
    latest = (select(func.max(Enrolment.id)).where(col(Enrolment.cohort_id).is_not(None))
              .group_by(col(Enrolment.cohort_id), col(Enrolment.user_id)))
    if cohort_id is not None:
        latest = latest.where(Enrolment.cohort_id == cohort_id)
    counts: dict[int | None, dict[str, int]] = {}
    for cohort_id, status, number in session.exec(
        select(Enrolment.cohort_id, Enrolment.status, func.count())
        .where(col(Enrolment.id).in_(latest))
        .group_by(col(Enrolment.cohort_id), col(Enrolment.status))
    ):
        counts.setdefault(cohort_id, {})[EnrolmentStatus(status).value] = number
    for cohort_id, number in session.exec(
        select(Enrolment.cohort_id, func.count())
        .join(User, col(User.id) == Enrolment.user_id)
        .where(col(Enrolment.id).in_(latest), *_stalled(quiet_days, moment))
        .group_by(col(Enrolment.cohort_id))
    ):
        counts.setdefault(cohort_id, {})["stalled"] = number
    return {cohort_id: Headline(joined=sum(n for key, n in by.items() if key != "stalled"), **by)
            for cohort_id, by in counts.items() if cohort_id is not None}


def _stalled(quiet_days: int, moment: datetime) -> list[Any]:
    return [Enrolment.status == EnrolmentStatus.active, col(User.is_active).is_(True),
            col(Enrolment.last_activity_at) <= moment - timedelta(days=quiet_days)]


# The funnel -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    key: str     # stable, for the CSV: "joined", "consented", "wave:pre", "phase:x:reached"
    label: str
    count: int
    percent: int | None  # of those who joined


@dataclass(frozen=True)
class Funnel:
    joined: int
    stages: list[Stage]
    studies: list[str]  # titles of the studies that follow the cohort (and ask consent)


def funnel(session: Session, *, cohort: Cohort) -> Funnel:
    assert cohort.id is not None
    latest = _latest_enrolments(cohort.id)
    joined = session.exec(select(func.count()).where(col(Enrolment.id).in_(latest))).one()
    versions = _versions(session, latest)
    studies = _studies(session, cohort.id)
    counts: list[tuple[str, str, int]] = [("joined", "Joined", joined)]
    if studies:
        counts.append(("consented", "Consented to research",
                       _consented(session, cohort.id, latest, [key for _, key in studies])))
    by_member = bool(studies)  # a study may give its participants a battery of its own
    counts += _wave(session, latest, versions, Wave.pre, by_member)
    for phase_id, title in _phases(versions):
        counts += _phase(session, latest, versions, phase_id, title)
    counts += _wave(session, latest, versions, Wave.post, by_member)
    counts += _wave(session, latest, versions, Wave.followup, by_member)
    return Funnel(joined=joined, studies=[title for title, _ in studies],
                  stages=[Stage(key, label, count, percent(count, joined))
                          for key, label, count in counts])


def _versions(session: Session, latest: Select[Any]) -> dict[int, Journey]:
    """The journey versions the cohort's members are pinned to, newest first."""
    ids = session.exec(select(Enrolment.journey_version_id)
                       .where(col(Enrolment.id).in_(latest)).distinct()).all()
    rows = session.exec(select(JourneyVersion).where(col(JourneyVersion.id).in_(ids))
                        .order_by(col(JourneyVersion.id).desc())).all()
    return {row.id: journeys.definition_of(row) for row in rows if row.id is not None}


def _phases(versions: dict[int, Journey]) -> list[tuple[str, str]]:
    """The phases of the newest version, then any that only older versions have."""
    phases: dict[str, str] = {}
    for journey in versions.values():
        for phase in journey.phases:
            phases.setdefault(phase.id, phase.title)
    return list(phases.items())


def _phase(session: Session, latest: Select[Any], versions: dict[int, Journey],
           phase_id: str, title: str) -> list[tuple[str, str, int]]:
    """Reached: a step of the phase started; completed: every step of it done."""
    reached = completed = 0
    for version_id, journey in versions.items():
        phase = next((phase for phase in journey.phases if phase.id == phase_id), None)
        if phase is None:
            continue
        steps = [step.id for stage in phase.stages for step in stage.steps]
        answers = (select(StepAnswer.enrolment_id)
                   .join(Enrolment, col(Enrolment.id) == StepAnswer.enrolment_id)
                   .where(col(Enrolment.id).in_(latest),
                          Enrolment.journey_version_id == version_id,
                          col(StepAnswer.step_id).in_(steps)))
        reached += _count(session, answers.group_by(col(StepAnswer.enrolment_id)))
        completed += _count(session, answers.where(StepAnswer.status == StepStatus.done)
                            .group_by(col(StepAnswer.enrolment_id))
                            .having(func.count() == len(steps)))
    return [(f"phase:{phase_id}:reached", f"{title}: reached", reached),
            (f"phase:{phase_id}:completed", f"{title}: completed", completed)]


def _wave(session: Session, latest: Select[Any], versions: dict[int, Journey],
          wave: Wave, by_member: bool) -> list[tuple[str, str, int]]:
    """Done: every questionnaire of the wave sent; no stage if no version gives the wave.
    `by_member`: each member's own battery (their study's, where they take part in one),
    member by member; otherwise the journey's, counted in one query per version."""
    if not any(journey.waves.instruments(wave) for journey in versions.values()):
        return []
    if by_member:
        return [(f"wave:{wave.value}", WAVE_LABELS[wave], _wave_by_member(session, latest, wave))]
    done = 0
    for version_id, journey in versions.items():
        keys = journey.waves.instruments(wave)
        if not keys:
            continue
        done += _count(session, (
            select(SurveyResponse.enrolment_id)
            .join(Enrolment, col(Enrolment.id) == SurveyResponse.enrolment_id)
            .where(col(Enrolment.id).in_(latest), Enrolment.journey_version_id == version_id,
                   SurveyResponse.wave == wave.value, col(SurveyResponse.instrument_key).in_(keys),
                   SurveyResponse.status == ResponseStatus.submitted)
            .group_by(col(SurveyResponse.enrolment_id)).having(func.count() == len(keys))))
    return [(f"wave:{wave.value}", WAVE_LABELS[wave], done)]


def _wave_by_member(session: Session, latest: Select[Any], wave: Wave) -> int:
    sent: dict[int, set[str]] = {}
    for enrolment_id, key in session.exec(
            select(SurveyResponse.enrolment_id, SurveyResponse.instrument_key)
            .where(col(SurveyResponse.enrolment_id).in_(latest),
                   SurveyResponse.wave == wave.value,
                   SurveyResponse.status == ResponseStatus.submitted)):
        if enrolment_id is not None:
            sent.setdefault(enrolment_id, set()).add(key)
    enrolments = session.exec(select(Enrolment).where(col(Enrolment.id).in_(sent))).all()
    return sum(1 for enrolment in enrolments
               if (keys := wave_keys(session, enrolment, wave))
               and set(keys) <= sent[enrolment.id or 0])


def _count(session: Session, grouped: Select[Any]) -> int:
    return session.exec(select(func.count()).select_from(grouped.subquery())).one()


def _studies(session: Session, cohort_id: int) -> list[tuple[str, str]]:
    return [(title, key) for title, key in session.exec(
        select(Study.title, Study.consent_key)
        .join(StudyCohort, col(StudyCohort.study_id) == Study.id)
        .where(StudyCohort.cohort_id == cohort_id).order_by(col(Study.title)))]


def _consented(session: Session, cohort_id: int, latest: Select[Any], keys: list[str]) -> int:
    """Members whose latest consent record agrees to research under a consent document the
    cohort's studies use, not withdrawn: the rule the studies' census applies."""
    members = select(Enrolment.user_id).where(Enrolment.cohort_id == cohort_id)
    newest = (select(func.max(ConsentRecord.id))
              .where(col(ConsentRecord.user_id).in_(members))
              .group_by(col(ConsentRecord.user_id)))
    return session.exec(
        select(func.count()).select_from(Enrolment)
        .join(ConsentRecord, col(ConsentRecord.user_id) == Enrolment.user_id)
        .join(ConsentDocument, col(ConsentDocument.id) == ConsentRecord.document_id)
        .where(col(Enrolment.id).in_(latest), col(ConsentRecord.id).in_(newest),
               col(ConsentRecord.research_use).is_(True),
               col(ConsentRecord.research_withdrawn_at).is_(None),
               col(ConsentDocument.key).in_(keys))
    ).one()


# Members who stall ------------------------------------------------------------------------


@dataclass(frozen=True)
class StalledMember:
    enrolment_id: int
    display_name: str
    step: str          # "Step 3 of 13: Moments"
    last_activity: datetime
    reminders_off: bool
    nudged_at: datetime | None  # a nudge already sent for this stall


@dataclass(frozen=True)
class Stalled:
    total: int
    members: list[StalledMember]  # at most STALLED_SHOWN, the longest quiet first


def stalled(session: Session, *, cohort: Cohort, quiet_days: int, moment: datetime) -> Stalled:
    """Active members quiet for `quiet_days`: name, the step they stopped at (steps open
    in order, so the done ones are the first), and when they were last active."""
    assert cohort.id is not None
    latest = _latest_enrolments(cohort.id)
    done = (select(func.count()).where(col(StepAnswer.enrolment_id) == Enrolment.id,
                                       StepAnswer.status == StepStatus.done)
            .scalar_subquery())
    query = (sa_select(col(Enrolment.id), col(Enrolment.journey_version_id),
                       col(Enrolment.last_activity_at), col(User.display_name),
                       col(User.reminders), done)
             .join(User, col(User.id) == Enrolment.user_id)
             .where(col(Enrolment.id).in_(latest), *_stalled(quiet_days, moment)))
    total = _count(session, query)
    rows = session.execute(query.order_by(col(Enrolment.last_activity_at), col(Enrolment.id))
                           .limit(STALLED_SHOWN)).all()
    versions = _versions(session, latest)
    nudged = reminders.nudges_sent(session, enrolment_ids=[row[0] for row in rows])
    members = []
    for enrolment_id, version_id, last_activity, name, reminders_on, steps_done in rows:
        steps = versions[version_id].steps()
        at = (f"Step {steps_done + 1} of {len(steps)}: {steps[steps_done].title}"
              if steps_done < len(steps) else "Every step done")
        stall = last_activity.date().isoformat()
        members.append(StalledMember(
            enrolment_id=enrolment_id, display_name=name, step=at, last_activity=last_activity,
            reminders_off=not reminders_on, nudged_at=nudged.get((enrolment_id, stall))))
    return Stalled(total=total, members=members)


def stalled_enrolment(session: Session, *, cohort: Cohort, enrolment_id: int) -> Enrolment:
    """The enrolment, if it is in this cohort; the nudge form names nothing else."""
    enrolment = session.get(Enrolment, enrolment_id)
    if enrolment is None or enrolment.cohort_id != cohort.id:
        raise NotFound("This cohort has no such member.")
    return enrolment


# Mentor load ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MentorLoad:
    display_name: str
    places: int       # capacity
    filled: int       # open matches with anyone, any cohort
    proposed: int     # with this cohort's members, by status
    accepted: int
    declined: int


@dataclass(frozen=True)
class MentorLoads:
    mentors: list[MentorLoad]
    waiting: int      # the cohort's members on the journey with no mentor and no open request

    def total(self, name: str) -> int:
        return sum(getattr(mentor, name) for mentor in self.mentors)

    @property
    def free(self) -> int:
        return sum(max(mentor.places - mentor.filled, 0) for mentor in self.mentors)


def mentor_loads(session: Session, *, cohort: Cohort) -> MentorLoads:
    assert cohort.id is not None
    members = select(Enrolment.user_id).where(Enrolment.cohort_id == cohort.id)
    by_mentor: dict[int, dict[str, int]] = {}
    for mentor_id, status, number in session.exec(
        select(Match.mentor_id, Match.status, func.count())
        .where(col(Match.member_id).in_(members),
               col(Match.status).in_([MatchStatus.proposed, MatchStatus.accepted,
                                      MatchStatus.declined]))
        .group_by(col(Match.mentor_id), col(Match.status))
    ):
        by_mentor.setdefault(mentor_id, {})[MatchStatus(status).value] = number
    loads = [MentorLoad(display_name=mentor.user.display_name, places=mentor.profile.capacity,
                        filled=mentor.load, **_statuses(by_mentor.get(mentor.user.id or 0, {})))
             for mentor in matching.mentors(session)]
    return MentorLoads(mentors=loads, waiting=_waiting(session, cohort.id))


def _statuses(counts: dict[str, int]) -> dict[str, int]:
    return {name: counts.get(name, 0) for name in ("proposed", "accepted", "declined")}


def _waiting(session: Session, cohort_id: int) -> int:
    open_match = exists().where(col(Match.member_id) == Enrolment.user_id,
                                col(Match.status).in_(OPEN_STATUSES))
    return session.exec(
        select(func.count()).select_from(Enrolment)
        .where(col(Enrolment.id).in_(_latest_enrolments(cohort_id)),
               Enrolment.status != EnrolmentStatus.left, ~open_match)
    ).one()


# Circles -------------------------------------------------------------------------------

ACTIVITY_WEEKS = 4


@dataclass(frozen=True)
class CircleActivity:
    number: int
    members: int             # current members (not those who left or were removed)
    posts_per_week: list[int]  # the last ACTIVITY_WEEKS weeks, this week first
    last_post_at: datetime | None


def circle_activity(session: Session, *, cohort: Cohort,
                    moment: datetime) -> list[CircleActivity]:
    """How alive each published circle of the cohort is: counts and dates, never posts."""
    assert cohort.id is not None
    circles = session.exec(
        select(Circle.id, Circle.number)
        .where(Circle.cohort_id == cohort.id, Circle.status == CircleStatus.published)
        .order_by(col(Circle.number))
    ).all()
    if not circles:
        return []
    numbered = [(circle_id or 0, number) for circle_id, number in circles]
    ids = [circle_id for circle_id, _ in numbered]
    members = dict(session.exec(
        select(CircleMembership.circle_id, func.count())
        .where(col(CircleMembership.circle_id).in_(ids),
               col(CircleMembership.left_at).is_(None))
        .group_by(col(CircleMembership.circle_id))
    ).all())
    last = dict(session.exec(
        select(CirclePost.circle_id, func.max(CirclePost.created_at))
        .where(col(CirclePost.circle_id).in_(ids)).group_by(col(CirclePost.circle_id))
    ).all())
    since = moment - timedelta(days=7 * ACTIVITY_WEEKS)
    weeks: dict[int, list[int]] = {circle_id: [0] * ACTIVITY_WEEKS for circle_id in ids}
    for circle_id, created_at in session.exec(
        select(CirclePost.circle_id, CirclePost.created_at)
        .where(col(CirclePost.circle_id).in_(ids), CirclePost.created_at > since)
    ):
        age = (moment - _aware(created_at)).days // 7
        if 0 <= age < ACTIVITY_WEEKS:
            weeks[circle_id][age] += 1
    return [CircleActivity(number=number, members=members.get(circle_id, 0),
                           posts_per_week=weeks[circle_id],
                           last_post_at=_aware(last[circle_id]) if last.get(circle_id) else None)
            for circle_id, number in numbered]


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# The CSV ----------------------------------------------------------------------------------


CSV_COLUMNS = ("section", "measure", "label", "count", "percent_of_joined")


def csv_lines(rows: Iterable[tuple[object, ...]]) -> Iterator[str]:
    """The header, then one line per row, each written as it is read."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in (CSV_COLUMNS, *rows):
        writer.writerow([_cell(value) for value in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _cell(value: object) -> object:
    """A name a spreadsheet would run as a formula ("=…") is kept as text."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_rows(*, headline: Headline, funnel_: Funnel, loads: MentorLoads,
             quiet_days: int, circles: Iterable[CircleActivity] = ()) -> list[tuple[object, ...]]:
    """The dashboard's counts, one per line; no names but the mentors'."""
    joined = funnel_.joined
    rows: list[tuple[object, ...]] = [
        ("headline", name, label, getattr(headline, name), percent(getattr(headline, name), joined))
        for name, label in (("joined", "Joined"), ("active", "On the journey"),
                            ("completed", "Completed"), ("left", "Left"),
                            ("stalled", f"No activity for {quiet_days} days"))
    ]
    rows += [("funnel", stage.key, stage.label, stage.count, stage.percent)
             for stage in funnel_.stages]
    rows += [("mentors", "waiting", "Members waiting for a mentor", loads.waiting, None),
             ("mentors", "free", "Free places", loads.free, None)]
    rows += [("mentors", name, f"All mentors: {name}", loads.total(name), None)
             for name in ("places", "filled", "proposed", "accepted", "declined")]
    rows += [("mentor", name, mentor.display_name, getattr(mentor, name), None)
             for mentor in loads.mentors
             for name in ("places", "filled", "proposed", "accepted", "declined")]
    for circle in circles:
        rows.append(("circle", "members", f"Circle {circle.number}", circle.members, None))
        rows += [("circle", f"posts_week_{age}",
                  f"Circle {circle.number}: posts " + ("this week" if age == 0 else
                                                       f"{age} week{'s' if age > 1 else ''} ago"),
                  count, None)
                 for age, count in enumerate(circle.posts_per_week)]
    return rows
