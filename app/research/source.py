"""The rows an export is written from, read from the database a chunk of participants at
a time: never every response at once, and in the order the writers need (participant,
then wave, instrument, item)."""

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from app.journeys.kinds import WRITTEN_KEYS
from app.journeys.models import StatementVersion, StepAnswer
from app.research.exporting.model import ANSWERED, DECLINED, SKIPPED, merged_spec
from app.research.exports import (
    AnswerRow,
    ExportSource,
    InstrumentSpec,
    ScoreRow,
    TextRow,
    instrument_spec,
)
from app.research.models import Study
from app.research.service import WAVES, Participant
from app.surveys import waves as surveys
from app.surveys.definitions import Instrument
from app.surveys.models import InstrumentVersion, ResponseStatus, SurveyResponse, SurveyScore

CHUNK = 400        # participants per query
YIELD_PER = 500    # rows fetched at a time (a server-side cursor on PostgreSQL)
TEXT_WAVE = "journey"  # free text is written during the journey, not in a survey wave


@dataclass(frozen=True)
class Selection:
    """Which part of the study an export covers; every wave and instrument by default."""

    waves: tuple[str, ...]
    instruments: tuple[str, ...]
    battery: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def includes(self, wave: str, instrument: str) -> bool:
        return wave in self.waves and instrument in self.battery.get(wave, ())

    def as_filters(self, study: Study) -> dict[str, str]:
        return {
            "waves": ",".join(self.waves) if self.waves != study_waves(study) else "all",
            "instruments": (",".join(self.instruments)
                            if self.instruments != study_instruments(study) else "all"),
        }


def study_waves(study: Study) -> tuple[str, ...]:
    return tuple(wave for wave in WAVES if study.battery.get(wave))


def study_instruments(study: Study) -> tuple[str, ...]:
    keys = (key for wave in WAVES for key in study.battery.get(wave, ()))
    return tuple(dict.fromkeys(keys))


class UnknownChoice(ValueError):
    def __init__(self, what: str, values: Sequence[str], allowed: Sequence[str]) -> None:
        super().__init__(f"not {what} of this study: {', '.join(values)} "
                         f"(it has {', '.join(allowed) or 'none'})")
        self.what = what


def select_part(study: Study, *, waves: Sequence[str] = (),
                instruments: Sequence[str] = ()) -> Selection:
    all_waves, all_instruments = study_waves(study), study_instruments(study)
    for what, given, allowed in (("a wave", waves, all_waves),
                                 ("an instrument", instruments, all_instruments)):
        unknown = [value for value in given if value not in allowed]
        if unknown:
            raise UnknownChoice(what, unknown, allowed)
    chosen_waves = tuple(wave for wave in all_waves if not waves or wave in waves)
    chosen = tuple(key for key in all_instruments if not instruments or key in instruments)
    battery = {wave: tuple(key for key in study.battery.get(wave, ()) if key in chosen)
               for wave in chosen_waves}
    return Selection(waves=chosen_waves, instruments=chosen, battery=battery)


def _chunks(items: Sequence[Participant]) -> Iterator[list[Participant]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, CHUNK)):
        yield chunk


class Instruments:
    """Parsed instrument versions, each looked up once per export."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.by_version: dict[int, Instrument] = {}

    def __call__(self, version_id: int) -> Instrument:
        if version_id not in self.by_version:
            version = self.session.get(InstrumentVersion, version_id)
            assert version is not None
            self.by_version[version_id] = surveys.instrument_of(version)
        return self.by_version[version_id]

    def specs(self, keys: Sequence[str],
              used: Mapping[str, Sequence[int]]) -> list[InstrumentSpec]:
        """Per instrument, one spec over the versions `used` (the newest loaded if none)."""
        return [merged_spec([instrument_spec(self(version_id))
                             for version_id in self._versions(key, used)]) for key in keys]

    def _versions(self, key: str, used: Mapping[str, Sequence[int]]) -> list[int]:
        if used.get(key):
            return sorted(used[key])
        latest = surveys.latest_instrument(self.session, key).id
        assert latest is not None
        return [latest]


def versions_used(session: Session, selection: Selection,
                  people: Sequence[Participant]) -> dict[str, list[int]]:
    """The instrument versions the selection's responses were given in, by instrument."""
    used: dict[str, set[int]] = defaultdict(set)
    for chunk in _chunks(people):
        rows = session.execute(
            sa_select(col(SurveyResponse.wave), col(SurveyResponse.instrument_key),
                      col(SurveyResponse.instrument_version_id)).distinct()
            .where(col(SurveyResponse.participant_code).in_([p.participant_code for p in chunk]),
                   col(SurveyResponse.status) == ResponseStatus.submitted,
                   col(SurveyResponse.wave).in_(selection.waves),
                   col(SurveyResponse.instrument_key).in_(selection.instruments)))
        for wave, key, version_id in rows:
            if selection.includes(wave, key):
                used[key].add(version_id)
    return {key: sorted(ids) for key, ids in used.items()}


