"""Demo data: one account per role, so a fresh install can be tried at once."""

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts import service as accounts
from app.accounts.models import Role, User
from app.community import demo as community_demo
from app.matching import demo as matching_demo
from app.research import demo as research_demo

DEMO_PASSWORD = "telos-demo-password"  # noqa: S105  (demo accounts only, printed on purpose)


@dataclass(frozen=True)
class DemoLogin:
    role: Role
    email: str
    display_name: str


DEMO_LOGINS = (
    DemoLogin(Role.member, "member@demo.telos.localhost", "Maya Member"),
    DemoLogin(Role.mentor, "mentor@demo.telos.localhost", "Omar Mentor"),
    DemoLogin(Role.manager, "manager@demo.telos.localhost", "Grace Manager"),
    DemoLogin(Role.researcher, "researcher@demo.telos.localhost", "Ravi Researcher"),
    DemoLogin(Role.admin, "admin@demo.telos.localhost", "Ada Admin"),
)


def is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def load(session: Session) -> list[DemoLogin]:
    """Creates the demo accounts that are missing; returns the ones it created."""
    created = []
    for login in DEMO_LOGINS:
        if accounts.get_user_by_email(session, login.email) is None:
            accounts.create_user(
                session, email=login.email, display_name=login.display_name,
                password=DEMO_PASSWORD, roles=[login.role],
            )
            created.append(login)
    # Then what the demo people need to show something real: the theme list and the
    # content library, mentor profiles, and a study with synthetic participants.
    community_demo.load(session)
    matching_demo.load(session)
    research_demo.load(session)
    matching_demo.give_participants_preferences(session)
    return created


def present(session: Session) -> list[DemoLogin]:
    return [
        login for login in DEMO_LOGINS
        if accounts.get_user_by_email(session, login.email) is not None
    ]
