"""The member's walk: the task list, one step per page, autosave, and "My purpose"."""

import re
import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import mail
from app.accounts import consent
from app.accounts.service import Principal
from app.deps import FormDep, MemberUser, SessionDep, SettingsDep
from app.errors import NotFound
from app.forms import record_id
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.definitions import Journey, Step
from app.journeys.kinds import StepContext, kind_of
from app.journeys.models import Enrolment, StepAnswer
from app.journeys.service import SaveConflict, Status
from app.settings import Settings
from app.web import redirect, render

router = APIRouter()


def _enrolment(session: Session, member: Principal) -> Enrolment:
    assert member.user.id is not None
    enrolment = journeys.current_enrolment(session, user_id=member.user.id)
    if enrolment is None:
        raise NotFound("You have not started a journey yet. Start one from your journey page.")
    return enrolment


@router.get("/journey")
def journey_home(request: Request, member: MemberUser, session: SessionDep) -> Response:
    assert member.user.id is not None
    enrolment = journeys.current_enrolment(session, user_id=member.user.id)
    consent.require_consent(session, user_id=member.user.id, then="/journey")
    if enrolment is None:
        return render(request, "journeys/start.html",
                      {"journeys": journeys.available_journeys(session)})
    return render(request, "journeys/home.html", {
        "journey": journeys.journey_of(session, enrolment),
        "progress": journeys.enrolment_progress(session, enrolment),
        "enrolment": enrolment,
    })


@router.post("/journey/start")
def start_journey(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep
) -> Response:
    assert member.user.id is not None
    consent.require_consent(session, user_id=member.user.id, then="/journey")
    journeys.enrol(session, user_id=member.user.id, journey_key=str(form.get("journey", "")))
    return redirect(request, "/journey", message="Your journey has begun. Take your time.")


@router.post("/journey/leave")
def leave_journey(request: Request, member: MemberUser, session: SessionDep) -> Response:
    assert member.user.id is not None
    # Only a journey under way can be left; a finished one stays finished.
    enrolment = journeys.active_enrolment(session, user_id=member.user.id)
    if enrolment is None:
        raise NotFound("You are not on a journey now, so there is none to leave.")
    journeys.leave(session, enrolment=enrolment)
    return redirect(request, "/journey",
                    message="You have left the journey. What you wrote is kept.")


def _step_or_404(journey: Journey, step_id: str) -> Step:
    step = journey.step(step_id)
    if step is None:
        raise NotFound("This journey has no such step.")
    return step


def _step_page(
    request: Request, ctx: StepContext, step: Step, *, data: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None, answer: StepAnswer | None = None,
    conflict: StepAnswer | None = None, status_code: int = 200,
    progress: journeys.Progress | None = None, editor: str | None = None,
    shown_instead: dict[str, Any] | None = None,
) -> Response:
    """The step's page; a re-render after a refused save keeps the page's `editor`, so its
    next autosave is still this page's. `shown_instead` replaces parts of the kind's own
    context (a match step's preferences as the member typed them)."""
    assert ctx.enrolment.id is not None
    progress = progress or journeys.enrolment_progress(ctx.session, ctx.enrolment)
    if answer is None:
        answer = journeys.answer_for(ctx.session, enrolment_id=ctx.enrolment.id, step_id=step.id)
    shown = data if data is not None else (answer.data if answer else {})
    before, after = progress.neighbours(step.id)
    return render(request, f"journeys/steps/{step.kind}.html", {
        "step": step, "data": shown, "errors": errors or {}, "answer": answer,
        "version": conflict.version if conflict else (answer.version if answer else 0),
        "editor": editor or secrets.token_hex(8), "conflict": conflict, "progress": progress,
        "item": progress.of(step.id), "before": before, "after": after,
        "journey": journeys.journey_of(ctx.session, ctx.enrolment),
        **kind_of(step).extra(ctx, step, shown), **(shown_instead or {}),
    }, status_code=status_code)


def _editor_of(form: Any) -> str | None:
    """The editor id the page was given, if it is one Telos writes."""
    editor = str(form.get("editor", ""))
    return editor if EDITOR.fullmatch(editor) else None


EDITOR = re.compile(r"[0-9a-f]{16}")


