"""Alembic environment: runs on the product's own connection, or on COMPLIANCE_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import compliance.store.tables  # noqa: F401 - registers the tables on SQLModel.metadata
from compliance.config import load_settings
from compliance.store.db import create_store_engine

target_metadata = SQLModel.metadata


def run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = create_store_engine(load_settings().database_url)
    with engine.begin() as own_connection:
        run(own_connection)
