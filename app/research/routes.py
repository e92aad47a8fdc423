"""Researchers define studies over cohorts, see who takes part, export and read outcomes.

Every page is for researchers on the study only; for anyone else the study does not exist.
"""

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response, StreamingResponse
from sqlmodel import Session

from app.clock import now
from app.community import service as community
from app.db import session_scope
from app.deps import FormDep, ResearcherUser, SessionDep
from app.errors import StaleEdit
from app.forms import kept, validate
from app.research import arms, downloads, export_files, outcome_cache, service
from app.research.forms import EditStudyForm, ResearcherForm, StudyForm, form_values
from app.research.models import Study
from app.research.source import UnknownChoice, select_part, study_instruments, study_waves
from app.surveys import batteries
from app.surveys import waves as surveys
from app.web import redirect, render, settings_of

router = APIRouter()
STUDY_PAGE_FILES = 3  # the newest of the researcher's files; the export page lists them all


def export_sessions(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Where a streamed export reads its rows: a read-only transaction of its own, as the
    request's transaction has ended (and been committed) before the body is sent."""
    engine = request.app.state.engine.execution_options(read_only=True)
    return lambda: session_scope(engine)


ExportSessions = Annotated[Callable[[], AbstractContextManager[Session]],
                           Depends(export_sessions)]


def record_sessions(request: Request) -> Callable[[], AbstractContextManager[Session]]:
    """Where a streamed export records what it sent, once the body has ended."""
    engine = request.app.state.engine
    return lambda: session_scope(engine)


RecordSessions = Annotated[Callable[[], AbstractContextManager[Session]],
                           Depends(record_sessions)]


# Studies --------------------------------------------------------------------------------


@router.get("/research")
def studies_page(request: Request, researcher: ResearcherUser, session: SessionDep) -> Response:
    assert researcher.user.id is not None
    return render(request, "research/studies.html",
                  {"studies": service.studies_for(session, user_id=researcher.user.id)})


def _new_study_page(request: Request, session: Session, *, values: dict[str, object],
                    errors: dict[str, str]) -> Response:
    return render(request, "research/new_study.html", {
        "cohorts": community.cohorts(session), "consent_keys": service.consent_keys(session),
        "instruments": service.instrument_titles(session), "waves": service.WAVES,
        "values": values, "errors": errors,
    }, status_code=400 if errors else 200)


@router.get("/research/studies/new")
def new_study_page(request: Request, researcher: ResearcherUser, session: SessionDep) -> Response:
    return _new_study_page(request, session, values={"consent": "telos"}, errors={})


@router.post("/research/studies")
def create_study(
    request: Request, researcher: ResearcherUser, session: SessionDep, form: FormDep
) -> Response:
    assert researcher.user.id is not None
    values = form_values(form)
    data, errors = validate(StudyForm, values)
    if data is not None:
        errors = _study_choice_errors(session, data)
    if data is None or errors:
        return _new_study_page(request, session, values={**kept(form), **values}, errors=errors)
    try:
        study = service.create_study(
            session, title=data.title, slug=data.slug, description=data.description,
            cohort_ids=data.cohorts, consent_key=data.consent, battery=data.battery(),
            free_text=data.free_text, creator_id=researcher.user.id)
    except service.FieldProblem as problem:
        return _new_study_page(request, session, values={**kept(form), **values},
                               errors={problem.field: problem.message})
    return redirect(request, f"/research/studies/{study.id}",
                    message=f"Study “{study.title}” created.")


def _study_choice_errors(session: Session, data: StudyForm) -> dict[str, str]:
    errors: dict[str, str] = {}
    cohorts = {cohort.id for cohort in community.cohorts(session)}
    if any(cohort_id not in cohorts for cohort_id in data.cohorts):
        errors["cohorts"] = "Choose among the cohorts listed."
    if data.consent not in service.consent_keys(session):
        errors["consent"] = "Choose one of the loaded consent documents."
    known = service.instrument_titles(session)
    for wave, keys in data.battery().items():
        if any(key not in known for key in keys):
            errors[wave] = "Choose among the instruments listed."
    return errors


def _study(session: Session, researcher: ResearcherUser, study_id: int) -> Study:
    assert researcher.user.id is not None
    return service.study_for(session, study_id=study_id, user_id=researcher.user.id)


def _study_page(request: Request, session: Session, study: Study, researcher: ResearcherUser,
                *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status_code: int = 400) -> Response:
    assert study.id is not None and researcher.user.id is not None
    files = export_files.files_of(session, study_id=study.id, user_id=researcher.user.id)
    return render(request, "research/study.html", {
        "study": study, "cohorts": service.cohorts_of(session, study),
        "researchers": service.researchers_of(session, study),
        "instruments": service.instrument_titles(session), "waves": study_waves(study),
        "values": values or {}, "errors": errors or {},
        "files": files[:STUDY_PAGE_FILES], "more_files": len(files) > STUDY_PAGE_FILES,
        "moment": now(), "arms": arms.cohort_arms(session, study), "arm_choices": arms.CHOICES,
        "all_waves": service.WAVES, "wave_labels": service.WAVE_LABELS,
        "minutes": _battery_minutes(session, study), "item_counts": _item_counts(session),
    }, status_code=status_code if errors else 200)


@router.get("/research/studies/{study_id}")
def study_page(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int
) -> Response:
    return _study_page(request, session, _study(session, researcher, study_id), researcher)


@router.post("/research/studies/{study_id}/battery")
def change_battery(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int,
    form: FormDep,
) -> Response:
    assert researcher.user.id is not None
    study = _study(session, researcher, study_id)
    texts = {wave: str(form.get(wave, "")) for wave in service.WAVES}
    try:
        battery = service.read_battery(texts, service.instrument_titles(session))
        service.set_battery(session, study=study, battery=battery, actor_id=researcher.user.id,
                            version=_version(form.get("version")))
    except service.FieldProblem as problem:
        return _study_page(request, session, study, researcher, values=texts,
                           errors={problem.field: problem.message})
    except StaleEdit as stale:
        return _study_page(request, session, study, researcher,
                           errors={"battery": stale.message}, status_code=409)
    return redirect(request, f"/research/studies/{study.id}",
                    message="Questionnaires changed. Members taking part are asked them from "
                            "their next questionnaire on; answers already sent are kept.")


def _version(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0


def _battery_minutes(session: Session, study: Study) -> dict[str, int]:
    """The estimated minutes of each wave of the study's battery."""
    minutes = {}
    for wave, keys in study.battery.items():
        instruments = [surveys.instrument_of(surveys.latest_instrument(session, key))
                       for key in keys]
        minutes[wave] = batteries.minutes(batteries.estimated_seconds(instruments))
    return minutes


def _item_counts(session: Session) -> dict[str, int]:
    return {key: len(surveys.instrument_of(surveys.latest_instrument(session, key)).items)
            for key in service.instrument_titles(session)}


@router.post("/research/studies/{study_id}/researchers")
def add_researcher(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int,
    form: FormDep,
) -> Response:
    assert researcher.user.id is not None
    study = _study(session, researcher, study_id)
    data, errors = validate(ResearcherForm, form)
    if data is not None:
        try:
            colleague = service.add_researcher(session, study=study, email=data.email,
                                               actor_id=researcher.user.id)
        except service.FieldProblem as problem:
            errors = {problem.field: problem.message}
        else:
            return redirect(request, f"/research/studies/{study.id}",
                            message=f"{colleague.display_name} can now see this study.")
    return _study_page(request, session, study, researcher, values=kept(form), errors=errors)


@router.post("/research/studies/{study_id}/cohorts/{cohort_id}/arm")
def set_arm(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int,
    cohort_id: int, form: FormDep,
) -> Response:
    assert researcher.user.id is not None
    study = _study(session, researcher, study_id)
    arm, was = str(form.get("arm", "")), str(form.get("was", ""))
    try:
        changed = arms.set_arm(session, study=study, cohort_id=cohort_id, arm=arm, was=was,
                               actor_id=researcher.user.id)
    except (arms.UnknownArm, StaleEdit) as problem:
        message = problem.message if isinstance(problem, StaleEdit) else f"Not saved: {problem}."
        return _study_page(request, session, study, researcher,
                           errors={f"arm-{cohort_id}": message})
    return redirect(request, f"/research/studies/{study.id}",
                    message=("Arm saved; the outcome report is being computed again."
                             if changed else "The cohort already was in that arm."))


# Editing a study and who is on it -------------------------------------------------------


def _edit_page(request: Request, session: Session, study: Study, *, values: dict[str, object],
               errors: dict[str, str], status_code: int = 400) -> Response:
    return render(request, "research/edit_study.html", {
        "study": study, "cohorts": community.cohorts(session), "values": values,
        "errors": errors,
    }, status_code=status_code if errors else 200)


def _details_of(session: Session, study: Study) -> dict[str, object]:
    return {"title": study.title, "description": study.description,
            "cohorts": [str(cohort_id) for cohort_id in service.cohort_ids_of(session, study)],
            "free_text": "on" if study.free_text else "", "version": str(study.version)}


@router.get("/research/studies/{study_id}/edit")
def edit_study_page(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int
) -> Response:
    study = _study(session, researcher, study_id)
    return _edit_page(request, session, study, values=_details_of(session, study), errors={})


@router.post("/research/studies/{study_id}/edit")
def edit_study(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int,
    form: FormDep,
) -> Response:
    assert researcher.user.id is not None
    study = _study(session, researcher, study_id)
    values: dict[str, object] = {**kept(form), **form_values(form)}
    data, errors = validate(EditStudyForm, values)
    known = {cohort.id for cohort in community.cohorts(session)}
    if data is not None and any(cohort_id not in known for cohort_id in data.cohorts):
        errors = {"cohorts": "Choose among the cohorts listed."}
    if data is None or errors:
        return _edit_page(request, session, study, values=values, errors=errors)
    try:
        service.update_study(session, study=study, title=data.title,
                             description=data.description, cohort_ids=data.cohorts,
                             free_text=data.free_text, version=data.version,
                             actor_id=researcher.user.id)
    except StaleEdit as stale:
        # Their input stays; the version is the current one, so saving again is a choice.
        return _edit_page(request, session, study, status_code=409,
                          values={**values, "version": str(study.version)},
                          errors={"__all__": f"{stale.message} It is now titled "
                                             f"“{study.title}”."})
    return redirect(request, f"/research/studies/{study.id}",
                    message="The study's details are saved.")


@router.post("/research/studies/{study_id}/researchers/{user_id}/remove")
def remove_researcher(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int,
    user_id: int,
) -> Response:
    assert researcher.user.id is not None
    study = _study(session, researcher, study_id)
    names = {colleague.user_id: colleague.display_name
             for colleague in service.researchers_of(session, study)}
    try:
        service.remove_researcher(session, study=study, user_id=user_id,
                                  actor_id=researcher.user.id)
    except (service.FieldProblem, StaleEdit) as problem:
        return _study_page(request, session, study, researcher,
                           errors={"remove": problem.message},
                           status_code=409 if isinstance(problem, StaleEdit) else 400)
    if user_id == researcher.user.id:
        return redirect(request, "/research",
                        message=f"You are no longer on the study “{study.title}”.")
    return redirect(request, f"/research/studies/{study.id}",
                    message=f"{names.get(user_id, 'The researcher')} can no longer see "
                            "this study.")


@router.get("/research/studies/{study_id}/participants")
def participants_page(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int
) -> Response:
    study = _study(session, researcher, study_id)
    census = service.census(session, study)
    return render(request, "research/participants.html", {
        "study": study, "census": census, "waves": study_waves(study),
        "waves_done": service.waves_done(session, census.participants),
    })


# Exports --------------------------------------------------------------------------------


def _export_page(request: Request, session: Session, study: Study, researcher: ResearcherUser,
                 *, chosen: dict[str, list[str]], error: str = "") -> Response:
    assert study.id is not None and researcher.user.id is not None
    titles = service.instrument_titles(session)
    files = export_files.files_of(session, study_id=study.id, user_id=researcher.user.id)
    return render(request, "research/export.html", {
        "study": study, "formats": downloads.FORMATS.values(), "waves": study_waves(study),
        "instruments": {key: titles.get(key, key) for key in study_instruments(study)},
        "chosen": chosen, "error": error, "files": files,
        "busy": export_files.any_busy(files), "streamed": downloads.STREAMED,
        "moment": now(),
    }, block="files", status_code=400 if error else 200)


@router.get("/research/studies/{study_id}/export")
def export_page(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int
) -> Response:
    study = _study(session, researcher, study_id)
    return _export_page(request, session, study, researcher,
                        chosen={"wave": [], "instrument": []})


@router.post("/research/studies/{study_id}/export")
def export(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int,
    form: FormDep, sessions: ExportSessions, records: RecordSessions,
) -> Response:
    assert researcher.user.id is not None
    study = _study(session, researcher, study_id)
    values = form_values(form)
    chosen = {"wave": values["wave"], "instrument": values["instrument"]}
    fmt = downloads.export_format(str(values.get("format", "")))
    try:
        selection = select_part(study, waves=chosen["wave"], instruments=chosen["instrument"])
    except UnknownChoice as problem:
        return _export_page(request, session, study, researcher, chosen=chosen,
                            error=f"That is {problem}.")
    if fmt.name in downloads.STREAMED:
        return _download(downloads.prepare(
            session, study=study, fmt_name=fmt.name, selection=selection,
            actor_id=researcher.user.id, actor="web"), sessions, records)
    export_files.request_file(session, study=study, fmt_name=fmt.name, selection=selection,
                              chosen=chosen, user_id=researcher.user.id)
    return redirect(request, f"/research/studies/{study.id}/export",
                    message=f"Your file is being built ({fmt.label}). It appears under "
                            "“Your files” below when it is ready.")


def _download(prepared: downloads.Prepared, sessions: downloads.SessionFactory,
              records: downloads.SessionFactory) -> Response:
    headers = {"Content-Disposition": _attachment(prepared.filename),
               "X-Export-Rows": str(prepared.rows)}
    return StreamingResponse(downloads.body(prepared, sessions, records),
                             media_type=prepared.media_type, headers=headers)


def _attachment(name: str) -> str:
    return f"attachment; filename*=UTF-8''{quote(name)}"


@router.get("/research/studies/{study_id}/exports/{file_id}")
def export_file(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int,
    file_id: int,
) -> Response:
    assert researcher.user.id is not None
    study = _study(session, researcher, study_id)
    assert study.id is not None
    record = export_files.file_for(session, study_id=study.id, file_id=file_id,
                                   user_id=researcher.user.id)
    path = export_files.downloadable(record, settings_of(request))
    media_type = downloads.export_format(record.format).media_type
    return FileResponse(path, media_type=media_type, headers={
        "Content-Disposition": _attachment(record.file_name),
        "X-Export-Rows": str(record.rows)})


# Outcomes -------------------------------------------------------------------------------


@router.get("/research/studies/{study_id}/outcomes")
def outcomes_page(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int
) -> Response:
    study = _study(session, researcher, study_id)
    assert study.id is not None
    cached = outcome_cache.cached(session, study_id=study.id)
    if cached is None:
        outcome_cache.ask(session, study_id=study.id)
    context = cached.context() if cached is not None else {}
    return render(request, "research/outcomes.html", {
        "study": study, "cached": cached, "computing": cached is None or cached.computing,
        **context,
    }, block="report")


@router.post("/research/studies/{study_id}/outcomes/recompute")
def recompute_outcomes(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int
) -> Response:
    study = _study(session, researcher, study_id)
    assert study.id is not None
    outcome_cache.ask(session, study_id=study.id)
    return redirect(request, f"/research/studies/{study.id}/outcomes",
                    message="The report is being computed again; this page shows the new "
                            "one when it is ready.")
