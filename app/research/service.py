"""Studies, who may see them, who takes part, and the pseudonyms they take part under."""

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.accounts import service as accounts
from app.accounts.consent_models import ConsentDocument, ConsentRecord
from app.accounts.models import Role, User
from app.audit import service as audit
from app.community import service as community
from app.community.models import Cohort
from app.errors import NotFound, StaleEdit, TelosError
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.journeys.models import Enrolment
from app.research import outcome_cache
from app.research.models import KeptEnrolment, Study, StudyCohort, StudyResearcher
from app.surveys import waves as surveys
from app.surveys.models import InstrumentVersion, ResponseStatus, SurveyResponse

WAVES: tuple[str, ...] = tuple(wave.value for wave in Wave)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
PSEUDONYM_PREFIX = "P-"
PSEUDONYM_HEX = 12  # 48 bits: collisions stay unlikely up to tens of thousands per study


class StudyNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("There is no study with that number among yours.")


class FieldProblem(TelosError):
    """Input that is well formed but wrong; shown beside `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


# Studies --------------------------------------------------------------------------------


def slug_from(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return slug[:64].rstrip("-") or "study"


def create_study(
    session: Session, *, title: str, slug: str, description: str, cohort_ids: Sequence[int],
    consent_key: str, battery: Mapping[str, Sequence[str]], free_text: bool, creator_id: int,
) -> Study:
    slug = slug or slug_from(title)
    if session.exec(select(Study.id).where(Study.slug == slug)).first() is not None:
        raise FieldProblem("slug", "Another study already has this short name; choose another.")
    cohorts = [community.get_cohort(session, cohort_id) for cohort_id in cohort_ids]
    chosen = {wave: list(battery.get(wave, ())) for wave in WAVES}
    if not any(chosen.values()):
        chosen = journey_battery(session, cohorts)
    study = Study(slug=slug, title=title.strip(), description=description.strip(),
                  consent_key=consent_key, battery=chosen, free_text=free_text,
                  secret=secrets.token_bytes(32).hex(), created_by_id=creator_id)
    session.add(study)
    session.flush()
    assert study.id is not None
    for cohort in cohorts:
        assert cohort.id is not None
        session.add(StudyCohort(study_id=study.id, cohort_id=cohort.id))
    session.add(StudyResearcher(study_id=study.id, user_id=creator_id, added_by_id=creator_id))
    audit.record(session, action="study.created", actor_id=creator_id, target_type="study",
                 target_id=study.id, slug=slug, cohorts=list(cohort_ids),
                 consent=consent_key, free_text=free_text)
    session.flush()
    return study


def journey_battery(session: Session, cohorts: Iterable[Cohort]) -> dict[str, list[str]]:
    """The waves of the cohorts' journeys: every instrument they give, in journey order."""
    battery: dict[str, list[str]] = {wave: [] for wave in WAVES}
    for journey_key in dict.fromkeys(cohort.journey_key for cohort in cohorts):
        version = journeys.latest_version(session, journey_key)
        if version is None:
            continue
        waves = journeys.definition_of(version).waves
        for wave in Wave:
            battery[wave.value] += [key for key in waves.instruments(wave)
                                    if key not in battery[wave.value]]
    return battery


WAVE_LABELS = {"pre": "Before the journey", "post": "After the journey",
               "followup": "Follow-up"}


def read_battery(texts: Mapping[str, str], known: Iterable[str]) -> dict[str, list[str]]:
    """The battery written as one instrument short name a line per wave, in order; a
    FieldProblem at the wave naming any short name that is not a loaded instrument."""
    names = set(known)
    battery: dict[str, list[str]] = {}
    for wave in WAVES:
        keys = [line.strip() for line in texts.get(wave, "").splitlines() if line.strip()]
        unknown = [key for key in keys if key not in names]
        if unknown:
            listed = ", ".join(f"“{key}”" for key in unknown)
            raise FieldProblem(wave, f"No questionnaire is called {listed}. Use the short "
                                     "names listed beside the form, one a line.")
        battery[wave] = list(dict.fromkeys(keys))
    if not any(battery.values()):
        raise FieldProblem(WAVES[0], "Give at least one questionnaire.")
    return battery


def set_battery(session: Session, *, study: Study, battery: Mapping[str, Sequence[str]],
                version: int, actor_id: int) -> None:
    """Changes what the members taking part in the study are asked from now on (answers
    already sent stay as they are); refused if the study changed since `version`."""
    assert study.id is not None
    before = dict(study.battery)
    chosen = {wave: list(battery.get(wave, ())) for wave in WAVES}
    _bump_version(session, study, version, battery=chosen)
    audit.record(session, action="study.battery_changed", actor_id=actor_id,
                 target_type="study", target_id=study.id, before=before, after=chosen)
    session.flush()
    outcome_cache.ask(session, study_id=study.id)


