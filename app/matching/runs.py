"""Match runs: a manager starts one for a cohort, reviews the draft, overrides, publishes."""

from dataclasses import asdict, dataclass

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import jobs, mail
from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.audit import service as audit
from app.clock import now
from app.community import service as community
from app.community.models import Cohort
from app.errors import NotFound, TelosError
from app.jobs.models import Job, JobStatus
from app.journeys import service as journeys
from app.matching import engine
from app.matching import service as matching
from app.matching.models import (
    CohortWeights,
    Match,
    MatchExclusion,
    MatchRun,
    MatchSource,
    MatchStatus,
    RunStatus,
)

ALTERNATIVES = 3


class AlreadyPublished(TelosError):
    status_code = 409
    title = "Already published"


class DraftConflict(TelosError):
    status_code = 409
    title = "That change cannot be made"


# Weights ----------------------------------------------------------------------------------


def weights_for(session: Session, *, cohort_id: int) -> engine.Weights:
    row = session.exec(select(CohortWeights).where(CohortWeights.cohort_id == cohort_id)).first()
    if row is None:
        return engine.Weights()
    return engine.Weights(text=row.text, themes=row.themes, time_zone=row.time_zone,
                          wishes=row.wishes)


def save_weights(
    session: Session, *, cohort_id: int, weights: engine.Weights, by_id: int | None
) -> None:
    row = session.exec(select(CohortWeights).where(CohortWeights.cohort_id == cohort_id)).first()
    row = row or CohortWeights(cohort_id=cohort_id)
    row.text, row.themes = weights.text, weights.themes
    row.time_zone, row.wishes = weights.time_zone, weights.wishes
    row.updated_by_id, row.updated_at = by_id, now()
    session.add(row)
    session.flush()


# The pool and the overview ------------------------------------------------------------------


def pool(session: Session, *, cohort_id: int) -> list[User]:
    """The cohort's members who have no mentor and no request waiting for an answer."""
    users = [accounts.get_user(session, user_id)
             for user_id in journeys.cohort_member_ids(session, cohort_id=cohort_id)]
    return sorted(
        (user for user in users if user is not None and user.is_active and user.id is not None
         and Role.member in accounts.roles_of(session, user.id)
         and matching.open_match(session, member_id=user.id) is None),
        key=lambda user: user.display_name,
    )


@dataclass(frozen=True)
class CohortOverview:
    cohort: Cohort
    pool_size: int
    runs: list[MatchRun]
    weights: engine.Weights


def overview(session: Session) -> list[CohortOverview]:
    return [
        CohortOverview(cohort, len(pool(session, cohort_id=cohort.id or 0)),
                       runs_of(session, cohort_id=cohort.id or 0),
                       weights_for(session, cohort_id=cohort.id or 0))
        for cohort in community.cohorts(session)
    ]


def runs_of(session: Session, *, cohort_id: int) -> list[MatchRun]:
    return list(session.exec(select(MatchRun).where(MatchRun.cohort_id == cohort_id)
                             .order_by(col(MatchRun.id).desc())))


def get_run(session: Session, run_id: int) -> MatchRun:
    run = session.get(MatchRun, run_id)
    if run is None:
        raise NotFound("There is no match run with that number.")
    return run


def draft_run(session: Session, run_id: int) -> MatchRun:
    run = get_run(session, run_id)
    _refuse_unless_draft(run)
    return run


def _refuse_unless_draft(run: MatchRun) -> None:
    if run.status == RunStatus.running:
        raise DraftConflict(f"Run {run.id} is still running; change it once its draft is "
                            "ready.")
    if run.status == RunStatus.failed:
        raise DraftConflict(f"Run {run.id} failed, so it has no draft to change; try it "
                            "again first.")
    if run.status != RunStatus.draft:
        raise AlreadyPublished(f"Run {run.id} is already published; start a new run to "
                               "change anything.")


# Running the matcher ---------------------------------------------------------------------------
# Starting a run writes it as running and asks for the "matching.run" job in the same
# transaction; the job (app.matching.tasks) computes the draft. At most one run of a
# cohort runs at a time: checked here, and guarded by a partial unique index.


