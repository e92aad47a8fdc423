"""The member answers a wave: one instrument per page, saved per page, resumable."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.service import Principal
from app.deps import FormDep, MemberUser, SessionDep
from app.errors import NotFound
from app.journeys import service as journeys
from app.journeys.definitions import SurveyStep, Wave
from app.journeys.models import Enrolment
from app.surveys import waves
from app.web import redirect, render

router = APIRouter()


def _wave(value: str) -> Wave:
    try:
        return Wave(value)
    except ValueError:
        raise NotFound("There is no such survey wave.") from None


def _enrolment(session: Session, member: Principal, wave: Wave) -> Enrolment:
    assert member.user.id is not None
    # A follow-up belongs to a finished journey, which need not be the current one.
    earlier = waves.followup_enrolment(session, user_id=member.user.id) \
        if wave == Wave.followup else None
    enrolment = earlier or journeys.current_enrolment(session, user_id=member.user.id)
    if enrolment is None:
        raise NotFound("Surveys are part of a journey; start one first.")
    return enrolment


def _survey_step_id(session: Session, enrolment: Enrolment, wave: Wave) -> str | None:
    journey = journeys.journey_of(session, enrolment)
    return next((step.id for step in journey.steps()
                 if isinstance(step, SurveyStep) and step.wave == wave), None)


@router.get("/surveys/{wave_name}")
def wave_page(
    request: Request, member: MemberUser, session: SessionDep, wave_name: str
) -> Response:
    wave = _wave(wave_name)
    enrolment = _enrolment(session, member, wave)
    return render(request, "surveys/wave.html", {
        "wave": waves.wave_overview(session, enrolment=enrolment, wave=wave),
        "step_id": _survey_step_id(session, enrolment, wave),
    })


def _instrument_page(
    request: Request, session: Session, enrolment: Enrolment, wave: Wave, key: str, *,
    answers: dict[str, object] | None = None, errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    response = waves.open_response(session, enrolment=enrolment, wave=wave, key=key)
    overview = waves.wave_overview(session, enrolment=enrolment, wave=wave)
    keys = [item.key for item in overview.items]
    return render(request, "surveys/instrument.html", {
        "instrument": waves.instrument_for(session, response), "response": response,
        "answers": response.answers if answers is None else answers, "errors": errors or {},
        "wave": overview, "position": keys.index(key) + 1, "count": len(keys),
        "declined": waves.DECLINED, "option_key": waves.option_key,
    }, status_code=status_code)


@router.get("/surveys/{wave_name}/{key}")
def instrument_page(
    request: Request, member: MemberUser, session: SessionDep, wave_name: str, key: str
) -> Response:
    wave = _wave(wave_name)
    return _instrument_page(request, session, _enrolment(session, member, wave), wave, key)


@router.post("/surveys/{wave_name}/{key}")
def answer_instrument(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep,
    wave_name: str, key: str,
) -> Response:
    wave = _wave(wave_name)
    enrolment = _enrolment(session, member, wave)
    response = waves.open_response(session, enrolment=enrolment, wave=wave, key=key)
    instrument = waves.instrument_for(session, response)
    answers, errors = waves.read_answers(instrument, form)
    if errors:
        return _instrument_page(request, session, enrolment, wave, key,
                                answers={**response.answers, **answers}, errors=errors,
                                status_code=400)
    waves.save_draft(session, response=response, answers=answers)
    if form.get("action") != "send":
        return redirect(request, "/home", message="Your answers are saved. Continue your "
                        "check-in from here whenever you like.")
    missing = waves.unanswered(instrument, response.answers)
    if missing:
        return _instrument_page(request, session, enrolment, wave, key, errors=missing,
                                status_code=400)
    waves.submit(session, response=response, instrument=instrument)
    return _next_page(request, session, enrolment, wave)


def _next_page(request: Request, session: Session, enrolment: Enrolment, wave: Wave) -> Response:
    overview = waves.wave_overview(session, enrolment=enrolment, wave=wave)
    if overview.next_key:
        return redirect(request, f"/surveys/{wave.value}/{overview.next_key}",
                        message="Sent. On to the next one.")
    thanks = "Thank you: the questionnaire is complete."
    step_id = _survey_step_id(session, enrolment, wave)
    if step_id is None:
        return redirect(request, "/journey", message=thanks)
    # The questionnaire is the whole of its step: sending it does the step.
    journeys.mark_done(session, enrolment=enrolment, step_id=step_id)
    if journeys.complete_if_finished(session, enrolment=enrolment):
        return redirect(request, "/purpose",
                        message="You have walked the whole journey. Here is where you stand.")
    return redirect(request, f"/journey/steps/{step_id}", message=thanks)
