"""matching: runs as jobs, stored suggestions

Revision ID: e63c9a12d4f7
Revises: d52b8f01c3e6
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = 'e63c9a12d4f7'
down_revision: str | None = 'd52b8f01c3e6'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RUNNING_ONLY = sa.text("status = 'running'")


def upgrade() -> None:
    # Plain ADD COLUMN, not a batch rebuild: rebuilding match_run on SQLite with foreign
    # keys on would set every match's run_id to NULL.
    op.add_column('match_run', sa.Column('job_id', sa.Integer(), nullable=True))
    op.add_column('match_run', sa.Column('computed_at', app.clock.UTCDateTime(timezone=True),
                                         nullable=True))
    op.add_column('match_run', sa.Column('error', sa.Text(), nullable=False,
                                         server_default=''))
    op.create_index('uq_match_run_one_running', 'match_run', ['cohort_id'], unique=True,
                    sqlite_where=RUNNING_ONLY, postgresql_where=RUNNING_ONLY)
    op.create_table('member_suggestions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('mentors', sa.JSON(), nullable=False),
    sa.Column('content', sa.JSON(), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('computed_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('user_id', name=op.f('uq_member_suggestions_user_id'))
    )


def downgrade() -> None:
    op.drop_table('member_suggestions')
    op.drop_index('uq_match_run_one_running', table_name='match_run')
    # SQLite 3.35+ drops a column in place; a batch rebuild would lose matches' run ids.
    for column in ('error', 'computed_at', 'job_id'):
        op.execute(f'ALTER TABLE match_run DROP COLUMN {column}')
