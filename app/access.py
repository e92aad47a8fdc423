"""Who may use each route: one mechanism, declared on every route.

A route depends on exactly one `Policy` (directly, or through an alias in
`app.deps`). `tests/test_access.py` walks `app.routes`, fails for any route
without one, and calls every route as every role.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts.models import Role
from app.accounts.service import Principal
from app.errors import Forbidden
from app.web import SESSION_COOKIE, settings_of

log = logging.getLogger(__name__)


class LoginRequired(Exception):
    """Raised for an anonymous visitor on a page that needs a signed-in user."""


def current_principal(request: Request, session: Session) -> Principal | None:
    """The signed-in user of this request, looked up once and kept on request.state."""
    if hasattr(request.state, "principal"):
        principal: Principal | None = request.state.principal
        return principal
    token = request.cookies.get(SESSION_COOKIE)
    principal = None
    if token:
        principal = accounts.resolve_session(session, token=token, settings=settings_of(request))
    request.state.principal = principal
    return principal


def principal_of(request: Request) -> Principal | None:
    """Who is signed in, for a page no route served (a 404 for an unknown address), so that
    its header is the signed-in one; looked up in a transaction of its own."""
    if hasattr(request.state, "principal") or SESSION_COOKIE not in request.cookies:
        return getattr(request.state, "principal", None)
    from app.deps import get_session  # app.deps builds on this module

    sessions = request.app.dependency_overrides.get(get_session, get_session)
    try:
        with contextmanager(sessions)(request) as session:
            return current_principal(request, session)
    except Exception:  # the page must still be served, if only as to a visitor
        log.exception("could not look up who is signed in for an error page")
        return None


class Policy:
    """A declared access rule. Instances are FastAPI dependencies."""

    def __init__(
        self,
        name: str,
        *,
        roles: frozenset[Role] = frozenset(),
        signed_in: bool = True,
        uses_session: bool = True,
    ) -> None:
        self.name = name
        self.roles = roles
        self.signed_in = signed_in
        self.uses_session = uses_session

    def __repr__(self) -> str:
        return f"Policy({self.name})"

    def allows(self, roles: frozenset[Role] | None) -> bool:
        """Whether someone holding `roles` (None: anonymous) may use the route."""
        if not self.signed_in:
            return True
        if roles is None:
            return False
        return not self.roles or bool(self.roles & roles)

    def check(self, request: Request, session: Session | None) -> Principal | None:
        if not self.uses_session or session is None:
            return None
        principal = current_principal(request, session)
        if not self.signed_in:
            return principal
        if principal is None:
            raise LoginRequired()
        if self.roles and not principal.has(*self.roles):
            needed = " or ".join(sorted(role.value for role in self.roles))
            raise Forbidden(f"This page is for people with the {needed} role.")
        return principal


def policies_of(dependant: Dependant) -> Iterator[Policy]:
    """Every Policy a route depends on, however deep."""
    for sub in dependant.dependencies:
        call: Any = sub.call
        if isinstance(getattr(call, "policy", None), Policy):
            yield call.policy
        yield from policies_of(sub)
