"""decision log: the service's answers, append-only

Revision ID: 0004_decision_log
Revises: 0003_scan
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0004_decision_log"
down_revision = "0003_scan"
branch_labels = None
depends_on = None

MESSAGE = "the decision log is append-only"


def upgrade() -> None:
    op.create_table(
        "decision_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caller", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("feature", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("category", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("route", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("residency", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("decision", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("policy_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("store_head", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decision_log")),
    )
    with op.batch_alter_table("decision_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_decision_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_decision_log_category"), ["category"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"""
            CREATE FUNCTION decision_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION '{MESSAGE}'; END $$
        """)
        op.execute("""
            CREATE TRIGGER decision_log_append_only BEFORE UPDATE OR DELETE ON decision_log
            FOR EACH ROW EXECUTE FUNCTION decision_log_append_only()
        """)
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER decision_log_no_{action.lower()} BEFORE {action} ON decision_log
                BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
            """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS decision_log_append_only ON decision_log")
        op.execute("DROP FUNCTION IF EXISTS decision_log_append_only()")
    with op.batch_alter_table("decision_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_decision_log_category"))
        batch_op.drop_index(batch_op.f("ix_decision_log_at"))
    op.drop_table("decision_log")
