"""issue 15 cohort invitations by e-mail

Revision ID: f9c5a4b6e3d7
Revises: d7a3e2f4c1b5
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = 'f9c5a4b6e3d7'
down_revision: str | None = 'd7a3e2f4c1b5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('cohort_invite',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=320), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('joined_user_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('joined_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_cohort_invite_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['user.id'], name=op.f('fk_cohort_invite_invited_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['joined_user_id'], ['user.id'], name=op.f('fk_cohort_invite_joined_user_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_invite')),
    sa.UniqueConstraint('cohort_id', 'email', name=op.f('uq_cohort_invite_cohort_id'))
    )
    with op.batch_alter_table('cohort_invite', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cohort_invite_cohort_id'), ['cohort_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_invite_invited_by_id'), ['invited_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cohort_invite_joined_user_id'), ['joined_user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('cohort_invite', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cohort_invite_joined_user_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_invite_invited_by_id'))
        batch_op.drop_index(batch_op.f('ix_cohort_invite_cohort_id'))

    op.drop_table('cohort_invite')