@dataclass
class Response:
    id: int
    code: str
    wave: str
    instrument: str
    version_id: int
    days: int | None
    answers: dict[str, Any]


def _responses(session: Session, selection: Selection,
               chunk: list[Participant]) -> Iterator[tuple[Participant, list[Response]]]:
    """Each participant of the chunk, in pseudonym order, with their submitted responses
    in the selection, in wave and battery order."""
    query = (
        sa_select(col(SurveyResponse.id), col(SurveyResponse.participant_code),
                  col(SurveyResponse.wave), col(SurveyResponse.instrument_key),
                  col(SurveyResponse.instrument_version_id),
                  col(SurveyResponse.days_since_enrolment), col(SurveyResponse.answers))
        .where(col(SurveyResponse.participant_code).in_([p.participant_code for p in chunk]),
               col(SurveyResponse.status) == ResponseStatus.submitted,
               col(SurveyResponse.wave).in_(selection.waves),
               col(SurveyResponse.instrument_key).in_(selection.instruments))
        .order_by(col(SurveyResponse.participant_code), col(SurveyResponse.id))
        .execution_options(yield_per=YIELD_PER)
    )
    found: dict[str, list[Response]] = defaultdict(list)
    for row in session.execute(query):
        response = Response(*row)
        if selection.includes(response.wave, response.instrument):
            found[response.code].append(response)
    for participant in chunk:
        rows = found.get(participant.participant_code, [])
        rows.sort(key=lambda r: (WAVES.index(r.wave), selection.instruments.index(r.instrument)))
        yield participant, rows


def responses_of(session: Session, selection: Selection,
                 people: Sequence[Participant]) -> Iterator[tuple[Participant, list[Response]]]:
    for chunk in _chunks(people):
        yield from _responses(session, selection, chunk)


def _value(raw: Any) -> float | None:
    if raw is None or raw == surveys.DECLINED or isinstance(raw, bool):
        return None
    return float(raw) if isinstance(raw, int | float) else None


def _status(raw: Any, value: float | None) -> str:
    if raw == surveys.DECLINED:
        return DECLINED
    return ANSWERED if value is not None else SKIPPED


def answer_rows(session: Session, selection: Selection,
                people: Sequence[Participant]) -> Iterator[AnswerRow]:
    instruments = Instruments(session)
    for chunk in _chunks(people):
        for participant, responses in _responses(session, selection, chunk):
            for response in responses:
                instrument = instruments(response.version_id)
                for item in instrument.items:
                    raw = response.answers.get(item.id)
                    value = _value(raw)
                    yield AnswerRow(
                        participant=participant.pseudonym, wave=response.wave,
                        days_since_enrolment=response.days, instrument=response.instrument,
                        instrument_version=instrument.version, item=item.id,
                        value=value, status=_status(raw, value))


def score_rows(session: Session, selection: Selection,
               people: Sequence[Participant]) -> Iterator[ScoreRow]:
    instruments = Instruments(session)
    for chunk in _chunks(people):
        pairs = list(_responses(session, selection, chunk))
        ids = [response.id for _, responses in pairs for response in responses]
        stored = _scores(session, ids)
        for participant, responses in pairs:
            for response in responses:
                instrument = instruments(response.version_id)
                values = stored.get(response.id, {})
                for definition in instrument.scores:
                    yield ScoreRow(
                        participant=participant.pseudonym, wave=response.wave,
                        days_since_enrolment=response.days, instrument=response.instrument,
                        instrument_version=instrument.version, score=definition.name,
                        value=values.get(definition.name))


def _scores(session: Session, response_ids: list[int]) -> dict[int, dict[str, float | None]]:
    values: dict[int, dict[str, float | None]] = defaultdict(dict)
    if not response_ids:
        return values
    query = (select(SurveyScore.response_id, SurveyScore.name, SurveyScore.value)
             .where(col(SurveyScore.response_id).in_(response_ids))
             .execution_options(yield_per=YIELD_PER))
    for response_id, name, value in session.exec(query):
        values[response_id][name] = value
    return values


