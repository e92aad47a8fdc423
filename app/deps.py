"""Annotated dependencies, so route signatures say who may call them and what they get."""

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from app.access import Policy
from app.accounts.models import Role
from app.accounts.service import Principal
from app.db import READ_TURN, TURN, session_scope
from app.settings import Settings


def get_session(request: Request) -> Iterator[Session]:
    """One transaction per request, committed before the response is sent.

    On SQLite, a request that `DatabaseTurns` lets in as a reader (GET, HEAD, OPTIONS)
    begins without the write lock; every other one begins with it.
    """
    deferred = request.scope.get("state", {}).get(TURN) == READ_TURN
    with session_scope(request.app.state.engine, deferred=deferred) as session:
        yield session


# scope="function": the commit happens when the route returns, before the reply
# leaves, so a page that says "saved" is only ever sent after the data is.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def read_form(request: Request) -> FormData:
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def _guard(policy: Policy) -> Callable[..., Principal | None]:
    """The dependency that enforces `policy`; it carries the policy for the access test."""

    def with_session(request: Request, session: SessionDep) -> Principal | None:
        return policy.check(request, session)

    def without_session(request: Request) -> Principal | None:
        return policy.check(request, None)

    check: Any = with_session if policy.uses_session else without_session
    check.policy = policy
    return check


OPEN = Policy("open: anyone, no sign-in looked up", signed_in=False, uses_session=False)
PUBLIC = Policy("public: anyone", signed_in=False)
SIGNED_IN = Policy("signed in: any role")


def roles(*allowed: Role) -> Policy:
    return Policy("+".join(role.value for role in allowed), roles=frozenset(allowed))


open_access = Depends(_guard(OPEN))
Visitor = Annotated[Principal | None, Depends(_guard(PUBLIC))]
CurrentUser = Annotated[Principal, Depends(_guard(SIGNED_IN))]
MemberUser = Annotated[Principal, Depends(_guard(roles(Role.member)))]
MentorUser = Annotated[Principal, Depends(_guard(roles(Role.mentor)))]
ManagerUser = Annotated[Principal, Depends(_guard(roles(Role.manager)))]
ResearcherUser = Annotated[Principal, Depends(_guard(roles(Role.researcher)))]
AdminUser = Annotated[Principal, Depends(_guard(roles(Role.admin)))]
# The content library is read by members, and by managers checking what they wrote.
ReaderUser = Annotated[Principal, Depends(_guard(roles(Role.member, Role.manager)))]
# Both sides of a match answer "is this a good fit?".
MatchPartyUser = Annotated[Principal, Depends(_guard(roles(Role.member, Role.mentor)))]
