"""Plain functions that create what a test needs, through the real services."""

import itertools
from collections.abc import Iterable

from fastapi.testclient import TestClient
from sqlmodel import Session

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.settings import Settings
from app.web import SESSION_COOKIE

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


def create_user(
    session: Session,
    *,
    roles: Iterable[Role] = (Role.member,),
    email: str | None = None,
    display_name: str | None = None,
    password: str = PASSWORD,
) -> User:
    """A committed user, as if they had signed up before the test began."""
    number = next(_numbers)
    user = accounts.create_user(
        session,
        email=email or f"person{number}@example.org",
        display_name=display_name or f"Person {number}",
        password=password,
        roles=list(roles),
    )
    session.commit()
    return user


def signed_in(client: TestClient, session: Session, settings: Settings, user: User) -> str:
    """Start a real session for `user` through the service and give the client its cookie."""
    token = accounts.start_session(session, user=user, settings=settings)
    session.commit()
    client.cookies.set(SESSION_COOKIE, token)
    return token
