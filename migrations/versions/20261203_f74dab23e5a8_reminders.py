"""reminders: follow-up invitations, nudges, opt-out

Revision ID: f74dab23e5a8
Revises: e63c9a12d4f7
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

revision: str = 'f74dab23e5a8'
down_revision: str | None = 'e63c9a12d4f7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
