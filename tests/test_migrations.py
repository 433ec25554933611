"""Alembic is the only way the schema changes: up from empty to head and back down."""

from __future__ import annotations

import sqlalchemy as sa

from compliance.store.db import create_store_engine, current_revision, downgrade, head_revision, upgrade
from tests.conftest import Databases


def test_upgrade_to_head_and_downgrade_to_base(databases: Databases, backend: str) -> None:
    engine = create_store_engine(databases.url(backend))
    assert upgrade(engine) is True
    assert current_revision(engine) == head_revision()
    assert "provider" in sa.inspect(engine).get_table_names()
    assert upgrade(engine) is False  # already at head: nothing to do
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert set(sa.inspect(engine).get_table_names()) <= {"alembic_version"}
    assert upgrade(engine) is True  # and up again: nothing left behind that breaks it
    engine.dispose()


def test_schema_matches_the_models(databases: Databases, backend: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    engine = create_store_engine(databases.url(backend))
    upgrade(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), SQLModel.metadata)
    assert diff == []
    engine.dispose()
