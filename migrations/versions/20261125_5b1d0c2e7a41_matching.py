"""mentor profiles, match preferences, cohort weights, match runs and matches

Revision ID: 5b1d0c2e7a41
Revises: a7e2c4b9d013
Create Date: 2026-11-25 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = '5b1d0c2e7a41'
down_revision: str | None = 'a7e2c4b9d013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('match_preferences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('wishes', sa.JSON(), nullable=False),
    sa.Column('wants', sa.Text(), nullable=False),
    sa.Column('updated_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_match_preferences_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_preferences')),
    sa.UniqueConstraint('user_id', name=op.f('uq_match_preferences_user_id'))
    )
    op.create_table('mentor_profile',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('bio', sa.Text(), nullable=False),
    sa.Column('experience', sa.Text(), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('themes', sa.JSON(), nullable=False),
    sa.Column('offers', sa.JSON(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('accepting', sa.Boolean(), nullable=False),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mentor_profile_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_profile')),
    sa.UniqueConstraint('user_id', name=op.f('uq_mentor_profile_user_id'))
    )
    op.create_table('cohort_weights',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Float(), nullable=False),
    sa.Column('themes', sa.Float(), nullable=False),
    sa.Column('time_zone', sa.Float(), nullable=False),
    sa.Column('wishes', sa.Float(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_cohort_weights_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user.id'], name=op.f('fk_cohort_weights_updated_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cohort_weights')),
    sa.UniqueConstraint('cohort_id', name=op.f('uq_cohort_weights_cohort_id'))
    )
    op.create_index(op.f('ix_cohort_weights_updated_by_id'), 'cohort_weights', ['updated_by_id'], unique=False)
    op.create_table('match_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('weights', sa.JSON(), nullable=False),
    sa.Column('encoder', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('excluded', sa.JSON(), nullable=False),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('rerun_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_match_run_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['user.id'], name=op.f('fk_match_run_published_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_match_run_started_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_run'))
    )
    op.create_index(op.f('ix_match_run_cohort_id'), 'match_run', ['cohort_id'], unique=False)
    op.create_index(op.f('ix_match_run_published_by_id'), 'match_run', ['published_by_id'], unique=False)
    op.create_index(op.f('ix_match_run_started_by_id'), 'match_run', ['started_by_id'], unique=False)
    op.create_table('mentor_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=True),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('alternatives', sa.JSON(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('decline_reason', sa.Text(), nullable=False),
    sa.Column('member_fit', sa.Boolean(), nullable=True),
    sa.Column('mentor_fit', sa.Boolean(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('proposed_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ended_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_mentor_match_created_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['user.id'], name=op.f('fk_mentor_match_member_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['user.id'], name=op.f('fk_mentor_match_mentor_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['match_run.id'], name=op.f('fk_mentor_match_run_id_match_run'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_match'))
    )
    op.create_index(op.f('ix_mentor_match_created_by_id'), 'mentor_match', ['created_by_id'], unique=False)
    op.create_index(op.f('ix_mentor_match_member_id'), 'mentor_match', ['member_id'], unique=False)
    op.create_index(op.f('ix_mentor_match_mentor_id'), 'mentor_match', ['mentor_id'], unique=False)
    op.create_index('ix_mentor_match_pair', 'mentor_match', ['member_id', 'mentor_id'], unique=False)
    op.create_index(op.f('ix_mentor_match_run_id'), 'mentor_match', ['run_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_mentor_match_run_id'), table_name='mentor_match')
    op.drop_index('ix_mentor_match_pair', table_name='mentor_match')
    op.drop_index(op.f('ix_mentor_match_mentor_id'), table_name='mentor_match')
    op.drop_index(op.f('ix_mentor_match_member_id'), table_name='mentor_match')
    op.drop_index(op.f('ix_mentor_match_created_by_id'), table_name='mentor_match')
    op.drop_table('mentor_match')
    op.drop_index(op.f('ix_match_run_started_by_id'), table_name='match_run')
    op.drop_index(op.f('ix_match_run_published_by_id'), table_name='match_run')
    op.drop_index(op.f('ix_match_run_cohort_id'), table_name='match_run')
    op.drop_table('match_run')
    op.drop_index(op.f('ix_cohort_weights_updated_by_id'), table_name='cohort_weights')
    op.drop_table('cohort_weights')
    op.drop_table('mentor_profile')
    op.drop_table('match_preferences')