def text_rows(session: Session, people: Sequence[Participant]) -> Iterator[TextRow]:
    """What participants wrote in their journey: only theirs whose consent covers it."""
    writers = [p for p in people if p.free_text and p.enrolment_id is not None]
    for chunk in _chunks(writers):
        by_enrolment = {p.enrolment_id: p for p in chunk}
        texts: dict[int, list[tuple[str, str, Any, str]]] = defaultdict(list)
        for enrolment_id, step_id, data, when in session.exec(
            select(StepAnswer.enrolment_id, StepAnswer.step_id, StepAnswer.data,
                   StepAnswer.updated_at)
            .where(col(StepAnswer.enrolment_id).in_(list(by_enrolment)))
            .order_by(col(StepAnswer.id))
        ):
            written = {key: value for key, value in data.items() if key in WRITTEN_KEYS}
            for name, text in _strings(written):
                texts[enrolment_id].append((f"step:{step_id}", name, when, text))
        for enrolment_id, number, text, when in session.exec(
            select(StatementVersion.enrolment_id, StatementVersion.number,
                   StatementVersion.text, StatementVersion.created_at)
            .where(col(StatementVersion.enrolment_id).in_(list(by_enrolment)))
            .order_by(col(StatementVersion.number))
        ):
            texts[enrolment_id].append(("purpose_statement", f"version_{number}", when, text))
        for participant in chunk:
            for source, name, when, text in texts.get(participant.enrolment_id or 0, []):
                started = participant.started_at
                days = (when - started).days if started is not None else None
                yield TextRow(participant=participant.pseudonym, wave=TEXT_WAVE,
                              days_since_enrolment=days, source=source, field=name, text=text)


def _strings(data: Any, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Every non-empty text in a saved step answer, named by its path in the answer."""
    if isinstance(data, str):
        if data.strip():
            yield prefix or "text", data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _strings(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(data, list):
        for index, value in enumerate(data, start=1):
            yield from _strings(value, f"{prefix}.{index}" if prefix else str(index))


def carries_free_text(study: Study, people: Sequence[Participant]) -> bool:
    """Whether the study allows free text and at least one participant's consent covers it."""
    return study.free_text and any(person.free_text for person in people)


def export_source(session: Session, study: Study, selection: Selection,
                  people: Sequence[Participant]) -> ExportSource:
    free_text = carries_free_text(study, people)
    used = versions_used(session, selection, people)
    return ExportSource(
        study=study.slug, waves=list(selection.waves),
        instruments=Instruments(session).specs(selection.instruments, used),
        answers=lambda: answer_rows(session, selection, people),
        scores=lambda: score_rows(session, selection, people),
        texts=(lambda: text_rows(session, people)) if free_text else None,
        filters=selection.as_filters(study),
        wave_instruments=selection.battery,
    )


@dataclass(frozen=True)
class Counts:
    participants: int
    responses: int
    answers: int
    scores: int

    def as_dict(self) -> dict[str, int]:
        return {"participants": self.participants, "responses": self.responses,
                "answers": self.answers, "scores": self.scores}


def count(session: Session, selection: Selection, people: Sequence[Participant]) -> Counts:
    """What an export of `selection` holds, counted in SQL without reading the answers."""
    instruments = Instruments(session)
    responses = answers = scores = 0
    answering: set[str] = set()
    for chunk in _chunks(people):
        rows = session.execute(
            sa_select(col(SurveyResponse.participant_code), col(SurveyResponse.wave),
                      col(SurveyResponse.instrument_key), col(SurveyResponse.instrument_version_id),
                      func.count())
            .where(col(SurveyResponse.participant_code).in_([p.participant_code for p in chunk]),
                   col(SurveyResponse.status) == ResponseStatus.submitted,
                   col(SurveyResponse.wave).in_(selection.waves),
                   col(SurveyResponse.instrument_key).in_(selection.instruments))
            .group_by(col(SurveyResponse.participant_code), col(SurveyResponse.wave),
                      col(SurveyResponse.instrument_key),
                      col(SurveyResponse.instrument_version_id))
        )
        for code, wave, key, version_id, number in rows:
            if not selection.includes(wave, key):
                continue
            instrument = instruments(version_id)
            answering.add(code)
            responses += number
            answers += number * len(instrument.items)
            scores += number * len(instrument.scores)
    return Counts(participants=len(answering), responses=responses, answers=answers,
                  scores=scores)