def match_step_refused(
    request: Request, session: Session, member: Principal, settings: Settings, *,
    step_id: str, context: dict[str, Any], errors: dict[str, str],
) -> Response | None:
    """The journey's match step again, with the matching form's errors and what the member
    typed, or None when the member cannot open that step now."""
    ctx = _context(session, member, settings)
    step = journeys.journey_of(session, ctx.enrolment).step(step_id)
    progress = journeys.enrolment_progress(session, ctx.enrolment)
    if step is None or step.kind != "match" or progress.of(step_id).status == Status.locked:
        return None
    return _step_page(request, ctx, step, errors=errors, shown_instead=context,
                      progress=progress, status_code=400)


def _context(session: Session, member: Principal, settings: Settings) -> StepContext:
    return StepContext(session=session, enrolment=_enrolment(session, member),
                       user=member.user, settings=settings)


@router.get("/journey/steps/{step_id}")
def step_page(
    request: Request, member: MemberUser, session: SessionDep, settings: SettingsDep,
    step_id: str,
) -> Response:
    ctx, step, progress = _open_step(session, member, settings, step_id)
    if progress.of(step_id).status == Status.locked:
        return _locked(request, session, ctx.enrolment)
    if ctx.enrolment.current_step_id != step_id:
        ctx.enrolment.current_step_id = step_id
        session.add(ctx.enrolment)
    return _step_page(request, ctx, step, progress=progress)


def _open_step(
    session: Session, member: Principal, settings: Settings, step_id: str
) -> tuple[StepContext, Step, journeys.Progress]:
    """The member's step with its context and the journey's progress, or 404."""
    ctx = _context(session, member, settings)
    step = _step_or_404(journeys.journey_of(session, ctx.enrolment), step_id)
    return ctx, step, journeys.enrolment_progress(session, ctx.enrolment)


def _locked(request: Request, session: Session, enrolment: Enrolment) -> Response:
    upcoming = journeys.enrolment_progress(session, enrolment).next_step
    return render(request, "journeys/locked.html", {"next": upcoming}, status_code=409)


@router.post("/journey/steps/{step_id}")
def save_step(
    request: Request, member: MemberUser, session: SessionDep, settings: SettingsDep,
    form: FormDep, step_id: str,
) -> Response:
    ctx, step, progress = _open_step(session, member, settings, step_id)
    if progress.of(step_id).status == Status.locked:
        return _locked(request, session, ctx.enrolment)
    kind = kind_of(step)
    action = str(form.get("action", "save"))
    data, errors = _read(step, form)
    if errors:
        return _step_page(request, ctx, step, data=data, errors=errors, status_code=400,
                          editor=_editor_of(form))
    finishing = action == "continue"
    missing = kind.missing(ctx, step, data) if finishing else {}
    try:
        answer = _store(ctx, step, data, form, done=finishing and not missing)
    except SaveConflict as conflict:
        return _step_page(request, ctx, step, data=data, conflict=conflict.saved,
                          status_code=409, editor=_editor_of(form))
    if missing:
        return _step_page(request, ctx, step, data=data, errors=missing, answer=answer,
                          status_code=400, editor=_editor_of(form))
    if finishing:
        kind.on_done(ctx, step, data)
        mail.queue(session, ctx.mails)
        return _after_done(request, ctx, step)
    if action == "back":
        before, _after = progress.neighbours(step_id)
        return redirect(request, f"/journey/steps/{before.id}" if before else "/journey")
    return redirect(request, f"/journey/steps/{step_id}{kind.landing(step, action)}",
                    message=f"Saved at {_local_time(member, answer)}.")


def _store(
    ctx: StepContext, step: Step, data: dict[str, Any], form: Any, *, done: bool
) -> StepAnswer | None:
    if not kind_of(step).stores_answer:
        if done:
            journeys.mark_done(ctx.session, enrolment=ctx.enrolment, step_id=step.id)
        return None
    return journeys.save_answer(
        ctx.session, enrolment=ctx.enrolment, step_id=step.id, data=data, done=done,
        base_version=_version(form) or 0, editor=str(form.get("editor", ""))[:64],
    )


