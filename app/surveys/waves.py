"""Giving a wave: its instruments in order, answers saved per page, submitted once.

On submission the raw answers become immutable (pinned to the instrument version
they were given in) and the scores are computed and stored beside them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.clock import now
from app.errors import NotFound, TelosError
from app.journeys import service as journeys
from app.journeys.definitions import SurveyStep, Wave
from app.journeys.models import Enrolment, EnrolmentStatus
from app.surveys import batteries
from app.surveys.definitions import Instrument
from app.surveys.models import (
    InstrumentVersion,
    ResponseStatus,
    SurveyResponse,
    SurveyScore,
)
from app.surveys.scoring import band_for, score

DECLINED = "declined"  # "prefer not to answer": recorded, and missing for scoring


class AlreadySubmitted(TelosError):
    status_code = 409
    title = "Already sent"


class WaveNotOpen(TelosError):
    status_code = 409
    title = "Not open yet"


# Instrument versions -----------------------------------------------------------------


def store_instruments(session: Session, instruments: Iterable[Instrument]) -> int:
    added = 0
    for instrument in instruments:
        exists = session.exec(select(InstrumentVersion.id).where(
            InstrumentVersion.instrument_key == instrument.id,
            InstrumentVersion.content_hash == instrument.content_hash,
        )).first()
        if exists is None:
            session.add(InstrumentVersion(
                instrument_key=instrument.id, version=instrument.version,
                content_hash=instrument.content_hash,
                definition=instrument.model_dump(mode="json"),
            ))
            added += 1
    session.flush()
    return added


def latest_instrument(session: Session, key: str) -> InstrumentVersion:
    row = session.exec(
        select(InstrumentVersion).where(InstrumentVersion.instrument_key == key)
        .order_by(col(InstrumentVersion.id).desc())
    ).first()
    if row is None:
        raise NotFound(f"The survey instrument {key!r} has not been loaded.")
    return row


_parsed: dict[tuple[int, str], Instrument] = {}


def instrument_of(version: InstrumentVersion) -> Instrument:
    """Parsed once per process; keyed by hash too, as a rolled-back id can be reused."""
    assert version.id is not None
    key = (version.id, version.content_hash)
    if key not in _parsed:
        _parsed[key] = Instrument.model_validate(version.definition)
    return _parsed[key]


# The wave --------------------------------------------------------------------------------


def wave_keys(session: Session, enrolment: Enrolment, wave: Wave) -> list[str]:
    """The wave's battery for this member: their study's, else their journey's."""
    chosen = batteries.study_battery(session, enrolment, wave)
    if chosen is not None:
        return chosen
    return journeys.journey_of(session, enrolment).waves.instruments(wave)


def responses(session: Session, *, enrolment_id: int, wave: Wave) -> dict[str, SurveyResponse]:
    rows = session.exec(select(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolment_id, SurveyResponse.wave == wave.value
    ))
    return {row.instrument_key: row for row in rows}


@dataclass(frozen=True)
class WaveItem:
    key: str
    title: str
    status: str  # "not started", "in progress", "sent"
    seconds: int  # the estimated time it takes (see app/surveys/batteries.py)


@dataclass(frozen=True)
class WaveOverview:
    wave: Wave
    items: list[WaveItem]
    opens_on: Any  # a date, for a follow-up wave not yet due; else None

    @property
    def submitted(self) -> bool:
        return all(item.status == "sent" for item in self.items)

    @property
    def next_key(self) -> str | None:
        return next((item.key for item in self.items if item.status != "sent"), None)

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.status == "sent")

    @property
    def minutes(self) -> int:
        return batteries.minutes(sum(item.seconds for item in self.items))

    @property
    def minutes_left(self) -> int:
        return batteries.minutes(sum(item.seconds for item in self.items
                                     if item.status != "sent"))

    @property
    def next_position(self) -> int:
        """The number of the questionnaire the member goes on with (1-based)."""
        keys = [item.key for item in self.items]
        return keys.index(self.next_key) + 1 if self.next_key else len(keys)

    @property
    def started(self) -> bool:
        return any(item.status != "not started" for item in self.items)


