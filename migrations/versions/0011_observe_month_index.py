"""observe: an index in the order `observe report` groups daily aggregates by month, covering what it sums

Revision ID: 0011_observe_month_index
Revises: 0010_observe
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_observe_month_index"
down_revision = "0010_observe"
branch_labels = None
depends_on = None

_DAY = sa.column("day", sa.Date())


def upgrade() -> None:
    # the same expressions as compliance.store.tables.USAGE_MONTH, so the database matches the report's GROUP BY
    op.create_index("ix_observed_usage_month", "observed_usage", [
        "feature", "route", "model", sa.extract("year", _DAY), sa.extract("month", _DAY), "day", "requests",
        "input_tokens", "output_tokens", "cached_input_tokens", "reported_cost"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_observed_usage_month", table_name="observed_usage")
