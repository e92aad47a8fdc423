"""issue 13 races and the member-mentor thread

Revision ID: b5e1c0d2a9f3
Revises: 4ba6da3682ec
Create Date: 2026-12-03 16:00:00
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.clock

revision: str = 'b5e1c0d2a9f3'
down_revision: str | None = '4ba6da3682ec'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN_ONLY = sa.text("status IN ('proposed', 'accepted')")
match_run = sa.table('match_run', sa.column('id', sa.Integer()),
                     sa.column('excluded', sa.JSON()))
match_exclusion = sa.table('match_exclusion', sa.column('run_id', sa.Integer()),
                           sa.column('member_id', sa.Integer()),
                           sa.column('mentor_id', sa.Integer()),
                           sa.column('created_at', app.clock.UTCDateTime(timezone=True)))


def upgrade() -> None:
    _one_open_match_per_member()
    op.create_index('uq_mentor_match_one_open', 'mentor_match', ['member_id'], unique=True,
                    sqlite_where=OPEN_ONLY, postgresql_where=OPEN_ONLY)
    op.create_table('match_exclusion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('mentor_id', sa.Integer(), nullable=False),
    sa.Column('excluded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['excluded_by_id'], ['user.id'], name=op.f('fk_match_exclusion_excluded_by_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['member_id'], ['user.id'], name=op.f('fk_match_exclusion_member_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['mentor_id'], ['user.id'], name=op.f('fk_match_exclusion_mentor_id_user'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['match_run.id'], name=op.f('fk_match_exclusion_run_id_match_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_match_exclusion')),
    sa.UniqueConstraint('run_id', 'member_id', 'mentor_id', name=op.f('uq_match_exclusion_run_id'))
    )
    with op.batch_alter_table('match_exclusion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_match_exclusion_excluded_by_id'), ['excluded_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_exclusion_member_id'), ['member_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_exclusion_mentor_id'), ['mentor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_match_exclusion_run_id'), ['run_id'], unique=False)
    _exclusions_to_rows()
    # SQLite 3.35+ drops a column in place; a batch rebuild would lose matches' run ids.
    op.execute('ALTER TABLE match_run DROP COLUMN excluded')

    op.create_table('mentor_post',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', app.clock.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user.id'], name=op.f('fk_mentor_post_author_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['match_id'], ['mentor_match.id'], name=op.f('fk_mentor_post_match_id_mentor_match'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_post'))
    )
    with op.batch_alter_table('mentor_post', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_post_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_post_match_id'), ['match_id'], unique=False)

    op.create_table('mentor_thread_reader',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('muted', sa.Boolean(), nullable=False),
    sa.Column('notified_at', app.clock.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['match_id'], ['mentor_match.id'], name=op.f('fk_mentor_thread_reader_match_id_mentor_match'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mentor_thread_reader_user_id_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mentor_thread_reader')),
    sa.UniqueConstraint('match_id', 'user_id', name=op.f('uq_mentor_thread_reader_match_id'))
    )
    with op.batch_alter_table('mentor_thread_reader', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentor_thread_reader_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_mentor_thread_reader_user_id'), ['user_id'], unique=False)


def _one_open_match_per_member() -> None:
    """Before the index: a member left with two open matches by the old race keeps the
    newest; the older ones end as withdrawn."""
    op.execute(
        "UPDATE mentor_match SET status = 'withdrawn' "
        "WHERE status IN ('proposed', 'accepted') AND EXISTS ("
        "SELECT 1 FROM mentor_match AS newer WHERE newer.member_id = mentor_match.member_id "
        "AND newer.status IN ('proposed', 'accepted') AND newer.id > mentor_match.id)")


def _exclusions_to_rows() -> None:
    connection = op.get_bind()
    moment = app.clock.now()
    rows = {(run_id, int(pair[0]), int(pair[1]))
            for run_id, excluded in connection.execute(sa.select(match_run.c.id,
                                                                 match_run.c.excluded))
            for pair in _pairs(excluded)}
    if rows:
        op.bulk_insert(match_exclusion, [
            {'run_id': run_id, 'member_id': member, 'mentor_id': mentor, 'created_at': moment}
            for run_id, member, mentor in sorted(rows)])


def _pairs(excluded: object) -> list[list[int]]:
    value = json.loads(excluded) if isinstance(excluded, str) else excluded
    return [pair for pair in value or [] if isinstance(pair, list) and len(pair) == 2]


def downgrade() -> None:
    op.drop_table('mentor_thread_reader')
    op.drop_table('mentor_post')
    op.add_column('match_run', sa.Column('excluded', sa.JSON(), nullable=False,
                                         server_default='[]'))
    connection = op.get_bind()
    by_run: dict[int, list[list[int]]] = {}
    for run_id, member, mentor in connection.execute(sa.select(
            match_exclusion.c.run_id, match_exclusion.c.member_id,
            match_exclusion.c.mentor_id)):
        by_run.setdefault(run_id, []).append([member, mentor])
    for run_id, pairs in by_run.items():
        connection.execute(match_run.update().where(match_run.c.id == run_id)
                           .values(excluded=pairs))
    op.drop_table('match_exclusion')
    op.drop_index('uq_mentor_match_one_open', table_name='mentor_match')