def studies_for(session: Session, *, user_id: int) -> list[Study]:
    return list(session.exec(
        select(Study).join(StudyResearcher, col(StudyResearcher.study_id) == Study.id)
        .where(StudyResearcher.user_id == user_id).order_by(col(Study.title))
    ))


def study_for(session: Session, *, study_id: int, user_id: int) -> Study:
    """The study, if this researcher is on it; otherwise it does not exist for them."""
    study = session.exec(
        select(Study).join(StudyResearcher, col(StudyResearcher.study_id) == Study.id)
        .where(Study.id == study_id, StudyResearcher.user_id == user_id)
    ).first()
    if study is None:
        raise StudyNotFound()
    return study


def study_by_slug(session: Session, slug: str) -> Study | None:
    return session.exec(select(Study).where(Study.slug == slug)).first()


def cohorts_of(session: Session, study: Study) -> list[Cohort]:
    return list(session.exec(
        select(Cohort).join(StudyCohort, col(StudyCohort.cohort_id) == Cohort.id)
        .where(StudyCohort.study_id == study.id).order_by(col(Cohort.name))
    ))


def cohort_ids_of(session: Session, study: Study) -> list[int]:
    return list(session.exec(
        select(StudyCohort.cohort_id).where(StudyCohort.study_id == study.id)))


@dataclass(frozen=True)
class Colleague:
    display_name: str
    email: str
    user_id: int = 0


def researchers_of(session: Session, study: Study) -> list[Colleague]:
    rows = session.exec(
        select(User.display_name, User.email, User.id)
        .join(StudyResearcher, col(StudyResearcher.user_id) == User.id)
        .where(StudyResearcher.study_id == study.id).order_by(col(User.display_name))
    )
    return [Colleague(name, email, user_id or 0) for name, email, user_id in rows]


STUDY_CHANGED = ("Someone changed this study since you opened the page. Its details as "
                 "they are now are below; make your change again.")


def _bump_version(session: Session, study: Study, version: int, **values: object) -> None:
    """Writes `values` and the next version, only if the study is still at `version`;
    the row lock it takes also queues concurrent edits of the same study."""
    changed = session.execute(
        update(Study).where(col(Study.id) == study.id, col(Study.version) == version)
        .values(**values, version=version + 1))
    session.refresh(study)
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleEdit(STUDY_CHANGED)


def update_study(session: Session, *, study: Study, title: str, description: str,
                 cohort_ids: Sequence[int], free_text: bool, version: int,
                 actor_id: int) -> Study:
    """Changes the study's details and cohorts; refused if it changed since `version`.
    The short name and consent document stay: files and consent records refer to them."""
    assert study.id is not None
    kept = set(cohort_ids_of(session, study))
    before = {"title": study.title, "description": study.description,
              "free_text": study.free_text, "cohorts": sorted(kept)}
    cohorts = [community.get_cohort(session, cohort_id) for cohort_id in cohort_ids]
    _bump_version(session, study, version, title=title.strip(),
                  description=description.strip(), free_text=free_text)
    chosen = {cohort.id for cohort in cohorts if cohort.id is not None}
    for cohort_id in kept - chosen:
        link = session.get(StudyCohort, (study.id, cohort_id))
        if link is not None:
            session.delete(link)
    session.add_all([StudyCohort(study_id=study.id, cohort_id=cohort_id)
                     for cohort_id in sorted(chosen - kept)])
    after = {"title": study.title, "description": study.description,
             "free_text": study.free_text, "cohorts": sorted(chosen)}
    audit.record(session, action="study.updated", actor_id=actor_id, target_type="study",
                 target_id=study.id, changed={key: {"before": before[key], "after": value}
                                              for key, value in after.items()
                                              if before[key] != value})
    session.flush()
    outcome_cache.ask(session, study_id=study.id)
    return study


def remove_researcher(session: Session, *, study: Study, user_id: int, actor_id: int) -> None:
    """Takes a researcher off the study; the last one stays, or nobody could see it."""
    assert study.id is not None
    link = session.get(StudyResearcher, (study.id, user_id))
    if link is None:
        raise FieldProblem("remove", "That researcher is not on this study any more.")
    with session.begin_nested():  # a refusal leaves the version as it was
        _bump_version(session, study, study.version)  # queues a concurrent removal
        others = session.exec(select(func.count()).select_from(StudyResearcher).where(
            StudyResearcher.study_id == study.id, StudyResearcher.user_id != user_id)).one()
        if not others:
            raise FieldProblem("remove", "This is the last researcher on the study, who "
                                         "cannot be removed: add a colleague first.")
        session.delete(link)
    audit.record(session, action="study.researcher_removed", actor_id=actor_id,
                 target_type="study", target_id=study.id, researcher_id=user_id)
    session.flush()


