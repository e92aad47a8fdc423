"""The demo study: a cohort of synthetic members who walked the purpose journey, so the
participant list, every export and the outcome report show something on a fresh install.

Everything here is made up and says so: the members are called "Demo participant N" and
live under @demo.example.org. Their answers come from a seeded random model (a general
well-being level per person, item noise, and a modest change after the journey on about
half of the scales), and their scores are computed by the app's own scoring code.
"""

import random
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from app.accounts import consent, passwords
from app.accounts import service as accounts
from app.accounts.consent_models import ConsentDocument
from app.accounts.models import Role, User, UserRole
from app.clock import now
from app.community import service as community
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.journeys.loader import load_all
from app.journeys.models import Enrolment, EnrolmentStatus
from app.research import service
from app.research.models import Study
from app.surveys import waves
from app.surveys.definitions import Instrument, load_battery
from app.surveys.models import ResponseStatus, SurveyResponse

STUDY_SLUG = "demo-purpose-pilot"
JOURNEY = "purpose"
FULL_BATTERY = "full"
RESEARCHER_EMAIL = "researcher@demo.example.org"
MANAGER_EMAIL = "manager@demo.example.org"
PARTICIPANTS = 60
SEED = 2026
# Scales the synthetic journey moves (by `EFFECT` standard deviations of the person level);
# the others stay where they were, so the report has both kinds.
CHANGED = frozenset({
    "happiness", "life_satisfaction", "resilience", "presence_of_meaning", "calling",
    "career_decision_self_efficacy", "hope", "optimism", "loneliness", "stress",
    "flourishing", "purpose_clarity",
})
EFFECT = 0.45


@dataclass(frozen=True)
class Profile:
    """What happens to one synthetic member."""

    number: int
    research: bool       # said yes to research use
    withdraws: bool      # ...and later withdrew it
    post: bool           # answered the post wave (else dropped out)
    followup: bool       # answered the follow-up wave
    level: float         # general well-being, in standard deviations
    started_days_ago: int


def profiles(rng: random.Random) -> list[Profile]:
    people = []
    for number in range(1, PARTICIPANTS + 1):
        post = rng.random() < 0.8
        people.append(Profile(
            number=number, research=number % 12 != 0, withdraws=number % 15 == 7,
            post=post, followup=post and rng.random() < 0.55, level=rng.gauss(0, 0.8),
            started_days_ago=rng.randint(170, 210)))
    return people


@dataclass(frozen=True)
class Given:
    """One questionnaire a synthetic member sent, `day` days after they began."""

    enrolment: Enrolment
    wave: Wave
    instrument: Instrument
    day: int
    answers: dict[str, float]


def load(session: Session) -> None:
    """Creates the demo study once; does nothing when it is there already."""
    if service.study_by_slug(session, STUDY_SLUG) is not None:
        return
    _ensure_content(session)
    document = consent.current_document(session)
    assert document is not None
    researcher = _demo_account(session, RESEARCHER_EMAIL, "Ravi Researcher", Role.researcher)
    manager = _demo_account(session, MANAGER_EMAIL, "Grace Manager", Role.manager)
    rng = random.Random(SEED)  # noqa: S311  (reproducible synthetic data, not secrets)
    people = profiles(rng)
    cohort = community.create_cohort(
        session, name="Demo cohort: purpose pilot", journey_key=JOURNEY,
        starts_on=(now() - timedelta(days=max(p.started_days_ago for p in people))).date(),
        ends_on=None, created_by_id=manager.id)
    full = full_battery(session)
    battery = {wave: _instruments(session, full[wave.value]) for wave in Wave}
    unusable = passwords.hash_password(secrets.token_urlsafe(32))  # nobody knows it
    given: list[Given] = []
    for person in people:
        given += _member(session, person, cohort_id=cohort.id, document=document,
                         password_hash=unusable, battery=battery, rng=rng)
    store_given(session, given)
    assert researcher.id is not None and cohort.id is not None
    _study(session, researcher_id=researcher.id, cohort_id=cohort.id, consent_key=document.key,
           battery=full)


def _ensure_content(session: Session) -> None:
    """The battery, the journeys and the consent document, as `telos journeys load` stores
    them, for a database where that has not been run yet."""
    if journeys.latest_version(session, JOURNEY) is not None and consent.current_document(
            session) is not None:
        return
    battery = load_battery()
    consent.store_documents(session)
    waves.store_instruments(session, battery.values())
    journeys.store_versions(session, load_all(instruments=set(battery)))


def _demo_account(session: Session, email: str, name: str, role: Role) -> User:
    from app.demo import DEMO_PASSWORD

    user = accounts.get_user_by_email(session, email)
    if user is None:
        user = accounts.create_user(session, email=email, display_name=name,
                                    password=DEMO_PASSWORD, roles=[role])
    return user


