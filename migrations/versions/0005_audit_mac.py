"""audit events carry a keyed MAC; TRUNCATE of the audit log is refused on PostgreSQL

Revision ID: 0005_audit_mac
Revises: 0004_decision_log
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_audit_mac"
down_revision = "0004_decision_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: events written before a key was configured keep only the public hash chain.
    op.add_column("audit_event", sa.Column("mac", sa.String(length=64), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        # Row triggers (0002) do not fire on TRUNCATE; a statement-level trigger does.
        op.execute("""
            CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only()
        """)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_event")
    op.drop_column("audit_event", "mac")
