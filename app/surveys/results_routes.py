"""The member's own before/after page."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import MemberUser, SessionDep
from app.errors import NotFound
from app.journeys import service as journeys
from app.journeys.definitions import Wave
from app.surveys import results, waves
from app.web import render

router = APIRouter()


@router.get("/results")
def my_results(request: Request, member: MemberUser, session: SessionDep) -> Response:
    assert member.user.id is not None
    enrolment = journeys.current_enrolment(session, user_id=member.user.id)
    if enrolment is None:
        raise NotFound("Your results appear here after your journey's closing questionnaire.")
    sent = waves.wave_submitted(session, enrolment=enrolment, wave=Wave.post)
    changes = results.before_after(session, enrolment=enrolment) if sent else []
    return render(request, "surveys/results.html", {"changes": changes, "sent": sent})
