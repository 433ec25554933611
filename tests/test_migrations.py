"""Alembic is the only way the schema changes: up from empty to head and back down."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from compliance.store.audit import verify_chain
from compliance.store.db import create_store_engine, current_revision, downgrade, head_revision, upgrade
from tests.conftest import Databases
from tests.fixtures.make_store_0001 import TARGET as FIXTURE
from tests.fixtures.make_store_0001 import make


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


# SQLite cannot reflect an expression index (ix_observed_usage_month), so it is compared on PostgreSQL only;
# tests/test_observe.py checks that SQLite reads the report's monthly sums from it
@pytest.mark.filterwarnings("ignore:.*expression-based index")
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


COUNTED = ("provider", "agreement", "certification", "fact_source", "route", "category", "feature", "flow",
           "flow_category", "cost_segment", "projection", "price_override", "audit_event")


def row_counts(engine: sa.Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {t: connection.execute(sa.text(f"SELECT count(*) FROM {t}")).scalar_one() for t in COUNTED}


def test_a_store_written_by_the_first_schema_upgrades_without_losing_rows(tmp_path: Path) -> None:
    copy = tmp_path / "old.db"
    shutil.copy(FIXTURE, copy)
    engine = create_store_engine(f"sqlite:///{copy}")
    assert current_revision(engine) == "0001"
    before = row_counts(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert row_counts(engine) == before and before["provider"] >= 9
    with Session(engine) as session:
        assert verify_chain(session).ok
    engine.dispose()


def test_first_schema_store_upgrades_on_postgres_too(databases: Databases) -> None:
    url = databases.url("postgres")
    make(url, "0001")
    engine = create_store_engine(url)
    before = row_counts(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision() and row_counts(engine) == before
    engine.dispose()


def test_restore_from_an_export_gives_the_same_store(databases: Databases, backend: str, tmp_path: Path) -> None:
    """The documented backup and restore: export DIR, then load DIR into a new store."""
    from compliance.access import SYSTEM
    from tests.conftest import EXAMPLE_DATA, open_store

    source = open_store(databases.url(backend), EXAMPLE_DATA)
    source.export(tmp_path / "backup")
    restored = open_store(databases.url(backend), tmp_path / "none", seed=False)
    restored.load(tmp_path / "backup", actor=SYSTEM)
    assert restored.read() == source.read()
