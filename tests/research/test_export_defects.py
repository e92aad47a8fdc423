"""Export defects found in review, through the database: a revised instrument, declined
answers, and what a streamed download puts on record."""

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from contextlib import nullcontext

import pyreadstat
from sqlmodel import Session, select

from app.audit.models import AuditEvent
from app.journeys.definitions import Wave
from app.research import downloads, service
from app.research.exports import write_export
from app.research.models import Study
from app.research.source import export_source, select_part
from app.surveys import waves
from app.surveys.definitions import Instrument
from app.surveys.models import SurveyResponse
from tests.research.studies import answer, make_cohort, make_member, make_study, researcher


def revise_happiness(db: Session) -> Instrument:
    """A second version of `happiness`: `good_moods` dropped, `calm_days` added."""
    definition = waves.latest_instrument(db, "happiness").definition
    items = [item for item in definition["items"] if item["id"] != "good_moods"]
    items.append({**items[0], "id": "calm_days", "text": "Most of my days feel calm."})
    scores = [{**score, "items": [item["id"] for item in items]}
              for score in definition["scores"]]
    revised = Instrument.model_validate({**definition, "version": "2-test", "items": items,
                                         "scores": scores})
    revised._content_hash = "revised-happiness-for-a-test"
    waves.store_instruments(db, [revised])
    return revised


def revised_study(db: Session) -> Study:
    owner, cohort = researcher(db), make_cohort(db)
    _, enrolment = make_member(db, cohort)
    answer(db, enrolment, wave=Wave.pre, value=2)
    revise_happiness(db)
    answer(db, enrolment, wave=Wave.post, value=4, day=40)
    study = make_study(db, owner, [cohort])
    study.battery = {"pre": ["happiness"], "post": ["happiness"], "followup": []}
    db.flush()
    return study


def exported(db: Session, study: Study, fmt: str) -> bytes:
    out = io.BytesIO()
    source = export_source(db, study, select_part(study), service.participants(db, study))
    write_export(source, fmt, out)
    return out.getvalue()


def test_an_instrument_revised_mid_study_exports_every_item_of_both_versions(
        db: Session, tmp_path: object) -> None:
    study = revised_study(db)
    [row] = csv.DictReader(io.StringIO(exported(db, study, "wide").decode()))
    assert (row["pre_happiness_version"], row["post_happiness_version"]) == ("1", "2-test")
    assert (row["pre_happiness_good_moods"], row["pre_happiness_calm_days"]) == ("2", "")
    assert (row["post_happiness_good_moods"], row["post_happiness_calm_days"]) == ("", "4")
    path = f"{tmp_path}/wide.sav"
    with open(path, "wb") as handle:
        handle.write(exported(db, study, "sav"))
    frame, _ = pyreadstat.read_sav(path)
    assert list(frame["post_happiness_calm_days"]) == [4.0]
    assert exported(db, study, "dta") and exported(db, study, "bundle")
    codebook = list(csv.DictReader(io.StringIO(exported(db, study, "codebook").decode())))
    calm = next(entry for entry in codebook if entry["column"] == "post_happiness_calm_days")
    assert calm["instrument_version"] == "2-test"
    assert "only in version 2-test" in calm["note"]


def test_prefer_not_to_answer_is_exported_as_declined_not_skipped(db: Session) -> None:
    owner, cohort = researcher(db), make_cohort(db)
    _, enrolment = make_member(db, cohort)
    answer(db, enrolment, value=3)
    response = db.exec(select(SurveyResponse).where(
        SurveyResponse.enrolment_id == enrolment.id)).one()
    response.answers = {"cheerful": waves.DECLINED, "enjoyment": 4, "hard_to_feel_glad": 2}
    db.add(response)
    db.flush()
    study = make_study(db, owner, [cohort])
    long = list(csv.DictReader(io.StringIO(exported(db, study, "long").decode())))
    assert {row["item"]: (row["value"], row["answer_status"]) for row in long} == {
        "cheerful": ("", "declined"), "enjoyment": ("4", "answered"),
        "good_moods": ("", "skipped"), "hard_to_feel_glad": ("2", "answered")}


# Streamed downloads: on record once when asked for, and again with what was sent.


def streamed_study(db: Session, members: int = 3) -> tuple[Study, int]:
    owner, cohort = researcher(db), make_cohort(db)
    for number in range(members):
        _, enrolment = make_member(db, cohort)
        answer(db, enrolment, value=2 + number % 3)
    study = make_study(db, owner, [cohort])
    assert owner.id is not None
    return study, owner.id


def events(db: Session, action: str) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).where(AuditEvent.action == action)
                        .order_by(AuditEvent.id)))  # type: ignore[arg-type]


def prepared(db: Session, study: Study, owner_id: int) -> downloads.Prepared:
    return downloads.prepare(db, study=study, fmt_name="long", selection=select_part(study),
                             actor_id=owner_id, actor="web")


def sessions(db: Session) -> downloads.SessionFactory:
    return lambda: nullcontext(db)


async def _all(body: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in body])


async def _first_then_close(body: AsyncIterator[bytes]) -> bytes:
    first = await anext(body)
    await body.aclose()  # type: ignore[attr-defined]
    return first


def test_a_streamed_download_is_recorded_with_what_was_sent(db: Session) -> None:
    study, owner_id = streamed_study(db)
    ready = prepared(db, study, owner_id)
    [asked] = events(db, "research.export.started")
    assert asked.details["rows_expected"] == 12 and asked.details["format"] == "long"
    assert events(db, "research.export") == []
    data = asyncio.run(_all(downloads.body(ready, sessions(db), sessions(db))))
    [sent] = events(db, "research.export")
    assert sent.details["rows"] == len(data.decode().splitlines()) - 1 == 12
    assert sent.details["complete"] is True and sent.details["bytes"] == len(data)
    assert sent.details["started_event"] == asked.id


def test_an_interrupted_download_is_recorded_as_interrupted(db: Session) -> None:
    study, owner_id = streamed_study(db, members=40)  # 160 rows: more than one 8 KiB write
    ready = prepared(db, study, owner_id)
    first = asyncio.run(_first_then_close(downloads.body(
        ready, sessions(db), sessions(db), chunk_bytes=64)))
    [sent] = events(db, "research.export")
    assert sent.details["complete"] is False
    assert sent.details["bytes"] == len(first)
    assert sent.details["rows"] == first.count(b"\n") - 1 < sent.details["rows_expected"] == 160
