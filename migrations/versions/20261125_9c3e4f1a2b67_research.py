"""studies and exports

Revision ID: 9c3e4f1a2b67
Revises: 5b1d0c2e7a41
Create Date: 2026-11-25 09:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = '9c3e4f1a2b67'
down_revision: str | None = '5b1d0c2e7a41'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('consent_document',
                  sa.Column('research_free_text', sa.Boolean(), nullable=False,
                            server_default=sa.false()))
    op.create_table('study',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('consent_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('battery', sa.JSON(), nullable=False),
    sa.Column('free_text', sa.Boolean(), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('slug')
    )
    op.create_index(op.f('ix_study_created_by_id'), 'study', ['created_by_id'], unique=False)
    op.create_table('study_cohort',
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('study_id', 'cohort_id')
    )
    op.create_index(op.f('ix_study_cohort_cohort_id'), 'study_cohort', ['cohort_id'],
                    unique=False)
    op.create_table('study_researcher',
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('added_by_id', sa.Integer(), nullable=True),
    sa.Column('added_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['user.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('study_id', 'user_id')
    )
    op.create_index(op.f('ix_study_researcher_added_by_id'), 'study_researcher',
                    ['added_by_id'], unique=False)
    op.create_index(op.f('ix_study_researcher_user_id'), 'study_researcher', ['user_id'],
                    unique=False)
    op.create_table('kept_enrolment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('participant_code', sa.String(length=32), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('consent_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kept_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('participant_code')
    )
    op.create_index(op.f('ix_kept_enrolment_cohort_id'), 'kept_enrolment', ['cohort_id'],
                    unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_kept_enrolment_cohort_id'), table_name='kept_enrolment')
    op.drop_table('kept_enrolment')
    op.drop_index(op.f('ix_study_researcher_user_id'), table_name='study_researcher')
    op.drop_index(op.f('ix_study_researcher_added_by_id'), table_name='study_researcher')
    op.drop_table('study_researcher')
    op.drop_index(op.f('ix_study_cohort_cohort_id'), table_name='study_cohort')
    op.drop_table('study_cohort')
    op.drop_index(op.f('ix_study_created_by_id'), table_name='study')
    op.drop_table('study')
    with op.batch_alter_table('consent_document') as batch:
        batch.drop_column('research_free_text')
