"""issue 12 sharing into circles, issue 15 feedback by name

Revision ID: a1d6b5c7f4e8
Revises: f9c5a4b6e3d7
Create Date: 2026-12-03 16:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = 'a1d6b5c7f4e8'
down_revision: str | None = 'f9c5a4b6e3d7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('circle_share',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('circle_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('what', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('shared_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['circle_id'], ['circle.id'], name=op.f('fk_circle_share_circle_id_circle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], name=op.f('fk_circle_share_enrolment_id_enrolment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_circle_share_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circle_share')),
    sa.UniqueConstraint('circle_id', 'user_id', 'what', name=op.f('uq_circle_share_circle_id'))
    )
    with op.batch_alter_table('circle_share', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circle_share_circle_id'), ['circle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_share_enrolment_id'), ['enrolment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_share_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('feedback_request', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'answer_seen_at', app.clock.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('feedback_request', schema=None) as batch_op:
        batch_op.drop_column('answer_seen_at')

    with op.batch_alter_table('circle_share', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circle_share_user_id'))
        batch_op.drop_index(batch_op.f('ix_circle_share_enrolment_id'))
        batch_op.drop_index(batch_op.f('ix_circle_share_circle_id'))

    op.drop_table('circle_share')
