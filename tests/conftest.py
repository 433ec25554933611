"""Fixtures: real stores on SQLite and (when enabled) PostgreSQL, and scratch data folders."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
import streamlit as st
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from compliance.config import PROJECT_ROOT, Settings
from compliance.store import Store

# Hypothesis: the default profile ("ci", what `./test.sh` and the README's test command run) is
# deterministic: the same examples in the same order on every machine, no example database, no
# timing deadline, so two runs of one commit give one answer. `./test.sh --fuzz` loads "fuzz":
# random examples, FUZZ_FACTOR times as many, and failures replayed from .hypothesis/ on the next run.
FUZZ_FACTOR = 10
settings.register_profile("ci", max_examples=100, derandomize=True, database=None, deadline=None, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", derandomize=False, deadline=None, print_blob=True,
                          max_examples=100 * FUZZ_FACTOR,
                          database=DirectoryBasedExampleDatabase(str(PROJECT_ROOT / ".hypothesis" / "examples")),
                          suppress_health_check=[HealthCheck.too_slow])
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
settings.load_profile(PROFILE)


def examples(count: int) -> int:
    """A test's own example count: as written under "ci", FUZZ_FACTOR times more under `--fuzz`."""
    return count * FUZZ_FACTOR if PROFILE == "fuzz" else count


EXAMPLE_DATA = PROJECT_ROOT / "data"
POSTGRES_URL = os.environ.get("COMPLIANCE_TEST_POSTGRES_URL")
POSTGRES_SKIP = (
    "PostgreSQL tests are off: set COMPLIANCE_TEST_POSTGRES_URL="
    "postgresql+psycopg://postgres@127.0.0.1:5432/test (as .ci/run does) to run them"
)


class Databases:
    """Hands out empty databases: a SQLite file, or a fresh schema on the PostgreSQL server."""

    def __init__(self, tmp_path: Path):
        self.tmp_path = tmp_path
        self.schemas: list[str] = []

    def url(self, backend: str) -> str:
        if backend == "sqlite":
            return f"sqlite:///{self.tmp_path / f'store-{uuid.uuid4().hex[:8]}.db'}"
        if not POSTGRES_URL:
            pytest.skip(POSTGRES_SKIP)
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
        engine.dispose()
        self.schemas.append(schema)
        separator = "&" if "?" in POSTGRES_URL else "?"
        return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"

    def drop_all(self) -> None:
        if not self.schemas or not POSTGRES_URL:
            return
        engine = sa.create_engine(POSTGRES_URL)
        with engine.begin() as connection:
            for schema in self.schemas:
                connection.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        engine.dispose()


@pytest.fixture
def databases(tmp_path: Path) -> Iterator[Databases]:
    dbs = Databases(tmp_path)
    yield dbs
    dbs.drop_all()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A private copy of the example data that a test may edit."""
    target = tmp_path / "data"
    shutil.copytree(EXAMPLE_DATA, target, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    return target


def open_store(url: str, data: Path, *, seed: bool = True) -> Store:
    return Store.open(Settings(database_url=url, data_dir=data, policy_dir=PROJECT_ROOT / "policies"), seed=seed)


@pytest.fixture
def store(databases: Databases, backend: str, data_dir: Path) -> Iterator[Store]:
    """A store on each database, filled with the example data."""
    opened = open_store(databases.url(backend), data_dir)
    yield opened
    opened.dispose()


@pytest.fixture
def empty_store(databases: Databases, backend: str, data_dir: Path) -> Iterator[Store]:
    opened = open_store(databases.url(backend), data_dir, seed=False)
    yield opened
    opened.dispose()


@pytest.fixture
def app_env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The dashboard's configuration pointed at a private SQLite store, with Streamlit's caches cleared."""
    db = tmp_path / "app.db"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{db}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(PROJECT_ROOT / "policies"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield db
    st.cache_resource.clear()
