"""issue 15 batteries per study

Revision ID: e8b4f3a5d2c6
Revises: d7a3e2f4c1b5
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = 'e8b4f3a5d2c6'
down_revision: str | None = 'd7a3e2f4c1b5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
