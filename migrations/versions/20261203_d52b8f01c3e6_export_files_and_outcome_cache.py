"""research: export files built by jobs, the outcome report's cache

Revision ID: d52b8f01c3e6
Revises: c41a7e90b2d5
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

revision: str = 'd52b8f01c3e6'
down_revision: str | None = 'c41a7e90b2d5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