class RunInProgress(TelosError):
    status_code = 409
    title = "A run is already going"

    def __init__(self, run: MatchRun) -> None:
        super().__init__(f"The matcher is already running for this cohort (run {run.id}, "
                         f"started {_clock(run)} UTC), so no second run was started. Its "
                         "page shows the draft as soon as it is ready.")
        self.run = run


def _clock(run: MatchRun) -> str:
    return (run.rerun_at or run.started_at).strftime("%H:%M")


def running_run(session: Session, *, cohort_id: int) -> MatchRun | None:
    return session.exec(select(MatchRun).where(MatchRun.cohort_id == cohort_id,
                                               MatchRun.status == RunStatus.running)).first()


def _refuse_if_running(session: Session, *, cohort_id: int) -> None:
    running = running_run(session, cohort_id=cohort_id)
    if running is not None:
        raise RunInProgress(running)


def start_run(session: Session, *, cohort_id: int, by_id: int | None, encoder: str) -> MatchRun:
    """Asks for a draft of the cohort's pool. An earlier draft (or failed run) of the same
    cohort is run again instead, so two managers do not review two drafts of one pool."""
    community.get_cohort(session, cohort_id)
    _refuse_if_running(session, cohort_id=cohort_id)
    existing = session.exec(select(MatchRun).where(
        MatchRun.cohort_id == cohort_id,
        col(MatchRun.status).in_([RunStatus.draft, RunStatus.failed]))
        .order_by(col(MatchRun.id).desc())).first()
    if existing is not None:
        return rerun(session, run=existing)
    run = MatchRun(cohort_id=cohort_id, status=RunStatus.running, encoder=encoder,
                   weights=asdict(weights_for(session, cohort_id=cohort_id)),
                   started_by_id=by_id)
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:  # another manager's click won the same moment
        _refuse_if_running(session, cohort_id=cohort_id)
        raise
    _ask_for_job(session, run)
    return run


def rerun(session: Session, *, run: MatchRun) -> MatchRun:
    """Scores again with the cohort's current weights; pinned rows and exclusions stay.
    Also how a failed run is tried again."""
    _settle_lost(session, run)
    try:
        with session.begin_nested():
            moved = session.execute(
                update(MatchRun)
                .where(col(MatchRun.id) == run.id,
                       col(MatchRun.status).in_([RunStatus.draft, RunStatus.failed]))
                .values(status=RunStatus.running, error="", rerun_at=now(),
                        weights=asdict(weights_for(session, cohort_id=run.cohort_id)))
            ).rowcount  # type: ignore[attr-defined]
    except IntegrityError:
        moved = 0
    session.refresh(run)
    if not moved:
        _refuse_if_running(session, cohort_id=run.cohort_id)
        raise AlreadyPublished(f"Run {run.id} is already published; start a new run to "
                               "change anything.")
    _ask_for_job(session, run)
    return run


def _ask_for_job(session: Session, run: MatchRun) -> None:
    job = jobs.enqueue(session, "matching.run", run_id=run.id)
    assert job is not None
    run.job_id = job.id
    session.add(run)
    session.flush()


def _settle_lost(session: Session, run: MatchRun) -> None:
    """A run whose job ended as failed without saying so (its worker was killed on the
    last attempt) is marked failed, so it can be tried again."""
    if run.status != RunStatus.running:
        return
    problem = _lost_job_error(session, run.job_id)
    if problem is not None:
        fail_run(session, run_id=run.id or 0, job_id=run.job_id, error=problem)
        session.refresh(run)


def _lost_job_error(session: Session, job_id: int | None) -> str | None:
    # Read straight from the job table: the jobs room has no reader for one job's outcome.
    job = session.get(Job, job_id) if job_id is not None else None
    if job is None:
        return "The job that was computing this run is gone."
    if job.status == JobStatus.failed:
        return plain_error(job.error)
    return None


def plain_error(error: str) -> str:
    """A job's error ("ValueError: ...", or the worker's own words) as a sentence."""
    last = error.strip().rpartition("\n")[2]
    kind, colon, message = last.partition(": ")
    said = message if colon and kind.replace(".", "").isidentifier() else last
    return f"The matcher stopped with this problem: {said.rstrip('.') or 'unknown'}."


