"""observe: features' telemetry service names, observed usage (daily aggregates), imports, counted record ids

Revision ID: 0008_observed_usage
Revises: 0007_records
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0008_observed_usage"
down_revision = "0007_records"
branch_labels = None
depends_on = None


def _text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "observed_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", _text(200), nullable=False),
        sa.Column("files", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("seen", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_import")),
    )
    op.create_table(
        "observed_record",
        sa.Column("key", _text(32), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["observed_import.id"],
                                name=op.f("fk_observed_record_import_id_observed_import"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_observed_record")),
    )
    with op.batch_alter_table("observed_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observed_record_import_id"), ["import_id"], unique=False)
    op.create_table(
        "observed_usage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("feature", _text(100), nullable=True),
        sa.Column("route", _text(100), nullable=True),
        sa.Column("model", _text(200), nullable=False),
        sa.Column("source", _text(20), nullable=False),
        sa.Column("seen", _text(2000), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), nullable=False),
        sa.Column("cached_input_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reported_cost", sa.Float(), nullable=True),
        sa.Column("reported_requests", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observed_usage")),
    )
    with op.batch_alter_table("observed_usage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_observed_usage_day"), ["day"], unique=False)
    # Plain ADD COLUMN, not batch mode (see 0003): a batch rebuild of feature would cascade-delete its flows.
    op.add_column("feature", sa.Column("services", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    op.execute("ALTER TABLE feature DROP COLUMN services")
    with op.batch_alter_table("observed_usage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observed_usage_day"))
    op.drop_table("observed_usage")
    with op.batch_alter_table("observed_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_observed_record_import_id"))
    op.drop_table("observed_record")
    op.drop_table("observed_import")
