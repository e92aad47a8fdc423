"""create_app(): routers, middleware, error pages, static files."""

import asyncio
import logging
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.access import LoginRequired
from app.accounts import consent_routes, invitation_routes, mydata_routes
from app.accounts import routes as account_routes
from app.accounts.consent import ConsentNeeded
from app.admin import routes as admin_routes
from app.community import routes as community_routes
from app.db import make_engine
from app.errors import CsrfFailed, TelosError
from app.home import routes as home_routes
from app.jobs import routes as job_routes
from app.jobs import tasks as _tasks  # noqa: F401  (every task known)
from app.jobs.queue import attach as attach_queue
from app.journeys import feedback_routes
from app.journeys import routes as journey_routes
from app.matching import routes as matching_routes
from app.reminders import routes as reminder_routes
from app.research import routes as research_routes
from app.settings import ROOT, Settings
from app.surveys import results_routes
from app.surveys import routes as survey_routes
from app.web import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, csrf_valid, redirect, render

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "object-src 'none'",
])


async def csrf_protect(request: Request) -> None:
    """Every unsafe request carries the token, in the form or in X-CSRF-Token."""
    if request.method in SAFE_METHODS:
        return
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not csrf_valid(request, submitted):
        raise CsrfFailed(
            "The form you sent did not carry this site's security token, or the token is "
            "out of date (for example because you logged in or out in another tab). "
            "Nothing was changed. Go back, reload the page and send it again."
        )


class SecurityHeaders:
    """Security headers on every response; the CSRF cookie; no-store once signed in."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._decorate(MutableHeaders(scope=message), state, scope)
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _decorate(self, headers: MutableHeaders, state: dict[str, Any], scope: Scope) -> None:
        headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not scope["path"].startswith("/static/"):
            headers.add_vary_header("HX-Request")
            signed_in = state.get("principal") is not None
            headers["Cache-Control"] = "no-store" if signed_in else "no-cache"
        new_csrf = state.get("csrf_cookie")
        if new_csrf:
            secure = "; Secure" if self.settings.secure_cookies else ""
            headers.append(
                "Set-Cookie",
                f"{CSRF_COOKIE}={new_csrf}; Path=/; Max-Age=31536000; HttpOnly; "
                f"SameSite=Lax{secure}",
            )


class OneRequestAtATime:
    """For SQLite: requests that may touch the database run one after another.

    SQLite has one writer and this process one pooled connection. Waiting for it in
    worker threads could take every thread, leaving none to finish the request that
    holds it; waiting here, before any thread is taken, cannot deadlock. PostgreSQL
    needs none of this and does not get it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.turn = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        async with self.turn:
            await self.app(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.resolve_secret_key()
    app = FastAPI(
        title="Telos",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect)],
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    # Jobs a request asks for are handed to the queue as soon as its transaction commits.
    app.state.queue = attach_queue(settings, app.state.engine)
    for module in (
        home_routes, account_routes, consent_routes, mydata_routes, invitation_routes,
        admin_routes, job_routes,
        journey_routes,
        feedback_routes, survey_routes, results_routes, community_routes,
        matching_routes, research_routes, reminder_routes,
    ):
        _add_routes(app, module.router)
    _mount_static(app)
    _install_error_pages(app)
    app.add_middleware(SecurityHeaders, settings=settings)
    if app.state.engine.dialect.name == "sqlite":
        app.add_middleware(OneRequestAtATime)
    return app


def _add_routes(app: FastAPI, router: APIRouter) -> None:
    """Each route added to the app itself, so `app.routes` lists them all, flat.

    (Recent FastAPI keeps included routers as nested objects; adding the routes one by
    one keeps the route table public and walkable by the access test.)
    """
    for route in router.routes:
        assert isinstance(route, APIRoute)
        app.add_api_route(
            route.path, route.endpoint, methods=list(route.methods or ()), name=route.name,
            dependencies=list(route.dependencies), response_class=route.response_class,
        )


def _mount_static(app: FastAPI) -> None:
    vendor = ROOT / "node_modules"
    app.mount("/static/vendor/htmx", StaticFiles(directory=vendor / "htmx.org/dist",
                                                 check_dir=False), name="htmx")
    app.mount("/static/vendor/pico", StaticFiles(directory=vendor / "@picocss/pico/css",
                                                 check_dir=False), name="pico")
    app.mount("/static", StaticFiles(directory=ROOT / "app/static"), name="static")


def _problem(request: Request, status: int, title: str, message: str) -> Response:
    return render(request, "errors/problem.html", {"title": title, "message": message},
                  status_code=status)


def _install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, _exc: LoginRequired) -> Response:
        # After logging in, come back to the page asked for; a form sent while signed
        # out cannot be replayed, so its sender comes back to their home page.
        target = request.url.path if request.method in SAFE_METHODS else "/home"
        if request.url.query and request.method in SAFE_METHODS:
            target += f"?{request.url.query}"
        return redirect(request, f"/login?next={quote(target, safe='/')}")

    @app.exception_handler(ConsentNeeded)
    async def consent_needed(request: Request, exc: ConsentNeeded) -> Response:
        return redirect(request, f"/consent?next={quote(exc.next_url, safe='/')}")

    @app.exception_handler(TelosError)
    async def business_error(request: Request, exc: TelosError) -> Response:
        return _problem(request, exc.status_code, exc.title, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return render(request, "errors/404.html", status_code=404)
        message = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        return _problem(request, exc.status_code, "That did not work", message)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, _exc: RequestValidationError) -> Response:
        return _problem(request, 400, "That request was not understood",
                        "Part of the address or the form was not in the expected shape. "
                        "Go back and try again; if it keeps happening, tell us.")

    @app.exception_handler(ClientDisconnect)
    async def gone(_request: Request, _exc: ClientDisconnect) -> Response:
        # The browser left before sending its whole form; nobody is there to answer.
        return Response(status_code=400)

    @app.exception_handler(Exception)
    async def server_error(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return render(request, "errors/500.html", status_code=500)