def fail_run(session: Session, *, run_id: int, job_id: int | None, error: str) -> None:
    session.execute(
        update(MatchRun).where(col(MatchRun.id) == run_id, col(MatchRun.job_id) == job_id,
                               col(MatchRun.status) == RunStatus.running)
        .values(status=RunStatus.failed, error=error, computed_at=now()))


def _drafts(session: Session, run_id: int | None) -> list[Match]:
    return list(session.exec(select(Match).where(Match.run_id == run_id,
                                                 Match.status == MatchStatus.draft)))


@dataclass(frozen=True)
class RunInputs:
    """Everything the matcher needs for one run, read in one short transaction so the
    scoring itself holds none."""

    members: list[engine.MemberProfile]
    mentors: list[engine.MentorProfile]
    weights: engine.Weights
    encoder: str
    theme_labels: dict[str, str]
    declined: set[tuple[str, str]]
    excluded: set[tuple[str, str]]


def run_inputs(session: Session, run: MatchRun) -> RunInputs:
    """The pool minus the members a pinned pair already holds, and the mentors' places
    minus the pinned ones; unpinned drafts of an earlier computation do not count."""
    pinned = [match for match in _drafts(session, run.id) if match.pinned]
    taken = {match.member_id for match in pinned}
    members = [user for user in pool(session, cohort_id=run.cohort_id) if user.id not in taken]
    everyone = matching.mentors(session)
    held = {mentor.user.id: 0 for mentor in everyone}
    for match in pinned:
        held[match.mentor_id] = held.get(match.mentor_id, 0) + 1
    return RunInputs(
        members=[matching.member_profile(session, user=user) for user in members],
        mentors=[_with_free(matching.engine_mentor(mentor), mentor.free - held[mentor.user.id])
                 for mentor in everyone],
        weights=engine.Weights(**run.weights), encoder=run.encoder,
        theme_labels=community.theme_labels(session),
        # Someone who is both a member and a mentor is never their own mentor.
        declined=matching.ended_pairs(session) | {(str(user.id), str(user.id))
                                                  for user in members},
        excluded={(str(member), str(mentor)) for member, mentor in exclusions(session, run)},
    )


@dataclass(frozen=True)
class DraftPair:
    pair: engine.Candidate
    others: list[engine.Candidate]


def compute(inputs: RunInputs) -> list[DraftPair]:
    """The engine's pairs for the inputs, each with its next best mentors; no database."""
    if not inputs.members or not inputs.mentors:
        return []
    result = engine.match_cohort(
        inputs.members, inputs.mentors, weights=inputs.weights,
        encoder=matching.make_encoder(inputs.encoder), theme_labels=inputs.theme_labels,
        declined=inputs.declined, excluded=inputs.excluded, top_k=ALTERNATIVES + 5,
    )
    return [
        DraftPair(pair, [c for c in result.candidates.get(pair.member_id, [])
                         if c.mentor_id != pair.mentor_id
                         and (c.member_id, c.mentor_id) not in inputs.excluded][:ALTERNATIVES])
        for pair in result.assignment.pairs
    ]


def save_draft(session: Session, *, run_id: int, job_id: int, pairs: list[DraftPair]) -> bool:
    """Stores the computed draft if the run still waits for this job; False (and nothing
    written) when it does not: done already, or asked again under another job. Unpinned
    drafts of an earlier computation go first, so a repeated delivery leaves one draft."""
    finished = session.execute(
        update(MatchRun).where(col(MatchRun.id) == run_id, col(MatchRun.job_id) == job_id,
                               col(MatchRun.status) == RunStatus.running)
        .values(status=RunStatus.draft, computed_at=now(), error="")
    ).rowcount  # type: ignore[attr-defined]
    if not finished:
        return False
    session.execute(delete(Match).where(col(Match.run_id) == run_id,
                                        col(Match.status) == MatchStatus.draft,
                                        col(Match.pinned).is_(False)))
    run = get_run(session, run_id)
    session.add_all(_draft(run, draft.pair, draft.others) for draft in pairs)
    session.flush()
    return True


def _with_free(profile: engine.MentorProfile, free: int) -> engine.MentorProfile:
    return engine.MentorProfile(
        id=profile.id, text=profile.text, themes=profile.themes, languages=profile.languages,
        utc_offset_hours=profile.utc_offset_hours, offers=profile.offers,
        capacity=max(free, 0), accepting=profile.accepting,
    )


