"""Users, roles, sign-in sessions, password resets and invitations."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app.accounts import passwords
from app.accounts.models import (
    Invitation,
    PasswordResetToken,
    Role,
    User,
    UserRole,
    UserSession,
)
from app.audit import service as audit
from app.clock import now
from app.errors import InvalidToken, StaleEdit, TelosError
from app.security import new_token, token_hash
from app.settings import Settings

SESSION_TOUCH_INTERVAL = timedelta(minutes=1)


class EmailTaken(TelosError):
    status_code = 409

    def __init__(self) -> None:
        super().__init__(
            "An account with this e-mail already exists. Log in, or reset your password."
        )


@dataclass(frozen=True)
class Principal:
    """The signed-in person as the request sees them."""

    user: User
    roles: frozenset[Role]
    session_id: int

    def has(self, *roles: Role) -> bool:
        return bool(self.roles.intersection(roles))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user(session: Session, user_id: int) -> User | None:
    return session.get(User, user_id)


def get_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalize_email(email))).first()


def roles_of(session: Session, user_id: int) -> frozenset[Role]:
    rows = session.exec(select(UserRole.role).where(UserRole.user_id == user_id))
    return frozenset(Role(role) for role in rows)


def create_user(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    roles: Iterable[Role] = (Role.member,),
    actor_id: int | None = None,
) -> User:
    if get_user_by_email(session, email) is not None:
        raise EmailTaken()
    user = User(
        email=normalize_email(email),
        display_name=display_name.strip(),
        password_hash=passwords.hash_password(password),
    )
    session.add(user)
    session.flush()
    assert user.id is not None
    for role in roles:
        session.add(UserRole(user_id=user.id, role=role, granted_by_id=actor_id))
    audit.record(
        session, action="user.created", actor_id=actor_id or user.id,
        target_type="user", target_id=user.id, roles=sorted(roles),
    )
    session.flush()
    return user


def set_roles(session: Session, *, user: User, roles: Iterable[Role], actor_id: int) -> None:
    assert user.id is not None
    wanted, held = set(roles), set(roles_of(session, user.id))
    for role in wanted - held:
        session.add(UserRole(user_id=user.id, role=role, granted_by_id=actor_id))
        audit.record(
            session, action="role.granted", actor_id=actor_id,
            target_type="user", target_id=user.id, role=role.value,
        )
    for role in held - wanted:
        row = session.get(UserRole, (user.id, role))
        session.delete(row)
        audit.record(
            session, action="role.revoked", actor_id=actor_id,
            target_type="user", target_id=user.id, role=role.value,
        )
    session.flush()


def list_users(session: Session, *, search: str = "") -> list[tuple[User, frozenset[Role]]]:
    query = select(User).order_by(col(User.display_name))
    if search:
        pattern = f"%{search.strip().lower()}%"
        query = query.where(
            col(User.email).like(pattern) | col(User.display_name).ilike(pattern)
        )
    users = list(session.exec(query.limit(500)))
    roles: dict[int, set[Role]] = {}
    ids = [user.id for user in users]
    for user_id, role in session.exec(
        select(UserRole.user_id, UserRole.role).where(col(UserRole.user_id).in_(ids))
    ):
        roles.setdefault(user_id, set()).add(Role(role))
    return [(user, frozenset(roles.get(user.id or 0, ()))) for user in users]


# Sign-in sessions -----------------------------------------------------------


def authenticate(session: Session, *, email: str, password: str) -> User | None:
    user = get_user_by_email(session, email)
    ok = passwords.verify_password(password, user.password_hash if user else None)
    if user is None or not ok or not user.is_active:
        return None
    return user


def start_session(
    session: Session, *, user: User, settings: Settings, ip: str = "", user_agent: str = ""
) -> str:
    """A new sign-in: returns the token for the cookie; only its hash is kept."""
    assert user.id is not None
    token = new_token()
    session.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            expires_at=now() + timedelta(hours=settings.session_absolute_hours),
            ip=ip[:64],
            user_agent=user_agent[:255],
        )
    )
    session.flush()
    return token


def resolve_session(session: Session, *, token: str, settings: Settings) -> Principal | None:
    row = session.exec(
        select(UserSession, User)
        .join(User, col(User.id) == UserSession.user_id)
        .where(UserSession.token_hash == token_hash(token))
    ).first()
    if row is None:
        return None
    user_session, user = row
    moment = now()
    idle_limit = user_session.last_seen_at + timedelta(minutes=settings.session_idle_minutes)
    if (
        user_session.revoked_at is not None
        or user_session.expires_at <= moment
        or idle_limit <= moment
        or not user.is_active
    ):
        return None
    if moment - user_session.last_seen_at > SESSION_TOUCH_INTERVAL:
        user_session.last_seen_at = moment
        session.add(user_session)
    assert user.id is not None and user_session.id is not None
    return Principal(user=user, roles=roles_of(session, user.id), session_id=user_session.id)


def revoke_session(session: Session, *, session_id: int) -> None:
    session.execute(
        update(UserSession)
        .where(col(UserSession.id) == session_id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=now())
    )


def revoke_all_sessions(session: Session, *, user_id: int) -> None:
    session.execute(
        update(UserSession)
        .where(col(UserSession.user_id) == user_id, col(UserSession.revoked_at).is_(None))
        .values(revoked_at=now())
    )


# Passwords and profile -------------------------------------------------------


def change_password(session: Session, *, user: User, new_password: str) -> None:
    """Sets the password and signs out every browser; the caller starts a new session."""
    assert user.id is not None
    user.password_hash = passwords.hash_password(new_password)
    user.updated_at = now()
    session.add(user)
    revoke_all_sessions(session, user_id=user.id)
    audit.record(
        session, action="password.changed", actor_id=user.id, target_type="user", target_id=user.id
    )
    session.flush()


def update_profile(
    session: Session,
    *,
    user: User,
    version: int,
    display_name: str,
    email: str,
    locale: str,
    time_zone: str,
    reminders: bool = True,
) -> User:
    """Saves the profile if nobody saved it since `version` was read."""
    assert user.id is not None
    email = normalize_email(email)
    other = get_user_by_email(session, email)
    if other is not None and other.id != user.id:
        raise EmailTaken()
    result = session.execute(
        update(User)
        .where(col(User.id) == user.id, col(User.version) == version)
        .values(
            display_name=display_name.strip(), email=email, locale=locale,
            time_zone=time_zone, reminders=reminders, version=User.version + 1,
            updated_at=now(),
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleEdit(
            "Your profile was changed in another window since you opened this page. "
            "The saved values are shown below; your changes were not saved."
        )
    session.refresh(user)
    return user


# Password reset ---------------------------------------------------------------


def issue_reset_token(session: Session, *, user: User, settings: Settings) -> str:
    assert user.id is not None
    token = new_token()
    session.add(
        PasswordResetToken(
            token_hash=token_hash(token),
            user_id=user.id,
            expires_at=now() + timedelta(minutes=settings.password_reset_minutes),
        )
    )
    session.flush()
    return token


def _usable_reset_token(session: Session, token: str) -> PasswordResetToken:
    row = session.exec(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token))
    ).first()
    if row is None or row.used_at is not None or row.expires_at <= now():
        raise InvalidToken(
            "This reset link has expired or has already been used. Ask for a new one below."
        )
    return row


def check_reset_token(session: Session, *, token: str) -> None:
    _usable_reset_token(session, token)


def reset_password(session: Session, *, token: str, new_password: str) -> User:
    row = _usable_reset_token(session, token)
    user = session.get(User, row.user_id)
    assert user is not None
    row.used_at = now()
    session.add(row)
    change_password(session, user=user, new_password=new_password)
    return user


# Invitations ------------------------------------------------------------------


def create_invitation(
    session: Session, *, email: str, role: Role, inviter: User, settings: Settings
) -> str:
    token = new_token()
    invitation = Invitation(
        token_hash=token_hash(token),
        email=normalize_email(email),
        role=role,
        invited_by_id=inviter.id,
        expires_at=now() + timedelta(days=settings.invitation_days),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session, action="invitation.created", actor_id=inviter.id,
        target_type="invitation", target_id=invitation.id, email=invitation.email, role=role.value,
    )
    return token


def open_invitation(session: Session, *, token: str) -> Invitation:
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == token_hash(token))
    ).first()
    if invitation is None or invitation.accepted_at is not None or invitation.expires_at <= now():
        raise InvalidToken(
            "This invitation has expired or has already been used. "
            "Ask the person who invited you for a new one."
        )
    return invitation


def pending_invitations(session: Session, *, role: Role) -> list[Invitation]:
    query = (
        select(Invitation)
        .where(
            Invitation.role == role,
            col(Invitation.accepted_at).is_(None),
            col(Invitation.expires_at) > now(),
        )
        .order_by(col(Invitation.created_at).desc())
    )
    return list(session.exec(query))


def accept_invitation(session: Session, *, token: str, user: User) -> Role:
    invitation = open_invitation(session, token=token)
    if normalize_email(user.email) != invitation.email:
        raise InvalidToken(
            f"This invitation was sent to {invitation.email}. "
            "Log in with that address to accept it."
        )
    assert user.id is not None
    role = Role(invitation.role)
    if role not in roles_of(session, user.id):
        session.add(UserRole(user_id=user.id, role=role, granted_by_id=invitation.invited_by_id))
    invitation.accepted_at = now()
    invitation.accepted_by_id = user.id
    session.add(invitation)
    audit.record(
        session, action="invitation.accepted", actor_id=user.id,
        target_type="invitation", target_id=invitation.id, role=role.value,
    )
    session.flush()
    return role
