"""Demo data: one account per role, so a fresh install can be tried at once."""

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

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


DEMO_DOMAIN = "demo.example.org"
# Demo accounts of earlier versions lived under a reserved name that the forms refuse
# (so they could not try a password reset); `telos demo` moves them.
OLD_DEMO_DOMAIN = "demo.telos.localhost"

DEMO_LOGINS = (
    DemoLogin(Role.member, "member@demo.example.org", "Maya Member"),
    DemoLogin(Role.mentor, "mentor@demo.example.org", "Omar Mentor"),
    DemoLogin(Role.manager, "manager@demo.example.org", "Grace Manager"),
    DemoLogin(Role.researcher, "researcher@demo.example.org", "Ravi Researcher"),
    DemoLogin(Role.admin, "admin@demo.example.org", "Ada Admin"),
)


def is_empty(session: Session) -> bool:
    return session.exec(select(func.count()).select_from(User)).one() == 0


def load(session: Session) -> list[DemoLogin]:
    """Creates the demo accounts that are missing; returns the ones it created."""
    move_old_demo_accounts(session)
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


def move_old_demo_accounts(session: Session) -> int:
    """Demo accounts under the old domain get the same name under the new one."""
    old = session.exec(select(User).where(
        col(User.email).like(f"%@{OLD_DEMO_DOMAIN}"))).all()
    for user in old:
        moved = user.email.removesuffix(f"@{OLD_DEMO_DOMAIN}") + f"@{DEMO_DOMAIN}"
        if accounts.get_user_by_email(session, moved) is None:
            session.execute(update(User).where(col(User.id) == user.id).values(email=moved))
    session.flush()
    return len(old)


def present(session: Session) -> list[DemoLogin]:
    return [
        login for login in DEMO_LOGINS
        if accounts.get_user_by_email(session, login.email) is not None
    ]