def _draft(run: MatchRun, pair: engine.Candidate, others: list[engine.Candidate]) -> Match:
    return Match(
        run_id=run.id, member_id=int(pair.member_id), mentor_id=int(pair.mentor_id),
        source=MatchSource.run, status=MatchStatus.draft, score=pair.score,
        explanation=pair.explanation, parts=dict(pair.parts),
        alternatives=[{"mentor_id": int(other.mentor_id), "score": other.score,
                       "explanation": other.explanation} for other in others],
    )


# Reviewing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alternative:
    mentor_id: int
    name: str
    score: float
    explanation: str
    room: int = 0  # places this mentor has left in the draft (after its other pairs)


@dataclass(frozen=True)
class ReviewRow:
    match: Match
    member_name: str
    mentor_name: str
    alternatives: list[Alternative]


@dataclass(frozen=True)
class Review:
    run: MatchRun
    cohort: Cohort
    rows: list[ReviewRow]
    unmatched: list[User]
    mentors: list[matching.Mentor]
    excluded: list[tuple[str, str]]
    drafted: dict[int, int]  # mentor id: pairs with them in this draft

    def draft_load(self, mentor: matching.Mentor) -> int:
        """What the mentor would carry once this draft is published."""
        return mentor.load + self.drafted.get(mentor.user.id or 0, 0)

    def room(self, mentor: matching.Mentor) -> int:
        return max(mentor.free - self.drafted.get(mentor.user.id or 0, 0), 0)

    @property
    def mentors_with_room(self) -> list[matching.Mentor]:
        return [mentor for mentor in self.mentors
                if mentor.profile.accepting and self.room(mentor) > 0]


def review(session: Session, *, run_id: int) -> Review:
    """The run's draft (or, once published, its outcome); a run still running or failed
    has no rows to show yet."""
    run = get_run(session, run_id)
    _settle_lost(session, run)
    if run.status in (RunStatus.running, RunStatus.failed):
        return Review(run, community.get_cohort(session, run.cohort_id), [], [], [],
                      _excluded_names(session, run), {})
    mentors = matching.mentors(session)
    names = {mentor.user.id: mentor.user.display_name for mentor in mentors}
    draft = run.status == RunStatus.draft
    matches = (_drafts(session, run.id) if draft else list(
        session.exec(select(Match).where(Match.run_id == run.id))))
    drafted: dict[int, int] = {}
    for match in matches if draft else []:
        drafted[match.mentor_id] = drafted.get(match.mentor_id, 0) + 1
    room = {mentor.user.id: max(mentor.free - drafted.get(mentor.user.id or 0, 0), 0)
            for mentor in mentors if mentor.profile.accepting}
    rows = [_row(session, match, names, room) for match in matches]
    rows.sort(key=lambda row: row.member_name)
    matched = {match.member_id for match in matches}
    unmatched = ([user for user in pool(session, cohort_id=run.cohort_id)
                  if user.id not in matched] if draft else [])
    return Review(run, community.get_cohort(session, run.cohort_id), rows, unmatched,
                  mentors, _excluded_names(session, run), drafted)


def _row(session: Session, match: Match, names: dict[int | None, str],
         room: dict[int | None, int]) -> ReviewRow:
    member = accounts.get_user(session, match.member_id)
    alternatives = [Alternative(alt["mentor_id"], names.get(alt["mentor_id"], "a former mentor"),
                                alt["score"], alt["explanation"], room.get(alt["mentor_id"], 0))
                    for alt in match.alternatives]
    return ReviewRow(match, member.display_name if member else "a deleted account",
                     names.get(match.mentor_id, "a former mentor"), alternatives)


def _excluded_names(session: Session, run: MatchRun) -> list[tuple[str, str]]:
    def name(user_id: int) -> str:
        user = accounts.get_user(session, user_id)
        return user.display_name if user else "a deleted account"

    return [(name(member), name(mentor)) for member, mentor in exclusions(session, run)]


