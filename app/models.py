"""Every table, imported in one place so Alembic's env.py sees the whole schema."""

from app.accounts.models import (
    Invitation,
    PasswordResetToken,
    RateLimitEvent,
    Role,
    User,
    UserRole,
    UserSession,
)
from app.audit.models import AuditEvent

__all__ = [
    "AuditEvent",
    "Invitation",
    "PasswordResetToken",
    "RateLimitEvent",
    "Role",
    "User",
    "UserRole",
    "UserSession",
]
