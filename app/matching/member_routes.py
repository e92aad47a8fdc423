"""Members: their preferences, suggested mentors, a direct request; both sides: "a good fit?"."""

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import mail
from app.deps import FormDep, MatchPartyUser, MemberUser, SessionDep, SettingsDep
from app.errors import TelosError
from app.forms import record_id, validate
from app.journeys import routes as journey_routes
from app.matching import service as matching
from app.matching.forms import PreferencesForm, form_data
from app.web import redirect, render, safe_next

router = APIRouter()
PREFERENCE_LISTS = ("themes", "languages", "wishes")


@router.get("/my-mentor")
def my_mentor(
    request: Request, member: MemberUser, session: SessionDep, settings: SettingsDep
) -> Response:
    return render(request, "matching/my_mentor.html", {
        **matching.member_page(session, user=member.user, encoder_name=settings.encoder),
        "errors": {}, "back_to": "/my-mentor",
    })


@router.post("/my-mentor/preferences")
def save_preferences(
    request: Request, member: MemberUser, session: SessionDep, settings: SettingsDep,
    form: FormDep,
) -> Response:
    assert member.user.id is not None
    back_to = safe_next(str(form.get("next", "")), "/my-mentor")
    submitted = form_data(form, lists=PREFERENCE_LISTS)
    data, errors = validate(PreferencesForm, submitted)
    if data is not None and set(data.themes) - matching.theme_keys(session):
        errors = {"themes": "Choose themes from the list."}
    if data is None or errors:
        kept = {name: submitted.get(name, "") for name in (*PREFERENCE_LISTS, "wants")}
        return _preferences_refused(request, member, session, settings, back_to=back_to,
                                    kept=kept, errors=errors)
    matching.save_preferences(session, user_id=member.user.id, themes=data.themes,
                              languages=data.languages, wishes=data.wishes, wants=data.wants)
    return redirect(request, back_to,
                    message="Saved. The suggestions below now take your choices into account.")


def _preferences_refused(
    request: Request, member: MemberUser, session: SessionDep, settings: SettingsDep, *,
    back_to: str, kept: dict[str, object], errors: dict[str, str],
) -> Response:
    """The page the form was sent from (the journey's match step, or /my-mentor) again,
    with the messages and what the member chose."""
    step_id = urlsplit(back_to).path.removeprefix(STEP_PAGE)
    if back_to.startswith(STEP_PAGE):
        step = journey_routes.match_step_refused(
            request, session, member, settings, step_id=step_id,
            context={"preferences": kept}, errors=errors)
        if step is not None:
            return step
    page = matching.member_page(session, user=member.user, encoder_name=settings.encoder)
    return render(request, "matching/my_mentor.html", {
        **page, "preferences": kept, "errors": errors, "back_to": back_to,
    }, status_code=400)


STEP_PAGE = "/journey/steps/"


@router.post("/my-mentor/request")
def request_mentor(
    request: Request, member: MemberUser, session: SessionDep, settings: SettingsDep,
    form: FormDep,
) -> Response:
    mentor_id = record_id(form.get("mentor_id"))
    if mentor_id is None:
        raise TelosError("Choose a mentor from the suggestions.")
    _match, mails = matching.request_mentor(session, member=member.user, mentor_id=mentor_id,
                                            base_url=settings.base_url)
    mail.queue(session, mails)
    return redirect(request, safe_next(str(form.get("next", "")), "/my-mentor"),
                    message=REQUEST_SENT if mails else REQUEST_ALREADY_SENT)


REQUEST_SENT = "Your request is on its way. You will hear by e-mail once the mentor answers."
REQUEST_ALREADY_SENT = ("Your request to this mentor was already on its way, so it was not "
                        "sent twice. You will hear by e-mail once the mentor answers.")


@router.post("/my-mentor/requests/{match_id}/withdraw")
def withdraw_request(
    request: Request, member: MemberUser, session: SessionDep, form: FormDep, match_id: int,
) -> Response:
    mail.queue(session, matching.withdraw_request(session, member=member.user,
                                                  match_id=match_id))
    return redirect(request, safe_next(str(form.get("next", "")), "/my-mentor"),
                    message="Your request is withdrawn and the mentor has been told. You can "
                            "ask another mentor.")


@router.post("/matches/{match_id}/fit")
def answer_fit(
    request: Request, person: MatchPartyUser, session: SessionDep, form: FormDep, match_id: int
) -> Response:
    assert person.user.id is not None
    match = matching.own_match(session, match_id=match_id, user_id=person.user.id)
    answer = form.get("fit")
    if answer not in ("yes", "no"):
        raise TelosError("Answer yes or no.")
    matching.answer_fit(session, match=match, user_id=person.user.id, fit=answer == "yes")
    default = "/mentor/requests" if person.user.id == match.mentor_id else "/my-mentor"
    return redirect(request, safe_next(str(form.get("next", "")), default), message=(
        "Thank you. Glad it fits." if answer == "yes" else
        "Thank you for saying so. The match has ended; the member will be matched again."))
