"""issue 13 study arms and waves

Revision ID: c6f2d1e3b0a4
Revises: b5e1c0d2a9f3
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'c6f2d1e3b0a4'
down_revision: str | None = 'b5e1c0d2a9f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A batch rebuild is safe here: no table refers to study_cohort.
    with op.batch_alter_table('study_cohort', schema=None) as batch_op:
        batch_op.add_column(sa.Column('arm', sa.String(length=16), nullable=False,
                                      server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('study_cohort', schema=None) as batch_op:
        batch_op.drop_column('arm')
