"""research: export files built by jobs, the outcome report's cache

Revision ID: d52b8f01c3e6
Revises: c41a7e90b2d5
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = 'd52b8f01c3e6'
down_revision: str | None = 'c41a7e90b2d5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('export_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=False),
    sa.Column('format', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('selection', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ready_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('expires_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_export_file_study_id'), 'export_file', ['study_id'], unique=False)
    op.create_index(op.f('ix_export_file_requested_by_id'), 'export_file', ['requested_by_id'],
                    unique=False)
    op.create_index(op.f('ix_export_file_status'), 'export_file', ['status'], unique=False)
    op.create_index(op.f('ix_export_file_expires_at'), 'export_file', ['expires_at'],
                    unique=False)
    op.create_table('outcome_cache',
    sa.Column('study_id', sa.Integer(), nullable=False),
    sa.Column('data_version', sa.Integer(), nullable=False),
    sa.Column('computed_version', sa.Integer(), nullable=True),
    sa.Column('waiting', sa.Boolean(), nullable=False),
    sa.Column('computed_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.Column('chart_means', sa.Text(), nullable=False),
    sa.Column('chart_forest', sa.Text(), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['study_id'], ['study.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('study_id')
    )


def downgrade() -> None:
    op.drop_table('outcome_cache')
    op.drop_index(op.f('ix_export_file_expires_at'), table_name='export_file')
    op.drop_index(op.f('ix_export_file_status'), table_name='export_file')
    op.drop_index(op.f('ix_export_file_requested_by_id'), table_name='export_file')
    op.drop_index(op.f('ix_export_file_study_id'), table_name='export_file')
    op.drop_table('export_file')