def full_battery(session: Session) -> dict[str, list[str]]:
    """The journey's full battery, which the demo study keeps (its default is shorter)."""
    version = journeys.latest_version(session, JOURNEY)
    assert version is not None
    journey_waves = journeys.definition_of(version).waves
    return journey_waves.batteries.get(FULL_BATTERY, journey_waves).as_dict()


def _instruments(session: Session, keys: list[str]) -> list[Instrument]:
    return [waves.instrument_of(waves.latest_instrument(session, key)) for key in keys]


def _member(session: Session, person: Profile, *, cohort_id: int | None,
            document: ConsentDocument, password_hash: str,
            battery: dict[Wave, list[Instrument]], rng: random.Random) -> list[Given]:
    # Written directly rather than through accounts.create_user: one Argon2 hash per
    # member would make the demo take ten seconds, and nobody ever signs in as them.
    user = User(email=f"participant{person.number:02d}@demo.example.org",
                display_name=f"Demo participant {person.number}", password_hash=password_hash)
    session.add(user)
    session.flush()
    assert user.id is not None
    session.add(UserRole(user_id=user.id, role=Role.member))
    consent.give(session, user_id=user.id, document=document, research_use=person.research)
    enrolment = journeys.enrol(session, user_id=user.id, journey_key=JOURNEY,
                               cohort_id=cohort_id)
    enrolment.started_at = now() - timedelta(days=person.started_days_ago)
    given = answer_wave(enrolment, Wave.pre, battery[Wave.pre], person, rng, day=0)
    if person.post:
        finished = rng.randint(35, 60)
        given += answer_wave(enrolment, Wave.post, battery[Wave.post], person, rng, day=finished)
        enrolment.status = EnrolmentStatus.completed
        enrolment.completed_at = enrolment.started_at + timedelta(days=finished)
        if person.followup:
            given += answer_wave(enrolment, Wave.followup, battery[Wave.followup], person, rng,
                                 day=finished + rng.randint(90, 105))
    session.add(enrolment)
    if person.withdraws:
        consent.withdraw_research(session, user_id=user.id)
    return given


def answer_wave(enrolment: Enrolment, wave: Wave, instruments: list[Instrument],
                person: Profile, rng: random.Random, *, day: int) -> list[Given]:
    shift = {Wave.pre: 0.0, Wave.post: EFFECT, Wave.followup: EFFECT * 0.7}[wave]
    return [Given(enrolment=enrolment, wave=wave, instrument=instrument, day=day,
                  answers=synthetic_answers(instrument, person.level + (
                      shift if instrument.id in CHANGED else 0.0), rng))
            for instrument in instruments]


def synthetic_answers(instrument: Instrument, level: float,
                      rng: random.Random) -> dict[str, float]:
    """One questionnaire's answers for a person at `level` (standard deviations of
    well-being): items keyed towards "better", reversed where the item is reversed."""
    better_is_high = all(score.higher_is_better for score in instrument.scores)
    direction = 1.0 if better_is_high else -1.0
    answers = {}
    for item in instrument.items:
        values = sorted(option.value for option in instrument.options_of(item))
        position = 0.5 + (direction * level + rng.gauss(0, 0.9)) / 4.5
        if item.reverse:
            position = 1 - position
        index = round(min(max(position, 0.0), 1.0) * (len(values) - 1))
        answers[item.id] = values[index]
    return answers


def store_given(session: Session, given: list[Given]) -> None:
    """The responses, sent and scored, written in two batches.

    `waves.submit` does the same for one response at a time; at a few thousand responses
    that is most of the demo's time, so this stores them together, with the scores from
    the same scoring code (`waves.score_rows`).
    """
    versions = {key: waves.latest_instrument(session, key).id
                for key in {item.instrument.id for item in given}}
    responses = []
    for item in given:
        enrolment = item.enrolment
        version_id = versions[item.instrument.id]
        assert enrolment.id is not None and version_id is not None
        sent = enrolment.started_at + timedelta(days=item.day, hours=1)
        responses.append(SurveyResponse(
            user_id=enrolment.user_id, enrolment_id=enrolment.id, wave=item.wave.value,
            participant_code=enrolment.participant_code, instrument_key=item.instrument.id,
            instrument_version_id=version_id, answers=item.answers,
            status=ResponseStatus.submitted, started_at=sent, updated_at=sent,
            submitted_at=sent, days_since_enrolment=item.day))
    session.add_all(responses)
    session.flush()
    session.add_all([score for response, item in zip(responses, given, strict=True)
                     for score in waves.score_rows(response, item.instrument)])
    session.flush()


def _study(session: Session, *, researcher_id: int, cohort_id: int, consent_key: str,
           battery: dict[str, list[str]]) -> Study:
    return service.create_study(
        session, title="Demo: purpose journey pilot", slug=STUDY_SLUG,
        description=("Synthetic data for trying Telos: 60 made-up members of one cohort who "
                     "walked the purpose journey, with a few drop-outs, withdrawals and "
                     "members who did not agree to research. None of it is real."),
        cohort_ids=[cohort_id], consent_key=consent_key, battery=battery, free_text=False,
        creator_id=researcher_id)


