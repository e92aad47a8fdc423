"""Every table, imported in one place so Alembic's env.py sees the whole schema."""

# Circles, jobs, matching and research tables register themselves when their modules are imported.
import app.community.circle_models
import app.community.invite_models
import app.jobs.models
import app.matching.models
import app.reminders.models
import app.research.models  # noqa: F401
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
from app.community.models import Cohort, ContentItem, Theme
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
    "ContentItem",
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
    "Theme",
    "User",
    "UserRole",
    "UserSession",
]
