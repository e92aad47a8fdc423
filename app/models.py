"""Every table, imported in one place so Alembic's env.py sees the whole schema."""

from app.accounts.consent_models import ConsentDocument, ConsentRecord
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
from app.community.models import Cohort
from app.journeys.models import (
    Commitment,
    Enrolment,
    FeedbackRequest,
    JourneyVersion,
    StatementVersion,
    StepAnswer,
)
from app.surveys.models import InstrumentVersion, SurveyResponse, SurveyScore

__all__ = [
    "AuditEvent",
    "Cohort",
    "Commitment",
    "ConsentDocument",
    "ConsentRecord",
    "Enrolment",
    "FeedbackRequest",
    "InstrumentVersion",
    "Invitation",
    "JourneyVersion",
    "PasswordResetToken",
    "RateLimitEvent",
    "Role",
    "StatementVersion",
    "StepAnswer",
    "SurveyResponse",
    "SurveyScore",
    "User",
    "UserRole",
    "UserSession",
]
