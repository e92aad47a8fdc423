"""reminders: follow-up invitations, nudges, opt-out

Revision ID: f74dab23e5a8
Revises: e63c9a12d4f7
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = 'f74dab23e5a8'
down_revision: str | None = 'e63c9a12d4f7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Every existing member gets reminders, as a new one does. (The default stays: taking
    # it off would rebuild the user table on SQLite.)
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminders', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('enrolment_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('wave', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('occasion', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('sent_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['enrolment_id'], ['enrolment.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('enrolment_id', 'kind', 'wave', 'occasion')
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_enrolment_id'), ['enrolment_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_table('reminder')
    # Plain ALTER (SQLite 3.35+ has DROP COLUMN): a batch rebuild would drop the user
    # table, and with foreign keys on that deletes every row that refers to it.
    op.execute('ALTER TABLE "user" DROP COLUMN reminders')