def exclusions(session: Session, run: MatchRun) -> list[tuple[int, int]]:
    """The run's excluded pairs as (member id, mentor id), in the order they were made."""
    rows = session.exec(select(MatchExclusion.member_id, MatchExclusion.mentor_id)
                        .where(MatchExclusion.run_id == run.id)
                        .order_by(col(MatchExclusion.id)))
    return [(member, mentor) for member, mentor in rows]


def draft_match(session: Session, *, run: MatchRun, match_id: int) -> Match:
    match = session.get(Match, match_id)
    if match is None or match.run_id != run.id or match.status != MatchStatus.draft:
        raise NotFound("This run has no such suggestion; it may have been re-run.")
    return match


def pin(session: Session, *, match: Match, pinned: bool) -> None:
    match.pinned = pinned
    session.add(match)
    session.flush()


def exclude(session: Session, *, run: MatchRun, match: Match, by_id: int | None = None) -> None:
    """This pair is never suggested in this run again; the member waits for a re-run.
    A row of its own, so another manager's exclusion at the same moment is kept too."""
    try:
        with session.begin_nested():
            session.add(MatchExclusion(run_id=run.id or 0, member_id=match.member_id,
                                       mentor_id=match.mentor_id, excluded_by_id=by_id))
    except IntegrityError:
        pass  # excluded already, by another click
    session.delete(match)
    session.flush()


def choose_mentor(
    session: Session, *, run: MatchRun, member_id: int, mentor_id: int,
    match: Match | None = None,
) -> Match:
    """A manager's own choice (a swap to an alternative, or a mentor for someone the run
    left out); it is pinned, so a re-run keeps it."""
    mentor = next(iter(matching.mentors(session, only_ids=[mentor_id])), None)
    member = accounts.get_user(session, member_id)
    if mentor is None or member is None or mentor_id == member_id:
        raise NotFound("There is no such mentor or member.")
    if match is None and any(row.member_id == member_id for row in _drafts(session, run.id)):
        raise DraftConflict("This member already has a mentor in this draft; swap it instead.")
    _refuse_if_full(session, run=run, mentor=mentor, leaving=match)
    pick = engine.score_pair(matching.member_profile(session, user=member),
                             _with_free(matching.engine_mentor(mentor), 1),
                             weights=engine.Weights(**run.weights),
                             theme_labels=community.theme_labels(session))
    match = match or Match(run_id=run.id, member_id=member_id, mentor_id=mentor_id,
                           source=MatchSource.manager, status=MatchStatus.draft)
    match.mentor_id, match.source, match.pinned = mentor_id, MatchSource.manager, True
    match.score = pick.score if pick else 0.0
    match.explanation = pick.explanation if pick else (
        "chosen by a manager; the matcher would not pair them (no shared language, or "
        "declined before)")
    match.parts = dict(pick.parts) if pick else {}
    session.add(match)
    session.flush()
    return match


def _refuse_if_full(
    session: Session, *, run: MatchRun, mentor: matching.Mentor, leaving: Match | None
) -> None:
    drafted = sum(1 for match in _drafts(session, run.id)
                  if match.mentor_id == mentor.user.id and match is not leaving)
    if drafted >= mentor.free:
        raise DraftConflict(f"{mentor.user.display_name} has no free place left in this run "
                           f"(capacity {mentor.profile.capacity}). Pick someone else, or free "
                           "one of their places first.")


