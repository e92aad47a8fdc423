"""The landing page and the signed-in home."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import text

from app.accounts.models import Role
from app.clock import now
from app.deps import CurrentUser, SessionDep, Visitor, open_access
from app.journeys import service as journeys
from app.journeys import statements
from app.journeys.definitions import Wave
from app.journeys.models import FeedbackStatus
from app.matching import service as matching
from app.research import export_files
from app.research import service as research
from app.surveys import waves
from app.web import redirect, render

router = APIRouter()


@router.get("/")
def landing(request: Request, visitor: Visitor) -> Response:
    if visitor:
        return redirect(request, "/home")
    return render(request, "home/landing.html")


@router.get("/home")
def home(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    assert user.user.id is not None
    enrolment = journeys.current_enrolment(session, user_id=user.user.id)
    waiting = [view for view in statements.inbox(session, reviewer_id=user.user.id)
               if view.request.status == FeedbackStatus.requested]
    journey = journeys.journey_of(session, enrolment) if enrolment else None
    # The follow-up of a journey finished before, too, once a newer one has started.
    earlier = waves.followup_enrolment(session, user_id=user.user.id)
    followup = waves.wave_overview(session, enrolment=earlier, wave=Wave.followup) \
        if earlier else None
    progress = journeys.enrolment_progress(session, enrolment) if enrolment else None
    return render(request, "home/home.html", {
        "enrolment": enrolment, "followup": followup,
        "journey": journey,
        "progress": progress,
        "wave_later": waves.waiting_for_wave(session, enrolment=enrolment, progress=progress)
        if enrolment and progress else None,
        "check_in": waves.check_in_under_way(session, enrolment=enrolment, progress=progress)
        if enrolment and progress else None,
        "overdue": statements.overdue(session, user=user.user) if user.has(Role.member) else [],
        "feedback_waiting": waiting,
        "feedback_answered": statements.unseen_answers(session, requester_id=user.user.id)
        if user.has(Role.member) else [],
        "research": _research(session, user_id=user.user.id)
        if user.has(Role.researcher) else None,
        "matching": matching.home_summary(
            session, user=user.user, member=user.has(Role.member), mentor=user.has(Role.mentor)),
    })


def _research(session: SessionDep, *, user_id: int) -> dict[str, object]:
    return {"studies": research.studies_for(session, user_id=user_id),
            "exports": export_files.latest_of(session, user_id=user_id), "moment": now()}


@router.get("/healthz", dependencies=[open_access])
def healthz(request: Request) -> Response:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execution_options(read_only=True).execute(text("SELECT 1"))
    except Exception:  # any failure to reach the database means unhealthy
        return Response('{"status": "database unreachable"}', status_code=503,
                        media_type="application/json")
    return Response('{"status": "ok"}', media_type="application/json")
