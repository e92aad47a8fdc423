"""matching: runs as jobs, stored suggestions

Revision ID: e63c9a12d4f7
Revises: d52b8f01c3e6
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

revision: str = 'e63c9a12d4f7'
down_revision: str | None = 'd52b8f01c3e6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