def publish(
    session: Session, *, run: MatchRun, by_id: int | None, base_url: str
) -> tuple[int, list[mail.Mail]]:
    """Turns the draft into proposals and tells both sides. The status is checked in the
    UPDATE itself, so publishing twice (two tabs, two managers) proposes nothing twice."""
    result = session.execute(
        update(MatchRun).where(col(MatchRun.id) == run.id,
                               col(MatchRun.status) == RunStatus.draft)
        .values(status=RunStatus.published, published_at=now(), published_by_id=by_id)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(run)
        if run.status != RunStatus.published:
            _refuse_unless_draft(run)
        raise AlreadyPublished(f"Run {run.id} was already published; nothing was sent twice.")
    session.refresh(run)
    mails: list[mail.Mail] = []
    proposed = 0
    drafts = _drafts(session, run.id)
    proposable = _proposable(session, drafts)
    for match in drafts:
        if match.id not in proposable:
            match.status = MatchStatus.withdrawn
        elif _proposed(session, match):
            mails.extend(_proposal_mails(session, match, base_url=base_url))
            proposed += 1
        session.add(match)
        session.flush()
    audit.record(session, action="match_run.published", actor_id=by_id, target_type="match_run",
                 target_id=run.id, cohort_id=run.cohort_id, proposed=proposed)
    return proposed, mails


def _proposed(session: Session, match: Match) -> bool:
    """Proposes the draft, unless the member's own request was stored in the same moment:
    that one stands (one open match per member) and the draft is withdrawn."""
    try:
        with session.begin_nested():
            match.status, match.proposed_at = MatchStatus.proposed, now()
            session.add(match)
    except IntegrityError:
        match.status, match.proposed_at = MatchStatus.withdrawn, None
        return False
    return True


def _proposable(session: Session, drafts: list[Match]) -> set[int | None]:
    """The drafts publishing proposes now. Things may have changed since the draft was
    made: the member found a mentor another way, the pair was declined, the mentor stopped
    taking mentees or filled up (another cohort's run, a direct request). Such drafts are
    withdrawn, never proposed."""
    ended = matching.ended_pairs(session)
    free = {mentor.user.id: mentor.free if mentor.profile.accepting else 0
            for mentor in matching.mentors(session)}
    chosen: set[int | None] = set()
    for match in drafts:
        if (matching.open_match(session, member_id=match.member_id) is not None
                or (str(match.member_id), str(match.mentor_id)) in ended
                or free.get(match.mentor_id, 0) < 1):
            continue
        free[match.mentor_id] -= 1
        chosen.add(match.id)
    return chosen


MAILS_PER_PROPOSAL = 2  # one to the member, one to the mentor


@dataclass(frozen=True)
class PublishPreview:
    proposals: int
    withdrawn: int

    @property
    def mails(self) -> int:
        return self.proposals * MAILS_PER_PROPOSAL


def publish_preview(session: Session, *, run: MatchRun) -> PublishPreview:
    """What publishing the draft now would do, for the manager to confirm first."""
    _refuse_unless_draft(run)
    drafts = _drafts(session, run.id)
    proposals = len(_proposable(session, drafts))
    return PublishPreview(proposals, len(drafts) - proposals)


def assign_many(
    session: Session, *, run: MatchRun, member_ids: list[int], mentor_id: int
) -> list[Match]:
    """One mentor for several members the draft leaves without one; all of them or none."""
    waiting = {user.id: user for user in review(session, run_id=run.id or 0).unmatched}
    gone = [member_id for member_id in member_ids if member_id not in waiting]
    if gone:
        raise DraftConflict(f"{len(gone)} of the members you selected no longer wait without "
                            "a mentor in this draft (a re-run or another manager matched "
                            "them). Nothing was changed; the list below is the current one.")
    mentor = next(iter(matching.mentors(session, only_ids=[mentor_id])), None)
    if mentor is None or not mentor.profile.accepting:
        raise DraftConflict("That mentor no longer takes mentees. Nothing was changed; "
                            "choose another.")
    room = max(mentor.free - sum(1 for match in _drafts(session, run.id)
                                 if match.mentor_id == mentor_id), 0)
    if room < len(member_ids):
        raise DraftConflict(f"{mentor.user.display_name} has {room} free place"
                            f"{'' if room == 1 else 's'} left in this draft and you selected "
                            f"{len(member_ids)} members. Nothing was changed; select fewer "
                            "or choose another mentor.")
    return [choose_mentor(session, run=run, member_id=member_id, mentor_id=mentor_id)
            for member_id in member_ids]


def _proposal_mails(session: Session, match: Match, *, base_url: str) -> list[mail.Mail]:
    member, mentor = (accounts.get_user(session, match.member_id),
                      accounts.get_user(session, match.mentor_id))
    assert member is not None and mentor is not None
    to_member = mail.Mail(
        to=member.email, subject="A mentor has been suggested for you",
        body=(f"Hello {member.display_name},\n\nYour community team suggests {mentor.display_name}"
              f" as your mentor: {match.explanation}.\n\n{mentor.display_name} has been asked "
              f"and will answer soon. You can follow it here:\n\n{base_url}/my-mentor\n"),
    )
    return [to_member, matching.request_mail(mentor, member, base_url=base_url)]
