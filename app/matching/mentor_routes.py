"""Mentors: their own profile, requests to accept or decline, and taking no new mentees."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import mail
from app.accounts.forms import LOCALES
from app.accounts.service import Principal
from app.community import service as community
from app.deps import FormDep, MentorUser, SessionDep, SettingsDep
from app.errors import NotFound
from app.forms import kept, validate
from app.matching import service as matching
from app.matching.forms import DeclineForm, MentorProfileForm, form_data
from app.matching.models import Match, MentorProfile
from app.web import redirect, render

router = APIRouter()
PROFILE_LISTS = ("languages", "themes", "offers")


def _profile_values(profile: MentorProfile | None) -> dict[str, object]:
    if profile is None:
        return {"capacity": "2", "accepting": "yes", "languages": [], "themes": [], "offers": []}
    return {"bio": profile.bio, "experience": profile.experience, "languages": profile.languages,
            "themes": profile.themes, "offers": profile.offers,
            "capacity": str(profile.capacity), "accepting": "yes" if profile.accepting else ""}


def _profile_page(
    request: Request, session: Session, *, values: dict[str, object],
    errors: dict[str, str] | None = None,
) -> Response:
    return render(request, "matching/mentor_profile.html", {
        "values": values, "errors": errors or {},
        "themes": [(theme.key, theme.label) for theme in community.themes(session)],
        "languages": LOCALES, "wishes": matching.WISHES,
    }, status_code=400 if errors else 200)


@router.get("/mentor/profile")
def profile_page(request: Request, mentor: MentorUser, session: SessionDep) -> Response:
    assert mentor.user.id is not None
    profile = matching.mentor_profile(session, user_id=mentor.user.id)
    return _profile_page(request, session, values=_profile_values(profile))


@router.post("/mentor/profile")
def save_profile(
    request: Request, mentor: MentorUser, session: SessionDep, form: FormDep
) -> Response:
    assert mentor.user.id is not None
    submitted = form_data(form, lists=PROFILE_LISTS)
    data, errors = validate(MentorProfileForm, submitted)
    if data is not None and set(data.themes) - matching.theme_keys(session):
        errors = {"themes": "Choose themes from the list."}
    if data is None or errors:
        values = {**kept(form), **{name: submitted[name] for name in PROFILE_LISTS}}
        return _profile_page(request, session, values=values, errors=errors)
    matching.save_mentor_profile(session, user_id=mentor.user.id, **data.model_dump())
    return redirect(request, "/mentor/requests", message="Your mentor profile is saved.")


@router.get("/mentor/requests")
def requests_page(request: Request, mentor: MentorUser, session: SessionDep) -> Response:
    assert mentor.user.id is not None
    return render(request, "matching/mentor_requests.html", {
        "mentees": matching.mentee_views(session, mentor_id=mentor.user.id),
        "profile": matching.mentor_profile(session, user_id=mentor.user.id),
        "errors": {}, "values": {},
    })


def _request_of(session: Session, mentor: Principal, match_id: int) -> Match:
    """A request only for the mentor it was sent to; anyone else's does not exist."""
    assert mentor.user.id is not None
    match = matching.own_match(session, match_id=match_id, user_id=mentor.user.id)
    if match.mentor_id != mentor.user.id:
        raise NotFound("There is no request for you at this address.")
    return match


@router.post("/mentor/requests/{match_id}/accept")
def accept(
    request: Request, mentor: MentorUser, session: SessionDep, settings: SettingsDep,
    match_id: int,
) -> Response:
    match = _request_of(session, mentor, match_id)
    mail.queue(session, matching.accept(session, match=match, base_url=settings.base_url))
    return redirect(request, "/mentor/requests",
                    message="Accepted. The member has been told and will hear from you.")


@router.post("/mentor/requests/{match_id}/decline")
def decline(
    request: Request, mentor: MentorUser, session: SessionDep, settings: SettingsDep,
    form: FormDep, match_id: int,
) -> Response:
    match = _request_of(session, mentor, match_id)
    data, errors = validate(DeclineForm, form)
    if data is None:
        assert mentor.user.id is not None
        return render(request, "matching/mentor_requests.html", {
            "mentees": matching.mentee_views(session, mentor_id=mentor.user.id),
            "profile": matching.mentor_profile(session, user_id=mentor.user.id),
            "errors": {f"reason-{match_id}": errors.get("reason", "")},
            "values": {f"reason-{match_id}": str(form.get("reason", ""))},
        }, status_code=400)
    mails = matching.decline(session, match=match, reason=data.reason, base_url=settings.base_url)
    mail.queue(session, mails)
    return redirect(request, "/mentor/requests",
                    message="Declined. The member goes back into the next round of matching.")


@router.post("/mentor/availability")
def availability(
    request: Request, mentor: MentorUser, session: SessionDep, form: FormDep
) -> Response:
    assert mentor.user.id is not None
    if matching.mentor_profile(session, user_id=mentor.user.id) is None:
        return redirect(request, "/mentor/profile",
                        message="Write your mentor profile first; it has the same choice.")
    accepting = form.get("accepting") == "yes"
    matching.set_accepting(session, user_id=mentor.user.id, accepting=accepting)
    return redirect(request, "/mentor/requests", message=(
        "You are taking new mentees again." if accepting
        else "You will not be suggested to new mentees until you say so here."))
