"""The pre/post outcome report of a study: observations and reliability from the database,
statistics from `app.research.outcomes`."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from app.journeys.definitions import Wave
from app.research import outcomes, service
from app.research.arms import participant_arms
from app.research.exports import ScoreRow
from app.research.long_table import LongTable
from app.research.mixed import WaveReport, analyse_waves, frame_of
from app.research.models import Study
from app.research.outcomes import (
    OutcomeReport,
    Reliability,
    analyse,
)
from app.research.service import Participant
from app.research.source import (
    Instruments,
    Selection,
    responses_of,
    score_rows,
    select_part,
    study_waves,
)
from app.surveys import waves as surveys
from app.surveys.definitions import Instrument
from app.surveys.scoring import scored_value


@dataclass(frozen=True)
class StudyReport:
    report: OutcomeReport
    reliability: list[Reliability]
    participants: int
    waves: WaveReport | None = None

    def context(self) -> dict[str, Any]:
        from app.research.charts import charts  # matplotlib-free SVG, but only needed here

        return {"report": self.report, "reliability": self.reliability,
                "charts": charts(self.report), "waves": self.waves}


def variable(instrument: str, score: str) -> str:
    return f"{instrument}.{score}"


def outcome_report(session: Session, study: Study) -> StudyReport:
    people = service.participants(session, study)
    selection = select_part(study)
    latest = _latest_instruments(session, selection.instruments)
    labels, better = _variables(latest)
    observations = _observations(score_rows(session, selection, people))
    report = analyse(observations, better=better, labels=labels,
                     pre=Wave.pre.value, post=Wave.post.value)
    waves = analyse_waves(frame_of(observations), study_waves(study),
                          arms=participant_arms(session, study, people), labels=labels,
                          better=better, paired=report)
    return StudyReport(report=report, participants=len(people),
                       reliability=reliability(session, selection, people), waves=waves)


def _observations(rows: Iterable[ScoreRow]) -> LongTable:
    participants: list[str] = []
    waves: list[str] = []
    variables: list[str] = []
    values: list[float | None] = []
    for row in rows:
        participants.append(row.participant)
        waves.append(row.wave)
        variables.append(variable(row.instrument, row.score))
        values.append(row.value)
    return LongTable.of_rows(participants, waves, variables, values)


def _latest_instruments(session: Session, keys: Iterable[str]) -> list[Instrument]:
    return [surveys.instrument_of(surveys.latest_instrument(session, key)) for key in keys]


def _variables(instruments: Iterable[Instrument]) -> tuple[dict[str, str], dict[str, str]]:
    labels: dict[str, str] = {}
    better: dict[str, str] = {}
    for instrument in instruments:
        for score in instrument.scores:
            name = variable(instrument.id, score.name)
            labels[name] = (instrument.title if len(instrument.scores) == 1
                            else f"{instrument.title}: {score.name.replace('_', ' ')}")
            better[name] = "higher" if score.higher_is_better else "lower"
    return labels, better


def reliability(session: Session, selection: Selection,
                people: Sequence[Participant]) -> list[Reliability]:
    """Cronbach's alpha of each score's items, reverse-keyed as scoring keys them, per wave."""
    instruments = Instruments(session)
    matrices: dict[tuple[str, str, str, tuple[str, ...]], list[list[float | None]]] = (
        defaultdict(list))
    keyed: dict[tuple[int, str, Any], float | None] = {}  # a handful of options per item
    for _participant, responses in responses_of(session, selection, people):
        for response in responses:
            instrument = instruments(response.version_id)
            answers = surveys.numeric_answers(response.answers)
            for score in instrument.scores:
                items = tuple(item.id for item in instrument.items_of(score))
                name = (response.instrument if len(instrument.scores) == 1
                        else variable(response.instrument, score.name))
                row = []
                for item in items:
                    value = answers.get(item)
                    key = (response.version_id, item, value)
                    if key not in keyed:
                        keyed[key] = _keyed(instrument, item, value)
                    row.append(keyed[key])
                matrices[(name, response.wave, score.name, items)].append(row)
    order = {wave.value: index for index, wave in enumerate(Wave)}
    # n counts the respondents alpha is computed over: those who answered every item.
    results = [outcomes.reliability(name, wave, matrix)
               for (name, wave, _score, items), matrix in matrices.items()]
    return sorted(results, key=lambda r: (r.instrument, order.get(r.wave, 99)))


def _keyed(instrument: Instrument, item_id: str, value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return scored_value(instrument, item_id, value)
