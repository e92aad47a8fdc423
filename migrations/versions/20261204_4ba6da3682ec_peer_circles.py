"""peer circles: forming, circles, memberships, posts and reports

Revision ID: 4ba6da3682ec
Revises: a3f9d21c7e58
Create Date: 2026-12-03 13:18:47.906761
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = '4ba6da3682ec'
down_revision: str | None = 'a3f9d21c7e58'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('circle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('shared_themes', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('meeting_link', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('locked', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_circle_cohort_id_cohort'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circle')),
    sa.UniqueConstraint('cohort_id', 'number', name=op.f('uq_circle_cohort_id'))
    )
    with op.batch_alter_table('circle', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circle_cohort_id'), ['cohort_id'], unique=False)

    op.create_table('circle_forming',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cohort_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('min_size', sa.Integer(), nullable=False),
    sa.Column('max_size', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('started_by_id', sa.Integer(), nullable=True),
    sa.Column('started_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('computed_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('error', sa.Text(), server_default='', nullable=False),
    sa.ForeignKeyConstraint(['cohort_id'], ['cohort.id'], name=op.f('fk_circle_forming_cohort_id_cohort'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['started_by_id'], ['user.id'], name=op.f('fk_circle_forming_started_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circle_forming')),
    sa.UniqueConstraint('cohort_id', name=op.f('uq_circle_forming_cohort_id'))
    )
    with op.batch_alter_table('circle_forming', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circle_forming_started_by_id'), ['started_by_id'], unique=False)

    op.create_table('circle_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('circle_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('left_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('removed_by_id', sa.Integer(), nullable=True),
    sa.Column('muted', sa.Boolean(), nullable=False),
    sa.Column('digest_sent_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['circle_id'], ['circle.id'], name=op.f('fk_circle_membership_circle_id_circle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['removed_by_id'], ['user.id'], name=op.f('fk_circle_membership_removed_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_circle_membership_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circle_membership')),
    sa.UniqueConstraint('circle_id', 'user_id', name=op.f('uq_circle_membership_circle_id'))
    )
    with op.batch_alter_table('circle_membership', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circle_membership_circle_id'), ['circle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_membership_removed_by_id'), ['removed_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_membership_user_id'), ['user_id'], unique=False)

    op.create_table('circle_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('circle_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('hidden_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('hidden_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_circle_post_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['circle_id'], ['circle.id'], name=op.f('fk_circle_post_circle_id_circle'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['hidden_by_id'], ['user.id'], name=op.f('fk_circle_post_hidden_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['circle_post.id'], name=op.f('fk_circle_post_parent_id_circle_post'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circle_post'))
    )
    with op.batch_alter_table('circle_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circle_post_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_post_circle_id'), ['circle_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_post_hidden_by_id'), ['hidden_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_post_parent_id'), ['parent_id'], unique=False)

    op.create_table('circle_post_report',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=True),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('resolved_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['post_id'], ['circle_post.id'], name=op.f('fk_circle_post_report_post_id_circle_post'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reporter_id'], ['user.id'], name=op.f('fk_circle_post_report_reporter_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['user.id'], name=op.f('fk_circle_post_report_resolved_by_id_user'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_circle_post_report')),
    sa.UniqueConstraint('post_id', 'reporter_id', name=op.f('uq_circle_post_report_post_id'))
    )
    with op.batch_alter_table('circle_post_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_circle_post_report_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_post_report_reporter_id'), ['reporter_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_circle_post_report_resolved_by_id'), ['resolved_by_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('circle_post_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circle_post_report_resolved_by_id'))
        batch_op.drop_index(batch_op.f('ix_circle_post_report_reporter_id'))
        batch_op.drop_index(batch_op.f('ix_circle_post_report_post_id'))

    op.drop_table('circle_post_report')
    with op.batch_alter_table('circle_post', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circle_post_parent_id'))
        batch_op.drop_index(batch_op.f('ix_circle_post_hidden_by_id'))
        batch_op.drop_index(batch_op.f('ix_circle_post_circle_id'))
        batch_op.drop_index(batch_op.f('ix_circle_post_author_id'))

    op.drop_table('circle_post')
    with op.batch_alter_table('circle_membership', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circle_membership_user_id'))
        batch_op.drop_index(batch_op.f('ix_circle_membership_removed_by_id'))
        batch_op.drop_index(batch_op.f('ix_circle_membership_circle_id'))

    op.drop_table('circle_membership')
    with op.batch_alter_table('circle_forming', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circle_forming_started_by_id'))

    op.drop_table('circle_forming')
    with op.batch_alter_table('circle', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_circle_cohort_id'))

    op.drop_table('circle')
