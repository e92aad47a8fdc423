from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, String
from sqlmodel import Field

from app.accounts.roles import Role
from app.clock import UTCDateTime, now
from app.tables import SQLModel


def _timestamp() -> datetime:
    field: datetime = Field(default_factory=now, sa_type=UTCDateTime)
    return field


def _user_fk(*, nullable: bool = False, ondelete: str = "CASCADE") -> int:
    return Field(
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete=ondelete), nullable=nullable, index=True
        )
    )


class User(SQLModel, table=True):
    __tablename__ = "user"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(sa_column=Column(String(254), unique=True, nullable=False))
    display_name: str = Field(max_length=80)
    password_hash: str = Field(max_length=255)
    locale: str = Field(default="en", max_length=20)
    time_zone: str = Field(default="UTC", max_length=64)
    # Reminder e-mails (follow-up invitations, nudges); turned off on the profile or by
    # the link in every reminder.
    reminders: bool = True
    is_active: bool = True
    version: int = 1
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class UserRole(SQLModel, table=True):
    __tablename__ = "user_role"

    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("user.id", ondelete="CASCADE"), primary_key=True)
    )
    role: Role = Field(sa_column=Column(String(20), primary_key=True))
    granted_at: datetime = _timestamp()
    granted_by_id: int | None = _user_fk(nullable=True, ondelete="SET NULL")


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random token; only its hash is stored."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = _user_fk()
    created_at: datetime = _timestamp()
    last_seen_at: datetime = _timestamp()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=255)


class PasswordResetToken(SQLModel, table=True):
    __tablename__ = "password_reset_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    user_id: int = _user_fk()
    created_at: datetime = _timestamp()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Invitation(SQLModel, table=True):
    """An e-mailed link that gives a role to whoever accepts it with that address."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    email: str = Field(max_length=254, index=True)
    role: Role = Field(sa_column=Column(String(20), nullable=False))
    invited_by_id: int | None = _user_fk(nullable=True, ondelete="SET NULL")
    created_at: datetime = _timestamp()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    accepted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    accepted_by_id: int | None = _user_fk(nullable=True, ondelete="SET NULL")


class RateLimitEvent(SQLModel, table=True):
    """One counted attempt; kept in the database so every app process sees it."""

    __tablename__ = "rate_limit_event"
    __table_args__ = (Index("ix_rate_limit_event_lookup", "bucket", "key", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    bucket: str = Field(max_length=40)
    key: str = Field(max_length=300)
    created_at: datetime = _timestamp()
