"""Researchers define studies over cohorts, see who takes part, export and read outcomes.

Every page is for researchers on the study only; for anyone else the study does not exist.
"""

from collections.abc import Callable, Iterator
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
from app.forms import kept, validate
from app.research import downloads, export_files, outcome_cache, service
from app.research.forms import ResearcherForm, StudyForm, form_values
from app.research.models import Study
from app.research.source import UnknownChoice, select_part, study_instruments, study_waves
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
                errors: dict[str, str] | None = None) -> Response:
    assert study.id is not None and researcher.user.id is not None
    files = export_files.files_of(session, study_id=study.id, user_id=researcher.user.id)
    return render(request, "research/study.html", {
        "study": study, "cohorts": service.cohorts_of(session, study),
        "researchers": service.researchers_of(session, study),
        "instruments": service.instrument_titles(session), "waves": study_waves(study),
        "values": values or {}, "errors": errors or {},
        "files": files[:STUDY_PAGE_FILES], "more_files": len(files) > STUDY_PAGE_FILES,
        "moment": now(),
    }, status_code=400 if errors else 200)


@router.get("/research/studies/{study_id}")
def study_page(
    request: Request, researcher: ResearcherUser, session: SessionDep, study_id: int
) -> Response:
    return _study_page(request, session, _study(session, researcher, study_id), researcher)


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
    form: FormDep, sessions: ExportSessions,
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
            actor_id=researcher.user.id, actor="web"), sessions)
    export_files.request_file(session, study=study, fmt_name=fmt.name, selection=selection,
                              chosen=chosen, user_id=researcher.user.id)
    return redirect(request, f"/research/studies/{study.id}/export",
                    message=f"Your file is being built ({fmt.label}). It appears under "
                            "“Your files” below when it is ready.")


def _download(prepared: downloads.Prepared,
              sessions: Callable[[], AbstractContextManager[Session]]) -> Response:
    headers = {"Content-Disposition": _attachment(prepared.filename),
               "X-Export-Rows": str(prepared.rows)}
    body: Iterator[bytes] = prepared.stream(sessions)
    return StreamingResponse(body, media_type=prepared.media_type, headers=headers)


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
