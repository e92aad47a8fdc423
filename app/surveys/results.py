"""A member's own before/after, per score, in plain words; no clinical claims."""

from dataclasses import dataclass

from sqlmodel import Session, select

from app.journeys.definitions import Wave
from app.journeys.models import Enrolment
from app.surveys import waves
from app.surveys.definitions import Band, Instrument, ScoreDef
from app.surveys.models import ResponseStatus, SurveyResponse, SurveyScore
from app.surveys.scoring import band_for


@dataclass(frozen=True)
class Change:
    title: str
    score: ScoreDef
    before: float
    after: float
    support: str | None  # the instrument's own message for the band the member is in now

    @property
    def low(self) -> float:
        return float(self.score.range[0])

    @property
    def high(self) -> float:
        return float(self.score.range[1])

    @property
    def better(self) -> bool:
        return (self.after > self.before) == self.score.higher_is_better and \
            self.after != self.before

    def position(self, value: float) -> float:
        """Where `value` sits on the score's range, from 0 to 100 (for the chart)."""
        return 100 * (value - self.low) / (self.high - self.low)

    @property
    def words(self) -> str:
        direction = "higher is better" if self.score.higher_is_better else "lower is better"
        if self.after == self.before:
            moved = "stayed the same"
        else:
            moved = "went up" if self.after > self.before else "went down"
        return (f"{moved}, from {self.before:.1f} to {self.after:.1f} "
                f"(on a scale from {self.low:g} to {self.high:g}; {direction})")


def _scores(session: Session, enrolment_id: int, wave: Wave) -> dict[tuple[str, str], float]:
    rows = session.exec(
        select(SurveyResponse.instrument_key, SurveyScore.name, SurveyScore.value)
        .join(SurveyScore, SurveyScore.response_id == SurveyResponse.id)  # type: ignore[arg-type]
        .where(SurveyResponse.enrolment_id == enrolment_id, SurveyResponse.wave == wave.value,
               SurveyResponse.status == ResponseStatus.submitted)
    )
    return {(key, name): value for key, name, value in rows if value is not None}


def before_after(session: Session, *, enrolment: Enrolment) -> list[Change]:
    """Every score the member has both before (pre) and after (post) the journey."""
    assert enrolment.id is not None
    before = _scores(session, enrolment.id, Wave.pre)
    after = _scores(session, enrolment.id, Wave.post)
    changes = []
    for key in waves.wave_keys(session, enrolment, Wave.post):
        instrument = waves.instrument_of(waves.latest_instrument(session, key))
        for score in instrument.scores:
            pair = (before.get((key, score.name)), after.get((key, score.name)))
            if pair[0] is not None and pair[1] is not None:
                changes.append(_change(instrument, score, pair[0], pair[1]))
    return changes


def _change(instrument: Instrument, score: ScoreDef, before: float, after: float) -> Change:
    band: Band | None = band_for(score, after)
    title = instrument.title if len(instrument.scores) == 1 else \
        f"{instrument.title}: {score.name.replace('_', ' ')}"
    return Change(title=title, score=score, before=before, after=after,
                  support=band.support_message if band else None)
