"""Managers invite mentors by e-mailed link; the invited person accepts it."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import mail
from app.accounts import service as accounts
from app.accounts.forms import InviteForm, SignupForm
from app.accounts.models import Role, User
from app.accounts.routes import _welcome
from app.deps import FormDep, ManagerUser, SessionDep, SettingsDep, Visitor
from app.errors import InvalidToken
from app.forms import kept, validate
from app.settings import Settings
from app.web import redirect, render

router = APIRouter()


def _invite_page(request: Request, session: SessionDep, **context: object) -> Response:
    status = 400 if context.get("errors") else 200
    pending = accounts.pending_invitations(session, role=Role.mentor)
    context = {"values": {}, "errors": {}, "pending": pending, **context}
    return render(request, "accounts/invite_mentors.html", context, status_code=status)


@router.get("/mentors/invitations")
def invitations_page(request: Request, manager: ManagerUser, session: SessionDep) -> Response:
    return _invite_page(request, session)


@router.post("/mentors/invitations")
def invite_mentor(
    request: Request, manager: ManagerUser, session: SessionDep, settings: SettingsDep,
    form: FormDep,
) -> Response:
    data, errors = validate(InviteForm, form)
    if data is None:
        return _invite_page(request, session, values=kept(form), errors=errors)
    token = accounts.create_invitation(
        session, email=data.email, role=Role.mentor, inviter=manager.user, settings=settings
    )
    mail.queue(session, [_invitation_mail(settings, manager.user, data.email, token)])
    return redirect(request, "/mentors/invitations",
                    message=f"Invitation sent to {data.email}.")


def _invitation_mail(settings: Settings, inviter: User, email: str, token: str) -> mail.Mail:
    body = (
        "Hello,\n\n"
        f"{inviter.display_name} invites you to be a mentor on Telos, where members of the "
        "community discover, refine and express their purpose. Mentors give a little of "
        "their time to listen and to comment on a member's purpose statement; you set how "
        "many mentees you take at once.\n\n"
        f"Accept the invitation here within {settings.invitation_days} days:\n\n"
        f"{settings.base_url}/invitations/{token}\n\n"
        "If you were not expecting this, you can ignore it.\n"
    )
    return mail.Mail(to=email, subject="You are invited to mentor on Telos", body=body)


@router.get("/invitations/{token}")
def invitation_page(
    request: Request, visitor: Visitor, session: SessionDep, token: str
) -> Response:
    try:
        invitation = accounts.open_invitation(session, token=token)
    except InvalidToken as invalid:
        return render(request, "errors/problem.html",
                      {"title": invalid.title, "message": invalid.message}, status_code=400)
    has_account = accounts.get_user_by_email(session, invitation.email) is not None
    return render(request, "accounts/invitation.html", {
        "invitation": invitation, "token": token, "has_account": has_account,
        "values": {"email": invitation.email}, "errors": {},
    })


@router.post("/invitations/{token}")
def accept_invitation(
    request: Request, visitor: Visitor, session: SessionDep, settings: SettingsDep,
    form: FormDep, token: str,
) -> Response:
    try:
        invitation = accounts.open_invitation(session, token=token)
        if visitor is not None:
            role = accounts.accept_invitation(session, token=token, user=visitor.user)
            return redirect(request, "/home", message=f"You now have the {role.value} role.")
    except InvalidToken as invalid:
        return render(request, "errors/problem.html",
                      {"title": invalid.title, "message": invalid.message}, status_code=400)
    data, errors = validate(SignupForm, {**form, "email": invitation.email})
    if data is not None:
        try:
            user = accounts.create_user(
                session, email=invitation.email, display_name=data.display_name,
                password=data.password, roles=[],
            )
        except accounts.EmailTaken as taken:
            errors = {"__all__": taken.message}
        else:
            role = accounts.accept_invitation(session, token=token, user=user)
            return _welcome(request, session, settings, user,
                            f"Welcome, {user.display_name}. You now have the {role.value} role.")
    return render(request, "accounts/invitation.html", {
        "invitation": invitation, "token": token, "has_account": False,
        "values": {**kept(form), "email": invitation.email}, "errors": errors,
    }, status_code=400)
