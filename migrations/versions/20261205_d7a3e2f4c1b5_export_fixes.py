"""issue 13 export defects and study editing

Revision ID: d7a3e2f4c1b5
Revises: c6f2d1e3b0a4
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'd7a3e2f4c1b5'
down_revision: str | None = 'c6f2d1e3b0a4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('study', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))

    with op.batch_alter_table('kept_enrolment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('account_code', sa.String(length=32), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_kept_enrolment_account_code'), ['account_code'], unique=False)
    op.execute("UPDATE kept_enrolment SET account_code = participant_code")


def downgrade() -> None:
    with op.batch_alter_table('kept_enrolment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kept_enrolment_account_code'))
        batch_op.drop_column('account_code')

    with op.batch_alter_table('study', schema=None) as batch_op:
        batch_op.drop_column('version')
