"""Turning reminder e-mails off from the link in one, without signing in.

The link only shows a page with a button: mail clients that open links to scan them
must not turn anyone's reminders off.
"""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app.accounts.models import User
from app.deps import SessionDep, SettingsDep, Visitor
from app.reminders import service
from app.settings import Settings
from app.web import redirect, render

router = APIRouter()

BAD_LINK = (
    "This link to turn off reminders is not valid: it may have been cut short or changed "
    "when it was copied. Nothing was changed. Copy the whole link from the e-mail, or sign "
    "in and untick “Send me reminder e-mails” on your profile."
)


def _user(session: Session, settings: Settings, token: str) -> User | None:
    return service.user_of_token(session, settings, token=token)


def _bad_link(request: Request) -> Response:
    return render(request, "errors/problem.html",
                  {"title": "This link does not work", "message": BAD_LINK}, status_code=400)


@router.get("/reminders/off/{token}")
def opt_out_page(request: Request, visitor: Visitor, session: SessionDep,
                 settings: SettingsDep, token: str) -> Response:
    user = _user(session, settings, token)
    if user is None:
        return _bad_link(request)
    return render(request, "reminders/off.html", {"token": token, "off": not user.reminders})


@router.post("/reminders/off/{token}")
def opt_out(request: Request, visitor: Visitor, session: SessionDep, settings: SettingsDep,
            token: str) -> Response:
    user = _user(session, settings, token)
    if user is None:
        return _bad_link(request)
    service.set_reminders(session, user=user, on=False)
    return redirect(request, f"/reminders/off/{token}",
                    message="Done: Telos sends you no more reminder e-mails.")