def wave_overview(session: Session, *, enrolment: Enrolment, wave: Wave) -> WaveOverview:
    assert enrolment.id is not None
    given = responses(session, enrolment_id=enrolment.id, wave=wave)
    items = []
    for key in wave_keys(session, enrolment, wave):
        instrument = instrument_of(latest_instrument(session, key))
        row = given.get(key)
        status = "not started" if row is None else (
            "sent" if row.status == ResponseStatus.submitted else "in progress")
        items.append(WaveItem(key=key, title=instrument.title, status=status,
                              seconds=batteries.estimated_seconds([instrument])))
    return WaveOverview(wave=wave, items=items, opens_on=_opens_on(session, enrolment, wave))


def _opens_on(session: Session, enrolment: Enrolment, wave: Wave) -> Any:
    if _step_locked(session, enrolment, wave):
        return "when you reach it in your journey"
    if wave == Wave.post:
        return post_opens_on(session, enrolment=enrolment)
    if wave != Wave.followup:
        return None
    if enrolment.status != EnrolmentStatus.completed or enrolment.completed_at is None:
        return "after the journey"
    days = journeys.journey_of(session, enrolment).waves.followup_after_days
    opens = (enrolment.completed_at + timedelta(days=days)).date()
    return opens if opens > now().date() else None


def post_opens(session: Session, *, enrolment: Enrolment) -> datetime:
    days = journeys.journey_of(session, enrolment).waves.post_after_days
    return enrolment.started_at + timedelta(days=days)


def post_opens_on(session: Session, *, enrolment: Enrolment) -> date | None:
    """The day the post wave opens, while it is still ahead; None once it is open."""
    opens = post_opens(session, enrolment=enrolment)
    return opens.date() if opens > now() else None


def waiting_for_wave(session: Session, *, enrolment: Enrolment,
                     progress: journeys.Progress) -> tuple[SurveyStep, date] | None:
    """The member's next step when it is a questionnaire that opens on a later day."""
    upcoming = progress.next_step
    if upcoming is None or not isinstance(upcoming.step, SurveyStep):
        return None
    opens = _opens_on(session, enrolment, upcoming.step.wave)
    return (upcoming.step, opens) if isinstance(opens, date) else None


def check_in_under_way(session: Session, *, enrolment: Enrolment,
                       progress: journeys.Progress) -> WaveOverview | None:
    """The wave of the member's next step, when they began it and stopped part-way."""
    upcoming = progress.next_step
    if upcoming is None or not isinstance(upcoming.step, SurveyStep):
        return None
    overview = wave_overview(session, enrolment=enrolment, wave=upcoming.step.wave)
    under_way = overview.started and not overview.submitted and overview.opens_on is None
    return overview if under_way else None


def _step_locked(session: Session, enrolment: Enrolment, wave: Wave) -> bool:
    """A wave that a journey step gives opens with that step, not before (the post wave is
    answered at the end, never at the start)."""
    steps = [item for item in journeys.enrolment_progress(session, enrolment).steps
             if isinstance(item.step, SurveyStep) and item.step.wave == wave]
    return bool(steps) and all(item.status == journeys.Status.locked for item in steps)


def wave_submitted(session: Session, *, enrolment: Enrolment, wave: Wave) -> bool:
    return wave_overview(session, enrolment=enrolment, wave=wave).submitted


def followup_enrolment(session: Session, *, user_id: int) -> Enrolment | None:
    """The completed journey whose follow-up the member is asked for, even once a newer
    journey has started: the latest one open and not sent, else the latest not sent yet,
    else the latest sent."""
    rows = session.exec(select(Enrolment).where(
        Enrolment.user_id == user_id, Enrolment.status == EnrolmentStatus.completed,
    ).order_by(col(Enrolment.id).desc())).all()
    overviews = [(row, wave_overview(session, enrolment=row, wave=Wave.followup))
                 for row in rows if journeys.journey_of(session, row).waves.followup]
    pending = [(row, overview) for row, overview in overviews if not overview.submitted]
    open_now = [row for row, overview in pending if overview.opens_on is None]
    return next(iter(open_now or [row for row, _ in pending or overviews]), None)


