"""scan: feature code globs, route scan hints, recorded scan findings

Revision ID: 0003_scan
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes  # noqa: F401
from alembic import op

revision = '0003_scan'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scan_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('paths', sa.JSON(), nullable=False),
    sa.Column('rules_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_run'))
    )
    op.create_table('scan_finding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('finding_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('file', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('cell', sa.Integer(), nullable=True),
    sa.Column('function', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('sdk', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('callee', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.Column('route', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('feature', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['scan_run.id'], name=op.f('fk_scan_finding_run_id_scan_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scan_finding')),
    sa.UniqueConstraint('run_id', 'position', name='uq_scan_finding_run_position')
    )
    with op.batch_alter_table('scan_finding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scan_finding_run_id'), ['run_id'], unique=False)

    # Plain ADD COLUMN, not batch mode: on SQLite a batch rebuild of feature would drop the table, and
    # ON DELETE CASCADE would take every flow with it.
    op.add_column('feature', sa.Column('code', sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.add_column('route', sa.Column('scan', sa.JSON(), nullable=True))



def downgrade() -> None:
    op.execute("ALTER TABLE route DROP COLUMN scan")  # SQLite >= 3.35 and PostgreSQL; no table rebuild
    op.execute("ALTER TABLE feature DROP COLUMN code")

    with op.batch_alter_table('scan_finding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scan_finding_run_id'))

    op.drop_table('scan_finding')
    op.drop_table('scan_run')