def add_researcher(session: Session, *, study: Study, email: str, actor_id: int) -> User:
    user = accounts.get_user_by_email(session, email)
    if user is None or user.id is None or not accounts.roles_of(session, user.id) & {
            Role.researcher}:
        raise FieldProblem("email", "No researcher has an account with this e-mail address. "
                                    "Ask an admin to give them the researcher role first.")
    on_study = session.exec(select(StudyResearcher).where(
        StudyResearcher.study_id == study.id, StudyResearcher.user_id == user.id)).first()
    if on_study is not None:
        raise FieldProblem("email", f"{user.display_name} is already on this study.")
    assert study.id is not None
    session.add(StudyResearcher(study_id=study.id, user_id=user.id, added_by_id=actor_id))
    audit.record(session, action="study.researcher_added", actor_id=actor_id,
                 target_type="study", target_id=study.id, researcher_id=user.id)
    session.flush()
    return user


# When a study's data changes -----------------------------------------------------------


def studies_touched_by(session: Session, *, user_id: int | None = None,
                       instrument_key: str | None = None) -> list[int]:
    """The studies whose data a change of this member's answers or consent touches (the
    studies over their cohorts), or a change of this instrument's scores (the studies that
    give it), or with neither, every study."""
    if user_id is not None:
        return list(session.exec(
            select(StudyCohort.study_id).distinct()
            .join(Enrolment, col(Enrolment.cohort_id) == StudyCohort.cohort_id)
            .where(Enrolment.user_id == user_id).order_by(col(StudyCohort.study_id))))
    studies = session.exec(select(Study).order_by(col(Study.id))).all()
    return [study.id for study in studies if study.id is not None and (
        instrument_key is None or any(instrument_key in keys
                                      for keys in study.battery.values()))]


def data_changed(session: Session, *, user_id: int | None = None,
                 instrument_key: str | None = None) -> list[int]:
    """Ask for the outcome report of every study touched to be computed again."""
    touched = studies_touched_by(session, user_id=user_id, instrument_key=instrument_key)
    for study_id in touched:
        outcome_cache.ask(session, study_id=study_id)
    return touched


def consent_keys(session: Session) -> list[str]:
    return list(session.exec(
        select(ConsentDocument.key).distinct().order_by(col(ConsentDocument.key))))


# Pseudonyms -----------------------------------------------------------------------------


def pseudonym(study: Study, subject: str) -> str:
    """HMAC-SHA256 of `subject` ("code:<participant code>") under the study's secret:
    stable within the study, unlinkable across studies, and not reversible by anyone who
    lacks the secret."""
    digest = hmac.new(bytes.fromhex(study.secret), subject.encode(), hashlib.sha256)
    return PSEUDONYM_PREFIX + digest.hexdigest()[:PSEUDONYM_HEX]


# Participants ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Participant:
    """Someone whose answers the study may use. Only `pseudonym` ever leaves the app."""

    pseudonym: str
    participant_code: str     # of the enrolment their answers are filed under
    enrolment_id: int | None  # None once the account was deleted (answers kept)
    started_at: datetime | None
    free_text: bool           # the study asks for free text and their consent covers it


@dataclass(frozen=True)
class Census:
    consented: int
    withdrawn: int
    no_research_consent: int
    deleted_accounts: int     # accounts deleted under consent; their answers stay
    participants: list[Participant]


def census(session: Session, study: Study) -> Census:
    members = _members(session, study)
    counts = {"consented": 0, "withdrawn": 0, "none": 0}
    participants: list[Participant] = []
    for member in members:
        counts[member.status] += 1
        if member.status == "consented":
            participants.append(Participant(
                pseudonym=code_pseudonym(study, member.participant_code),
                participant_code=member.participant_code, enrolment_id=member.enrolment_id,
                started_at=member.started_at, free_text=study.free_text and member.free_text))
    kept = _kept_codes(session, study)
    participants += [Participant(pseudonym=code_pseudonym(study, code),
                                 participant_code=code, enrolment_id=None, started_at=None,
                                 free_text=False) for code in kept]
    participants.sort(key=lambda participant: participant.pseudonym)
    return Census(consented=counts["consented"], withdrawn=counts["withdrawn"],
                  no_research_consent=counts["none"], deleted_accounts=len(kept),
                  participants=participants)


def code_pseudonym(study: Study, participant_code: str) -> str:
    """A participant's pseudonym, from the code of their first enrolment in the study's
    cohorts: the same before and after they delete their account."""
    return pseudonym(study, f"code:{participant_code}")


def participants(session: Session, study: Study) -> list[Participant]:
    return census(session, study).participants


@dataclass(frozen=True)
class _Member:
    user_id: int
    enrolment_id: int
    participant_code: str
    started_at: datetime
    status: str  # "consented", "withdrawn" or "none"
    free_text: bool


