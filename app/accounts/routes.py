"""Sign up, log in and out, password change and reset, profile."""

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlmodel import Session

from app import mail
from app.accounts import consent, ratelimit
from app.accounts import service as accounts
from app.accounts.forms import (
    LOCALES,
    TIME_ZONES,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    ResetForm,
    ResetRequestForm,
    SignupForm,
)
from app.accounts.models import Role, User
from app.deps import CurrentUser, FormDep, SessionDep, SettingsDep, Visitor
from app.errors import InvalidToken, StaleEdit
from app.forms import kept, validate
from app.settings import Settings
from app.web import SESSION_COOKIE, redirect, render, safe_next

router = APIRouter()


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def sign_in(request: Request, response: Response, token: str) -> None:
    """Put a fresh session token in the cookie; the CSRF token follows it."""
    settings: Settings = request.app.state.settings
    request.state.session_token = token
    response.set_cookie(
        SESSION_COOKIE, token, httponly=True, samesite="lax", secure=settings.secure_cookies,
        max_age=settings.session_absolute_hours * 3600,
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE)


# Sign up ----------------------------------------------------------------------


@router.get("/signup")
def signup_page(request: Request, visitor: Visitor, next: str = "") -> Response:
    if visitor:
        return redirect(request, safe_next(next))
    return render(request, "accounts/signup.html",
                  {"values": {"next": safe_next(next, "")}, "errors": {}})