def _after_done(request: Request, ctx: StepContext, step: Step) -> Response:
    if journeys.complete_if_finished(ctx.session, enrolment=ctx.enrolment):
        return redirect(request, "/purpose",
                        message="You have walked the whole journey. Here is where you stand.")
    progress = journeys.enrolment_progress(ctx.session, ctx.enrolment)
    _before, after = progress.neighbours(step.id)
    upcoming = progress.next_step
    target = after if after is not None else (upcoming.step if upcoming else None)
    return redirect(request, f"/journey/steps/{target.id}" if target else "/journey")


@router.post("/journey/steps/{step_id}/autosave")
def autosave_step(
    request: Request, member: MemberUser, session: SessionDep, settings: SettingsDep,
    form: FormDep, step_id: str,
) -> Response:
    """htmx saves the draft while the member types; answers with a quiet status line."""
    ctx = _context(session, member, settings)
    step = _step_or_404(journeys.journey_of(session, ctx.enrolment), step_id)
    if journeys.enrolment_progress(session, ctx.enrolment).of(step_id).status == Status.locked:
        return render(request, "journeys/_autosave.html", {"state": "locked"}, status_code=409)
    data, errors = _read(step, form)
    if errors:
        return render(request, "journeys/_autosave.html",
                      {"state": "invalid", "errors": errors}, status_code=400)
    try:
        answer = _store(ctx, step, data, form, done=False)
    except SaveConflict:
        return render(request, "journeys/_autosave.html", {"state": "conflict"},
                      status_code=409)
    return render(request, "journeys/_autosave.html", {
        "state": "saved", "answer": answer,
        "time": _local_time(member, answer) if answer else "",
    })


def _local_time(member: Principal, answer: StepAnswer | None) -> str:
    from zoneinfo import ZoneInfo

    if answer is None:
        return ""
    return answer.updated_at.astimezone(ZoneInfo(member.user.time_zone)).strftime("%H:%M")


STRANGE_VERSION = ("This page's note of your last save is not one Telos wrote. "
                   "Copy your text, reload the page and paste it back.")


def _read(step: Step, form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The step's fields, and a check of the version the form was loaded at (a number too
    large for the column would otherwise fail in the database)."""
    data, errors = kind_of(step).read(step, form)
    if _version(form) is None:
        errors = {**errors, "__all__": STRANGE_VERSION}
    return data, errors


def _version(form: Any) -> int | None:
    return record_id(form.get("version") or "0")


@router.get("/purpose")
def my_purpose(request: Request, member: MemberUser, session: SessionDep) -> Response:
    assert member.user.id is not None
    enrolment = journeys.current_enrolment(session, user_id=member.user.id,
                                           including_left=True)
    if enrolment is None or enrolment.id is None:
        raise NotFound("You have not started a journey yet. Start one from your journey page.")
    statements.mark_answers_seen(session, requester_id=member.user.id)
    return render(request, "journeys/purpose.html", {
        "versions": statements.history(session, enrolment_id=enrolment.id),
        "values": _chosen_values(session, enrolment),
        "commitments": statements.commitments(session, enrolment_id=enrolment.id),
        "feedback": statements.feedback_on(session, enrolment_id=enrolment.id),
        "enrolment": enrolment,
    })


def _chosen_values(session: Session, enrolment: Enrolment) -> list[str]:
    """The values the member chose and ranked, as labels, from every values-sort step."""
    assert enrolment.id is not None
    journey = journeys.journey_of(session, enrolment)
    labels: list[str] = []
    for step in journey.steps():
        if step.kind != "values_sort":
            continue
        answer = journeys.answer_for(session, enrolment_id=enrolment.id, step_id=step.id)
        names = {value.id: value.label for value in step.values}
        labels += [names[value] for value in (answer.data.get("ranking", []) if answer else [])
                   if value in names]
    return labels


@router.post("/purpose/commitments/{commitment_id}")
def mark_commitment(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep,
    commitment_id: int,
) -> Response:
    assert member.user.id is not None
    commitment = statements.own_commitment(session, commitment_id=commitment_id,
                                           user_id=member.user.id)
    done = form.get("done") == "yes"
    statements.set_done(session, commitment=commitment, done=done)
    message = "Marked as done. Well done." if done else "Marked as not done yet."
    return redirect(request, "/purpose", message=message)
