"""feedback from outside Telos: a request by e-mailed link, without an account

Revision ID: a3f9d21c7e58
Revises: f74dab23e5a8
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import app.clock

revision: str = 'a3f9d21c7e58'
down_revision: str | None = 'f74dab23e5a8'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A batch rebuild is safe here: no table refers to feedback_request.
    with op.batch_alter_table('feedback_request', schema=None) as batch_op:
        batch_op.alter_column('reviewer_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column(
            'reviewer_email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True))
        batch_op.add_column(sa.Column(
            'reviewer_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False,
            server_default=''))
        batch_op.add_column(sa.Column('token_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column(
            'expires_at', app.clock.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column(
            'withdrawn_at', app.clock.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_feedback_request_token_hash'), ['token_hash'])


def downgrade() -> None:
    # Requests to people without an account cannot exist in the older schema.
    op.execute('DELETE FROM feedback_request WHERE reviewer_id IS NULL')
    with op.batch_alter_table('feedback_request', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_feedback_request_token_hash'), type_='unique')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('expires_at')
        batch_op.drop_column('token_hash')
        batch_op.drop_column('reviewer_name')
        batch_op.drop_column('reviewer_email')
        batch_op.alter_column('reviewer_id', existing_type=sa.Integer(), nullable=False)