@router.post("/signup")
def signup(
    request: Request, visitor: Visitor, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    values = kept(form)
    account_key = accounts.normalize_email(str(form.get("email", "")))
    try:
        ratelimit.check(session, ratelimit.SIGNUP_PER_IP, client_ip(request))
        ratelimit.check(session, ratelimit.SIGNUP_PER_ACCOUNT, account_key)
    except ratelimit.RateLimited as limited:
        return render(request, "accounts/signup.html",
                      {"values": values, "errors": {"__all__": str(limited)}}, status_code=429)
    data, errors = validate(SignupForm, form)
    if data is not None:
        ratelimit.hit(session, ratelimit.SIGNUP_PER_IP, client_ip(request))
        ratelimit.hit(session, ratelimit.SIGNUP_PER_ACCOUNT, account_key)
        try:
            user = accounts.create_user(
                session, email=data.email, display_name=data.display_name,
                password=data.password, roles=[Role.member],
            )
        except accounts.EmailTaken as taken:
            errors = {"email": taken.message}
        else:
            return _welcome(request, session, settings, user, f"Welcome, {user.display_name}.",
                            safe_next(str(form.get("next", ""))))
    return render(request, "accounts/signup.html", {"values": values, "errors": errors},
                  status_code=400)


def _welcome(
    request: Request, session: SessionDep, settings: Settings, user: User, message: str,
    next_url: str = "/home",
) -> Response:
    token = accounts.start_session(
        session, user=user, settings=settings, ip=client_ip(request),
        user_agent=request.headers.get("user-agent", ""),
    )
    response = redirect(request, next_url, message=message)
    sign_in(request, response, token)
    return response


# Log in and out -----------------------------------------------------------------


@router.get("/login")
def login_page(request: Request, visitor: Visitor, next: str = "") -> Response:
    if visitor:
        return redirect(request, safe_next(next))
    return render(request, "accounts/login.html",
                  {"values": {"next": safe_next(next, "")}, "errors": {}})


@router.post("/login")
def login(
    request: Request, visitor: Visitor, session: SessionDep, settings: SettingsDep, form: FormDep
) -> Response:
    values = kept(form)
    data, errors = validate(LoginForm, form)
    if data is None:
        return render(request, "accounts/login.html", {"values": values, "errors": errors},
                      status_code=400)
    account_key, address = accounts.normalize_email(data.email), client_ip(request)
    from_here = f"{address} {account_key}"
    try:
        ratelimit.check(session, ratelimit.LOGIN_PER_IP, address)
        ratelimit.check(session, ratelimit.LOGIN_FAILURES_PER_ACCOUNT_AND_IP, from_here)
        ratelimit.check(session, ratelimit.LOGIN_FAILURES_PER_ACCOUNT, account_key)
    except ratelimit.RateLimited as limited:
        return render(request, "accounts/login.html",
                      {"values": values, "errors": {"__all__": str(limited)}}, status_code=429)
    ratelimit.hit(session, ratelimit.LOGIN_PER_IP, address)
    user = accounts.authenticate(session, email=data.email, password=data.password)
    if user is None:
        ratelimit.hit(session, ratelimit.LOGIN_FAILURES_PER_ACCOUNT_AND_IP, from_here)
        ratelimit.hit(session, ratelimit.LOGIN_FAILURES_PER_ACCOUNT, account_key)
        message = "That e-mail and password do not match an account. Check both and try again."
        return render(request, "accounts/login.html",
                      {"values": values, "errors": {"__all__": message}}, status_code=400)
    ratelimit.clear(session, ratelimit.LOGIN_FAILURES_PER_ACCOUNT_AND_IP, from_here)
    if visitor:
        accounts.revoke_session(session, session_id=visitor.session_id)
    next_url = safe_next(str(form.get("next", "")))
    return _welcome(request, session, settings, user, f"Welcome back, {user.display_name}.",
                    next_url)


@router.post("/logout")
def logout(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    accounts.revoke_session(session, session_id=user.session_id)
    response = redirect(request, "/login", message="You are logged out.")
    sign_out(response)
    return response


# Profile and password ---------------------------------------------------------------


def _profile_page(
    request: Request, session: Session, user: User, *, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, password_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    current = {
        "display_name": user.display_name, "email": user.email, "locale": user.locale,
        "time_zone": user.time_zone, "version": str(user.version),
        "reminders": "yes" if user.reminders else "",
    }
    context = {
        "consent": consent.latest_record(session, user_id=user.id or 0),
        "values": {**current, **(values or {})}, "errors": errors or {},
        "password_errors": password_errors or {}, "locales": LOCALES, "time_zones": TIME_ZONES,
    }
    return render(request, "accounts/profile.html", context, status_code=status_code)


@router.get("/profile")
def profile_page(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    return _profile_page(request, session, user.user)


@router.post("/profile")
def update_profile(
    request: Request, user: CurrentUser, session: SessionDep, form: FormDep
) -> Response:
    values = {**kept(form), "reminders": "yes" if form.get("reminders") else ""}
    data, errors = validate(ProfileForm, form)
    if data is None:
        return _profile_page(request, session, user.user, values=values, errors=errors,
                             status_code=400)
    try:
        accounts.update_profile(
            session, user=user.user, version=data.version, display_name=data.display_name,
            email=data.email, locale=data.locale, time_zone=data.time_zone,
            reminders=data.reminders,
        )
    except accounts.EmailTaken as taken:
        return _profile_page(request, session, user.user, values=values,
                             errors={"email": taken.message}, status_code=409)
    except StaleEdit as stale:
        session.refresh(user.user)
        return _profile_page(request, session, user.user, errors={"__all__": stale.message},
                             status_code=409)
    return redirect(request, "/profile", message="Profile saved.")


@router.post("/profile/password")
def change_password(
    request: Request, user: CurrentUser, session: SessionDep, settings: SettingsDep,
    form: FormDep,
) -> Response:
    data, errors = validate(PasswordChangeForm, form)
    if data is not None and accounts.authenticate(
        session, email=user.user.email, password=data.current_password
    ) is None:
        errors = {"current_password": "That is not your current password."}
    if data is None or errors:
        return _profile_page(request, session, user.user, password_errors=errors, status_code=400)
    accounts.change_password(session, user=user.user, new_password=data.new_password)
    return _welcome(
        request, session, settings, user.user,
        "Password changed. Every other browser signed in as you has been logged out.",
        "/profile",
    )


# Password reset ------------------------------------------------------------------------


@router.get("/reset")
def reset_request_page(request: Request, visitor: Visitor) -> Response:
    return render(request, "accounts/reset_request.html", {"values": {}, "errors": {}})


@router.post("/reset")
def reset_request(
    request: Request, visitor: Visitor, session: SessionDep, settings: SettingsDep,
    form: FormDep,
) -> Response:
    values = kept(form)
    data, errors = validate(ResetRequestForm, form)
    if data is None:
        return render(request, "accounts/reset_request.html",
                      {"values": values, "errors": errors}, status_code=400)
    try:
        ratelimit.check(session, ratelimit.RESET_PER_IP, client_ip(request))
        ratelimit.check(session, ratelimit.RESET_PER_ACCOUNT, data.email)
    except ratelimit.RateLimited as limited:
        return render(request, "accounts/reset_request.html",
                      {"values": values, "errors": {"__all__": str(limited)}}, status_code=429)
    ratelimit.hit(session, ratelimit.RESET_PER_IP, client_ip(request))
    ratelimit.hit(session, ratelimit.RESET_PER_ACCOUNT, data.email)
    user = accounts.get_user_by_email(session, data.email)
    if user is not None and user.is_active:
        token = accounts.issue_reset_token(session, user=user, settings=settings)
        mail.queue(session, [_reset_mail(settings, user, token)])
    return render(request, "accounts/reset_sent.html", {"email": data.email})


def _reset_mail(settings: Settings, user: User, token: str) -> mail.Mail:
    link = f"{settings.base_url}/reset/{token}"
    body = (
        f"Hello {user.display_name},\n\n"
        "Someone (we hope you) asked to reset the password of your Telos account.\n"
        f"Choose a new password here within {settings.password_reset_minutes} minutes:\n\n"
        f"{link}\n\n"
        "The link works once. If you did not ask for this, ignore this message: "
        "your password stays as it is.\n"
    )
    return mail.Mail(to=user.email, subject="Reset your Telos password", body=body)


@router.get("/reset/{token}")
def reset_page(request: Request, visitor: Visitor, session: SessionDep, token: str) -> Response:
    try:
        accounts.check_reset_token(session, token=token)
    except InvalidToken as invalid:
        return render(request, "accounts/reset_request.html",
                      {"values": {}, "errors": {"__all__": invalid.message}}, status_code=400)
    return render(request, "accounts/reset.html", {"token": token, "errors": {}})


@router.post("/reset/{token}")
def reset(
    request: Request, visitor: Visitor, session: SessionDep, settings: SettingsDep,
    form: FormDep, token: str,
) -> Response:
    data, errors = validate(ResetForm, form)
    if data is None:
        return render(request, "accounts/reset.html", {"token": token, "errors": errors},
                      status_code=400)
    try:
        user = accounts.reset_password(session, token=token, new_password=data.password)
    except InvalidToken as invalid:
        return render(request, "accounts/reset_request.html",
                      {"values": {}, "errors": {"__all__": invalid.message}}, status_code=400)
    return _welcome(request, session, settings, user, "Your new password is set.")