def _members(session: Session, study: Study) -> list[_Member]:
    """Each member of the study's cohorts once (their first enrolment there), with the
    state of their latest consent record: the one rule `consent.research_consent_active`
    applies, plus the study's own consent document."""
    latest = (select(func.max(ConsentRecord.id).label("id"))
              .group_by(col(ConsentRecord.user_id)).subquery())
    rows = session.execute(
        sa_select(col(Enrolment.id), col(Enrolment.user_id), col(Enrolment.participant_code),
               col(Enrolment.started_at), col(ConsentRecord.research_use),
               col(ConsentRecord.research_withdrawn_at), col(ConsentDocument.key),
               col(ConsentDocument.research_free_text))
        .join(StudyCohort, col(StudyCohort.cohort_id) == Enrolment.cohort_id)
        .outerjoin(ConsentRecord, (col(ConsentRecord.user_id) == Enrolment.user_id)
                   & col(ConsentRecord.id).in_(select(latest.c.id)))
        .outerjoin(ConsentDocument, col(ConsentDocument.id) == ConsentRecord.document_id)
        .where(col(StudyCohort.study_id) == study.id)
        .order_by(col(Enrolment.id))
    )
    members: dict[int, _Member] = {}
    for enrolment_id, user_id, code, started_at, research, withdrawn_at, key, covers in rows:
        if user_id in members:
            continue
        status = "none"
        if research and key == study.consent_key:
            status = "withdrawn" if withdrawn_at is not None else "consented"
        members[user_id] = _Member(user_id=user_id, enrolment_id=enrolment_id,
                                   participant_code=code, started_at=started_at,
                                   status=status, free_text=bool(covers))
    return list(members.values())


def _kept_codes(session: Session, study: Study) -> list[str]:
    """Per deleted account, the code of its first enrolment in the study's cohorts (as
    `_members` takes a member's first enrolment)."""
    rows = session.exec(
        select(KeptEnrolment.account_code, KeptEnrolment.participant_code)
        .join(StudyCohort, col(StudyCohort.cohort_id) == KeptEnrolment.cohort_id)
        .where(StudyCohort.study_id == study.id, KeptEnrolment.consent_key == study.consent_key)
        .order_by(col(KeptEnrolment.id))
    )
    first: dict[str, str] = {}
    for account, code in rows:
        first.setdefault(account or code, code)
    return list(first.values())


def keep_enrolments(session: Session, *, user_id: int) -> int:
    """Before an account under research consent is deleted: remember which cohort each
    of its enrolments was in, so the answers kept under the participant code still
    belong to the studies that follow that cohort."""
    record = session.exec(
        select(ConsentRecord).where(ConsentRecord.user_id == user_id)
        .order_by(col(ConsentRecord.id).desc())).first()
    document = session.get(ConsentDocument, record.document_id) if record else None
    if document is None:
        return 0
    rows = session.exec(select(Enrolment.participant_code, Enrolment.cohort_id).where(
        Enrolment.user_id == user_id, col(Enrolment.cohort_id).is_not(None))
        .order_by(col(Enrolment.id))).all()
    for code, cohort_id in rows:
        assert cohort_id is not None
        session.add(KeptEnrolment(participant_code=code, account_code=rows[0][0],
                                  cohort_id=cohort_id, consent_key=document.key))
        session.flush()  # one at a time, so the ids keep the enrolments' order
    return len(rows)


def instrument_titles(session: Session) -> dict[str, str]:
    """Every loaded instrument's key and title, by title."""
    newest = select(func.max(InstrumentVersion.id)).group_by(col(InstrumentVersion.instrument_key))
    versions = session.exec(select(InstrumentVersion).where(col(InstrumentVersion.id).in_(newest)))
    titles = {version.instrument_key: surveys.instrument_of(version).title for version in versions}
    return dict(sorted(titles.items(), key=lambda pair: pair[1]))


def waves_done(session: Session, people_: Sequence[Participant]) -> dict[str, dict[str, int]]:
    """For each participant (by pseudonym), how many questionnaires they sent per wave."""
    people = {p.participant_code: p.pseudonym for p in people_}
    done: dict[str, dict[str, int]] = {pseudonym: {} for pseudonym in people.values()}
    codes = list(people)
    for start in range(0, len(codes), 500):
        rows = session.exec(
            select(SurveyResponse.participant_code, SurveyResponse.wave, func.count())
            .where(col(SurveyResponse.participant_code).in_(codes[start:start + 500]),
                   SurveyResponse.status == ResponseStatus.submitted)
            .group_by(col(SurveyResponse.participant_code), col(SurveyResponse.wave)))
        for code, wave, number in rows:
            done[people[code]][wave] = number
    return done
