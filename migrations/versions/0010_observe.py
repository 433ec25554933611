"""observe: record ids as 64-bit integers (one B-tree on SQLite), and the values behind an unplaced row

Revision ID: 0010_observe
Revises: 0009_models
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_observe"
down_revision = "0009_models"
branch_labels = None
depends_on = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _signed(hex_key: str) -> int:
    value = int(hex_key[:16], 16)
    return value - (1 << 64) if value >= 1 << 63 else value


def upgrade() -> None:
    bind = op.get_bind()
    old = [(_signed(key), import_id) for key, import_id in
           bind.execute(sa.text("SELECT key, import_id FROM observed_record")).all()]
    with op.batch_alter_table("observed_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observed_record_import_id"))
    op.drop_table("observed_record")
    table = op.create_table(
        "observed_record",
        sa.Column("key", _KEY, autoincrement=False, nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["observed_import.id"],
                                name=op.f("fk_observed_record_import_id_observed_import"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_observed_record")),
    )
    if old:
        unique = {key: import_id for key, import_id in old}
        op.bulk_insert(table, [{"key": k, "import_id": v} for k, v in unique.items()])
    with op.batch_alter_table("observed_usage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("observed_usage", schema=None) as batch_op:
        batch_op.drop_column("facts")
    # the 128-bit hex digests cannot be rebuilt from 64 bits: the ids counted are forgotten, not the aggregates
    op.drop_table("observed_record")
    op.create_table(
        "observed_record",
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["observed_import.id"],
                                name=op.f("fk_observed_record_import_id_observed_import"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_observed_record")),
    )
    with op.batch_alter_table("observed_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observed_record_import_id"), ["import_id"], unique=False)
