"""models: lifecycle in route models (JSON), IP indemnity and latency on routes, quality and
latency needs on features, and eval results

Revision ID: 0009_models
Revises: 0008_observed_usage
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_models"
down_revision = "0008_observed_usage"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Route models were a JSON list of ids; entries may now also be {id, released_on, ...}: no DDL needed.
    with op.batch_alter_table("route") as batch:
        batch.add_column(sa.Column("ip_indemnity", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("latency", sa.JSON(), nullable=False, server_default="[]"))
    with op.batch_alter_table("feature") as batch:
        batch.add_column(sa.Column("quality", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("latency", sa.JSON(), nullable=True))
    op.create_table(
        "eval_result",
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("feature", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("route", sa.String(length=100), nullable=True),
        sa.Column("metric", sa.String(length=200), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("run_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=2000), nullable=False),
        sa.CheckConstraint("samples >= 0", name=op.f("ck_eval_result_samples")),
        sa.ForeignKeyConstraint(["feature"], ["feature.id"], name=op.f("fk_eval_result_feature_feature"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["route"], ["route.id"], name=op.f("fk_eval_result_route_route"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_eval_result")),
    )
    op.create_index(op.f("ix_eval_result_feature"), "eval_result", ["feature"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_eval_result_feature"), table_name="eval_result")
    op.drop_table("eval_result")
    with op.batch_alter_table("feature") as batch:
        batch.drop_column("latency")
        batch.drop_column("quality")
    with op.batch_alter_table("route") as batch:
        batch.drop_column("latency")
        batch.drop_column("ip_indemnity")
