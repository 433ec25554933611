"""records: legal's facts on features (purposes, data subjects, legal basis, customer data, AI Act) and
the subprocessor notice with its announcements

Revision ID: 0007_records
Revises: 0006_route_premium_models
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_records"
down_revision = "0006_route_premium_models"
branch_labels = None
depends_on = None

LEGAL_BASES = ("consent", "contract", "legal_obligation", "vital_interests", "public_task", "legitimate_interests")


def upgrade() -> None:
    # Plain ADD COLUMN, not batch mode: on SQLite a batch rebuild of feature would drop the table, and
    # ON DELETE CASCADE would take every flow with it (as in 0003).
    op.add_column("feature", sa.Column("purposes", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    op.add_column("feature", sa.Column("data_subjects", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    # SQLite cannot add a CHECK with ADD COLUMN (and a batch rebuild would cascade, see above): the
    # columns get their checks on PostgreSQL; on SQLite the YAML schema and the model check the values.
    op.add_column("feature", sa.Column(
        "legal_basis", sa.Enum(*LEGAL_BASES, native_enum=False, create_constraint=False, length=20,
                               name="legal_basis"), nullable=True))
    op.add_column("feature", sa.Column("customer_data", sa.Boolean(create_constraint=False), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        values = ", ".join(f"'{v}'" for v in LEGAL_BASES)
        op.create_check_constraint("legal_basis", "feature", f"legal_basis IN ({values})")
    op.add_column("feature", sa.Column("ai_act", sa.JSON(), nullable=True))
    op.create_table(
        "subprocessor_notice",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notice_days", sa.Integer(), nullable=False),
        sa.Column("announcements", sa.JSON(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_subprocessor_notice_single_row")),
        sa.CheckConstraint("notice_days >= 0", name=op.f("ck_subprocessor_notice_notice_days")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subprocessor_notice")),
    )


def downgrade() -> None:
    op.drop_table("subprocessor_notice")
    for column in ("ai_act", "customer_data", "legal_basis", "data_subjects", "purposes"):
        op.execute(f"ALTER TABLE feature DROP COLUMN {column}")  # SQLite >= 3.35 and PostgreSQL; no rebuild
