"""The outcome report as a job last computed it: asked for when a study's data changes,
shown at once by the outcome page, and recomputed only by the `research.outcomes` job.

A change (a response sent, consent withdrawn, a rescore) raises the study's data version
and asks for a job unless one is already waiting to start; the job computes at the
version it finds when it starts, so a change made while it runs asks for the next one.
"""

import math
import numbers
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from app import jobs
from app.clock import now
from app.research.mixed import WaveReport, report_from
from app.research.models import OutcomeCache
from app.research.outcomes import (
    AttritionRow,
    OutcomeReport,
    Reliability,
    Summary,
    VariableOutcome,
)

TASK = "research.outcomes"


def cache_of(session: Session, *, study_id: int) -> OutcomeCache:
    """The study's cache row, locked for writing (PostgreSQL), made on first use (two
    makers at once: one wins)."""
    found = session.get(OutcomeCache, study_id, with_for_update=True)
    if found is not None:
        return found
    try:
        with session.begin_nested():
            session.add(OutcomeCache(study_id=study_id))
    except IntegrityError:
        pass
    found = session.get(OutcomeCache, study_id, populate_existing=True, with_for_update=True)
    assert found is not None
    return found


def ask(session: Session, *, study_id: int) -> bool:
    """Ask for the report of `study_id` to be computed again; False when a job is already
    waiting to start (it will see this change too)."""
    cache = cache_of(session, study_id=study_id)
    cache.data_version += 1
    cache.error = ""
    if cache.waiting:
        session.add(cache)
        session.flush()
        return False
    cache.waiting = True
    session.add(cache)
    session.flush()
    jobs.enqueue(session, TASK, study_id=study_id)
    return True


def start(session: Session, *, study_id: int) -> int:
    """A job starts: later changes ask for another. Returns the version it computes."""
    cache = cache_of(session, study_id=study_id)
    cache.waiting = False
    session.add(cache)
    session.flush()
    return cache.data_version


def store(session: Session, *, study_id: int, version: int, participants: int,
          report: OutcomeReport, reliability: list[Reliability],
          charts: dict[str, str], waves: WaveReport | None = None) -> bool:
    """Keep a computed report unless a newer one was kept meanwhile."""
    cache = cache_of(session, study_id=study_id)
    if cache.computed_version is not None and cache.computed_version > version:
        return False
    cache.computed_version, cache.computed_at = version, now()
    cache.participants, cache.error = participants, ""
    cache.report = {"report": _plain(asdict(report)),
                    "reliability": [_plain(asdict(item)) for item in reliability],
                    "waves": _plain(asdict(waves)) if waves is not None else None}
    cache.chart_means, cache.chart_forest = charts.get("means", ""), charts.get("forest", "")
    session.add(cache)
    session.flush()
    return True


def failed(session: Session, *, study_id: int, error: str) -> None:
    cache = cache_of(session, study_id=study_id)
    cache.error = error[-2000:]
    session.add(cache)
    session.flush()


@dataclass(frozen=True)
class Cached:
    """What the outcome page shows: the last report, and whether a newer one is coming."""

    computed_at: datetime | None
    participants: int
    report: OutcomeReport | None
    reliability: list[Reliability]
    charts: dict[str, str]
    current: bool
    error: str
    waves: WaveReport | None = None

    @property
    def computing(self) -> bool:
        return not self.current and not self.error

    def context(self) -> dict[str, Any]:
        return {"report": self.report, "reliability": self.reliability, "charts": self.charts,
                "waves": self.waves}


def cached(session: Session, *, study_id: int) -> Cached | None:
    cache = session.get(OutcomeCache, study_id)
    if cache is None:
        return None
    report = _report(cache.report["report"]) if cache.computed_version is not None else None
    return Cached(
        computed_at=cache.computed_at, participants=cache.participants, report=report,
        reliability=[Reliability(**item) for item in cache.report.get("reliability", [])],
        charts={"means": cache.chart_means, "forest": cache.chart_forest},
        current=cache.computed_version == cache.data_version and not cache.waiting,
        error=cache.error, waves=_waves(cache.report.get("waves")))


# JSON both ways. Statistics that are not finite numbers are kept as None, shown as "—".


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    raise TypeError(f"cannot keep {type(value).__name__} in the outcome cache")


def _summary(data: dict[str, Any]) -> Summary:
    return Summary(**data)


def _row(data: dict[str, Any]) -> VariableOutcome:
    return VariableOutcome(**{**data, "pre": _summary(data["pre"]),
                              "post": _summary(data["post"]),
                              "notes": tuple(data.get("notes", ()))})


def _attrition(data: dict[str, Any]) -> AttritionRow:
    return AttritionRow(**{**data, "completers": _summary(data["completers"]),
                           "dropouts": _summary(data["dropouts"])})


def _report(data: dict[str, Any]) -> OutcomeReport:
    return OutcomeReport(**{**data, "rows": [_row(row) for row in data["rows"]],
                            "attrition": [_attrition(row) for row in data["attrition"]]})


def _waves(data: dict[str, Any] | None) -> WaveReport | None:
    return report_from(data) if data else None