def open_response(
    session: Session, *, enrolment: Enrolment, wave: Wave, key: str
) -> SurveyResponse:
    """The member's response to this instrument in this wave, started if need be."""
    assert enrolment.id is not None
    if key not in wave_keys(session, enrolment, wave):
        raise NotFound("This questionnaire is not part of this wave.")
    if _step_locked(session, enrolment, wave):
        raise WaveNotOpen("This questionnaire opens when you reach it in your journey.")
    opens = _opens_on(session, enrolment, wave)
    if opens is not None:
        when = f"on {opens.isoformat()}" if isinstance(opens, date) else "later"
        raise WaveNotOpen(f"This questionnaire opens {when}.")
    existing = responses(session, enrolment_id=enrolment.id, wave=wave).get(key)
    if existing is not None:
        return existing
    version = latest_instrument(session, key)
    assert version.id is not None
    response = SurveyResponse(
        user_id=enrolment.user_id, enrolment_id=enrolment.id, wave=wave.value,
        participant_code=enrolment.participant_code,
        instrument_key=key, instrument_version_id=version.id, status=ResponseStatus.draft,
    )
    session.add(response)
    session.flush()
    return response


def instrument_for(session: Session, response: SurveyResponse) -> Instrument:
    version = session.get(InstrumentVersion, response.instrument_version_id)
    assert version is not None
    return instrument_of(version)


def read_answers(instrument: Instrument, form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers on the page: option values, DECLINED, or absent; errors for bad values."""
    answers: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for item in instrument.items:
        raw = form.get(f"item-{item.id}")
        if raw in (None, ""):
            continue
        if raw == DECLINED and instrument.allow_missing:
            answers[item.id] = DECLINED
            continue
        allowed = {option_key(option.value): option.value for option in instrument.options_of(item)}
        if raw not in allowed:
            errors[item.id] = "Choose one of the answers offered."
            continue
        answers[item.id] = allowed[raw]
    return answers, errors


def option_key(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def unanswered(instrument: Instrument, answers: dict[str, Any]) -> dict[str, str]:
    message = ("Please answer this question, or choose “Prefer not to answer”."
               if instrument.allow_missing else "Please answer this question.")
    return {item.id: message for item in instrument.items
            if item.required and item.id not in answers}


def save_draft(session: Session, *, response: SurveyResponse, answers: dict[str, Any]) -> None:
    if response.status == ResponseStatus.submitted:
        raise AlreadySubmitted("You already sent this questionnaire; answers cannot change.")
    response.answers = {**response.answers, **answers}
    response.updated_at = now()
    session.add(response)
    session.flush()


def submit(session: Session, *, response: SurveyResponse, instrument: Instrument) -> None:
    if response.status == ResponseStatus.submitted:
        raise AlreadySubmitted("You already sent this questionnaire; answers cannot change.")
    response.status = ResponseStatus.submitted
    response.submitted_at = now()
    enrolment = session.get(Enrolment, response.enrolment_id)
    if enrolment is not None:
        response.days_since_enrolment = (response.submitted_at - enrolment.started_at).days
    session.add(response)
    store_scores(session, response=response, instrument=instrument)
    if response.user_id is not None:
        from app.research import service as research  # research reads surveys: import on use
        research.data_changed(session, user_id=response.user_id)


def numeric_answers(answers: dict[str, Any]) -> dict[str, float | None]:
    return {key: (None if value == DECLINED else value) for key, value in answers.items()}


def store_scores(session: Session, *, response: SurveyResponse, instrument: Instrument) -> None:
    assert response.id is not None
    existing = {row.name: row for row in session.exec(
        select(SurveyScore).where(SurveyScore.response_id == response.id))}
    for name, value, band in scored(response, instrument):
        row = existing.get(name) or SurveyScore(response_id=response.id, name=name)
        row.value, row.band, row.computed_at = value, band, now()
        session.add(row)
    session.flush()


def score_rows(response: SurveyResponse, instrument: Instrument) -> list[SurveyScore]:
    """The score rows of a response never scored before (many can be stored at once)."""
    assert response.id is not None
    return [SurveyScore(response_id=response.id, name=name, value=value, band=band)
            for name, value, band in scored(response, instrument)]


def scored(response: SurveyResponse,
           instrument: Instrument) -> list[tuple[str, float | None, str]]:
    """Each score's name, value and band label."""
    values = score(instrument, numeric_answers(response.answers))
    rows = []
    for definition in instrument.scores:
        value = values.get(definition.name)
        band = band_for(definition, value) if value is not None else None
        rows.append((definition.name, value, band.label if band else ""))
    return rows


def forget_answers(session: Session, *, user_id: int) -> int:
    """Deletes every survey answer of a member (scores go with them)."""
    rows = list(session.exec(select(SurveyResponse).where(SurveyResponse.user_id == user_id)))
    for row in rows:
        session.delete(row)
    session.flush()
    return len(rows)
