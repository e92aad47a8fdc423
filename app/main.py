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
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.access import LoginRequired, principal_of
from app.accounts import consent_routes, invitation_routes, mydata_routes
from app.accounts import routes as account_routes
from app.accounts.consent import ConsentNeeded
from app.admin import routes as admin_routes
from app.community import circle_routes, invite_routes
from app.community import routes as community_routes
from app.db import READ_TURN, TURN, WRITE_TURN, is_busy, make_engine
from app.errors import CsrfFailed, TelosError
from app.home import routes as home_routes
from app.jobs import routes as job_routes
from app.jobs import tasks as _tasks  # noqa: F401  (every task known)
from app.jobs.queue import attach as attach_queue
from app.journeys import feedback_routes
from app.journeys import routes as journey_routes
from app.matching import routes as matching_routes
from app.path_ids import ids_in_range
from app.reminders import routes as reminder_routes
from app.research import routes as research_routes
from app.settings import ROOT, Settings
from app.surveys import results_routes
from app.surveys import routes as survey_routes
from app.web import CSRF_COOKIE, CSRF_FIELD, CSRF_HEADER, csrf_valid, redirect, render

log = logging.getLogger(__name__)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# A request body must have arrived within this time (slow clients get 408), and be no
# larger than this (the largest upload, a content file, may have 2 MB).
BODY_SECONDS = 30.0
MAX_BODY_BYTES = 8_000_000
# SQLite: how many requests of one web process use the database at once.
SQLITE_TURNS = 4

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


# Pages opened from a link with a secret in it (a reset, an invitation, a feedback link,
# the reminders opt-out): kept out of every cache, like a signed-in page.
SECRET_LINK_PREFIXES = ("/reset/", "/invitations/", "/reply/", "/reminders/off/")


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
            private = signed_in or scope["path"].startswith(SECRET_LINK_PREFIXES)
            headers["Cache-Control"] = "no-store" if private else "no-cache"
        new_csrf = state.get("csrf_cookie")
        if new_csrf:
            secure = "; Secure" if self.settings.secure_cookies else ""
            headers.append(
                "Set-Cookie",
                f"{CSRF_COOKIE}={new_csrf}; Path=/; Max-Age=31536000; HttpOnly; "
                f"SameSite=Lax{secure}",
            )


class Replay:
    """A `receive` that gives the app the body read beforehand, then the client's messages."""

    def __init__(self, body: bytes, receive: Receive) -> None:
        self.body = body
        self.receive = receive
        self.given = False

    async def __call__(self) -> Message:
        if not self.given:
            self.given = True
            return {"type": "http.request", "body": self.body, "more_body": False}
        return await self.receive()

    def again(self) -> "Replay":
        return Replay(self.body, self.receive)


async def _refuse(send: Send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": text.encode()})


class ReadBodyFirst:
    """The whole request body is read, within `seconds`, before the app sees the request.

    So nothing (no database turn, no worker thread) is held for a client that is still
    sending: one slower than `seconds` gets 408, one that sends more than `max_bytes` 413,
    and one that leaves gets nothing.
    """

    def __init__(self, app: ASGIApp, *, seconds: float = BODY_SECONDS,
                 max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.seconds = seconds
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, 413, "The request is too large.")
            return
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.seconds):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return
                    chunk: bytes = message.get("body", b"")
                    size += len(chunk)
                    if size > self.max_bytes:
                        await _refuse(send, 413, "The request is too large.")
                        return
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            await _refuse(send, 408, "The request took too long to arrive; send it again.")
            return
        await self.app(scope, Replay(b"".join(chunks), receive), send)


def _busy(error: BaseException) -> bool:
    if isinstance(error, BaseExceptionGroup):
        return any(_busy(inner) for inner in error.exceptions)
    return is_busy(error)


