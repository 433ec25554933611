"""routes: a regional premium per model (regional_premium_models)

Revision ID: 0006_route_premium_models
Revises: 0005_audit_mac
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_route_premium_models"
down_revision = "0005_audit_mac"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ALTER TABLE ADD COLUMN (not batch mode): recreating `route` on SQLite would trip the
    # foreign keys of flows and sources that point at it
    op.add_column("route", sa.Column("regional_premium_models", sa.JSON(), nullable=False,
                                     server_default=sa.text("'{}'")))


def downgrade() -> None:
    op.drop_column("route", "regional_premium_models")  # SQLite >= 3.35 drops columns natively
