"""Rendering pages (or, for htmx, just the block that changed), flash messages, CSRF."""

import hmac
import os
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup, escape

from app import __version__
from app.accounts.models import Role
from app.security import dump_signed, load_signed, new_token, sign
from app.settings import ROOT, Settings

SESSION_COOKIE = "telos_session"
CSRF_COOKIE = "telos_csrf"
FLASH_COOKIE = "telos_flash"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

templates = Jinja2Blocks(directory=str(ROOT / "templates"))
# Templates change only in development; elsewhere do not check the files on every render.
templates.env.auto_reload = os.environ.get("TELOS_ENV", "development") == "development"
templates.env.globals["app_version"] = __version__
templates.env.globals["Role"] = Role


def paragraphs(text: str) -> Markup:
    """Plain text as escaped paragraphs: what members and authors type is never markup."""
    blocks = [block.strip() for block in str(text).replace("\r", "").split("\n\n")]
    html = "".join(
        f"<p>{escape(block).replace(chr(10), Markup('<br>'))}</p>" for block in blocks if block
    )
    return Markup(html)  # noqa: S704  (every piece of text in it went through escape())


def prose(text: str) -> Markup:
    """Text an author wrapped in a definition file: blank lines part paragraphs, single
    line breaks are only wrapping."""
    blocks = str(text).replace("\r", "").split("\n\n")
    return paragraphs("\n\n".join(" ".join(block.split()) for block in blocks))


def answer_text(value: object) -> Markup:
    """A saved answer, whatever its shape, as readable escaped text."""
    if isinstance(value, dict):
        return Markup("").join(answer_text(item) for item in value.values())
    if isinstance(value, list):
        return Markup("").join(answer_text(item) for item in value)
    if value is None or value == "" or isinstance(value, bool):
        return Markup("")
    return paragraphs(str(value))


templates.env.filters["paragraphs"] = paragraphs
templates.env.filters["answer_text"] = answer_text
templates.env.filters["prose"] = prose


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


# CSRF: a signed double-submit token bound to the browser's CSRF cookie and its
# sign-in session, so a token from before a login stops working after it.


def csrf_cookie_value(request: Request) -> str:
    value = getattr(request.state, "csrf_cookie", None) or request.cookies.get(CSRF_COOKIE)
    if not value:
        value = new_token()
        request.state.csrf_cookie = value
    return value


def csrf_token(request: Request) -> str:
    session_token = getattr(request.state, "session_token", None)
    if session_token is None:
        session_token = request.cookies.get(SESSION_COOKIE, "")
    key = settings_of(request).signing_key
    return sign(key, "csrf", f"{csrf_cookie_value(request)}|{session_token}")


def csrf_valid(request: Request, submitted: str | None) -> bool:
    if not submitted or not request.cookies.get(CSRF_COOKIE):
        return False
    return hmac.compare_digest(submitted, csrf_token(request))


# Flash messages travel in a short-lived signed cookie across the redirect.


def flash(response: Response, request: Request, message: str, category: str = "success") -> None:
    pending = [*getattr(request.state, "flashes", []), {"message": message, "category": category}]
    request.state.flashes = pending
    value = dump_signed(settings_of(request).signing_key, "flash", pending)
    response.set_cookie(
        FLASH_COOKIE, value, max_age=300, httponly=True, samesite="lax",
        secure=settings_of(request).secure_cookies,
    )


def _take_flashes(request: Request) -> list[dict[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    loaded = load_signed(settings_of(request).signing_key, "flash", raw)
    return loaded if isinstance(loaded, list) else []


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    block: str | None = None,
    status_code: int = 200,
) -> Response:
    """The full page, or only `block` when htmx asked for it."""
    principal = getattr(request.state, "principal", None)
    flashes = _take_flashes(request)
    full_context = {
        "principal": principal,
        "csrf_token": csrf_token(request),
        "flashes": flashes,
        **(context or {}),
    }
    options: dict[str, Any] = {}
    if block and is_htmx(request):
        options["block_name"] = block
    response = templates.TemplateResponse(
        request, template, full_context, status_code=status_code, **options
    )
    if flashes:
        response.delete_cookie(FLASH_COOKIE)
    return response


def redirect(request: Request, url: str, *, message: str | None = None) -> Response:
    """POST-redirect-GET; htmx gets HX-Redirect so it does a full navigation."""
    response: Response
    if is_htmx(request):
        response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if message:
        flash(response, request, message)
    return response


def safe_next(url: str | None, default: str = "/home") -> str:
    """Only same-site paths, so a crafted link cannot send someone elsewhere after login."""
    if not url:
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return default
    if "\\" in url:
        return default
    return url