class DatabaseTurns:
    """For SQLite: readers side by side, writers one at a time, each waiting for a turn here.

    A request takes one of `turns` places (the engine pools as many connections), and one
    that may write (any method but GET, HEAD and OPTIONS) first takes the writer's turn,
    so writers queue here, in order, rather than in SQLite's busy wait, which sleeps in
    coarse steps. The waiting happens in the event loop, before a worker thread is taken:
    waiting for a connection inside threads could take every thread and leave none to
    finish the requests that hold one. The body has been read already (`ReadBodyFirst`),
    and the turn is given back when the reply starts, so no turn waits for a slow client.

    A reader's transaction begins without the write lock. If it writes after all (a
    session's last-seen time, a job asked for from a page) and the write finds the lock
    taken, or the data changed since it read, SQLite refuses at once ("database is
    locked", which the busy timeout does not cover). Nothing has been sent by then (the
    commit comes before the reply), so the transaction is rolled back and the request
    runs again from the start as a writer. PostgreSQL needs none of this and gets none.
    """

    def __init__(self, app: ASGIApp, *, turns: int) -> None:
        self.app = app
        self.places = asyncio.Semaphore(turns)
        self.writer = asyncio.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/static/"):
            await self.app(scope, receive, send)
            return
        state = dict(scope.get("state", {}))
        if scope["method"] in SAFE_METHODS:
            turn = Turn(self.places)
            try:
                await turn.run(self.app, {**scope, "state": {**state, TURN: READ_TURN}},
                               receive, send)
                return
            except Exception as error:
                if turn.replied or not isinstance(receive, Replay) or not _busy(error):
                    raise
                log.info("%s %s wrote in a read turn and found the database locked; "
                         "running it again as a writer", scope["method"], scope["path"])
                receive = receive.again()
        await Turn(self.writer, self.places).run(
            self.app, {**scope, "state": {**state, TURN: WRITE_TURN}}, receive, send)


class Turn:
    """One request's hold on the database: taken before the app runs, given back when the
    reply starts (the request's transaction has been committed by then), so a client that
    reads its reply slowly holds no turn either, or when the app ends."""

    def __init__(self, *locks: asyncio.Lock | asyncio.Semaphore) -> None:
        self.locks = locks
        self.held: list[asyncio.Lock | asyncio.Semaphore] = []
        self.replied = False

    async def run(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_and_give_back(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.replied = True
                self.give_back()
            await send(message)

        try:
            for lock in self.locks:
                await lock.acquire()
                self.held.append(lock)
            await app(scope, receive, send_and_give_back)
        finally:
            self.give_back()

    def give_back(self) -> None:
        while self.held:
            self.held.pop().release()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    settings.resolve_secret_key()
    app = FastAPI(
        title="Telos",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_protect), Depends(ids_in_range)],
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url, turns=SQLITE_TURNS)
    # Jobs a request asks for are handed to the queue as soon as its transaction commits.
    app.state.queue = attach_queue(settings, app.state.engine)
    for module in (
        home_routes, account_routes, consent_routes, mydata_routes, invitation_routes,
        admin_routes, job_routes,
        journey_routes,
        feedback_routes, survey_routes, results_routes, community_routes, circle_routes,
        invite_routes,
        matching_routes, research_routes, reminder_routes,
    ):
        _add_routes(app, module.router)
    _mount_static(app)
    _install_error_pages(app)
    app.add_middleware(SecurityHeaders, settings=settings)
    if app.state.engine.dialect.name == "sqlite":
        app.add_middleware(DatabaseTurns, turns=SQLITE_TURNS)
    app.add_middleware(ReadBodyFirst)
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

    async def _not_found(request: Request) -> Response:
        # No route may have run, so nobody looked up who is signed in: the page's menu
        # needs it. A database read, so off the event loop.
        await run_in_threadpool(principal_of, request)
        return render(request, "errors/404.html", status_code=404)

    @app.exception_handler(ConsentNeeded)
    async def consent_needed(request: Request, exc: ConsentNeeded) -> Response:
        return redirect(request, f"/consent?next={quote(exc.next_url, safe='/')}")

    @app.exception_handler(TelosError)
    async def business_error(request: Request, exc: TelosError) -> Response:
        return _problem(request, exc.status_code, exc.title, exc.message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return await _not_found(request)
        message = exc.detail if isinstance(exc.detail, str) else "The request could not be served."
        return _problem(request, exc.status_code, "That did not work", message)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, exc: RequestValidationError) -> Response:
        if any(error["loc"][:1] == ("path",) for error in exc.errors()):
            return await _not_found(request)  # /feedback/abc
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
