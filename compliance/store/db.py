"""Engines, sessions and schema upgrades (Alembic is the only way the schema changes)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlmodel import Session

from compliance.config import PROJECT_ROOT
from compliance.problems import ComplianceError

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


class StoreUnavailable(ComplianceError):
    """The database URL is wrong or the database cannot be reached."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def _require_sqlite_file(url: str, path: Path) -> None:
    """Refuse, before connecting (which would create or convert it), a file that holds no SQLite database."""
    hint = "this command only reads an existing store; `init` creates one"
    if not path.is_file():
        raise StoreUnavailable(f"no store at {url!r}: {path} does not exist ({hint})")
    with path.open("rb") as handle:
        header = handle.read(16)
    if not header:
        raise StoreUnavailable(f"no store at {url!r}: {path} is empty ({hint})")
    if header != b"SQLite format 3\x00":
        raise StoreUnavailable(f"cannot open the store at {url!r}: {path} is not a database")


def create_store_engine(url: str, *, create: bool = True) -> Engine:
    """An engine for any SQLAlchemy URL; SQLite gets foreign keys, WAL and a busy timeout.

    With `create=False` a SQLite file that does not exist is an error (connecting would create it).
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreUnavailable(f"database URL {url!r} is not valid: {exc}") from exc
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not create:
            _require_sqlite_file(url, Path(database))
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = sa.create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreUnavailable(f"no database driver for {parsed.drivername!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_existing_store(engine: Engine) -> None:
    """A StoreUnavailable unless the database already holds a compliance store (any revision)."""
    try:
        found = current_revision(engine)
    except sa.exc.DatabaseError as exc:
        raise StoreUnavailable(f"cannot open the store at {engine.url!r}: {exc.orig}") from exc
    if found is None:
        raise StoreUnavailable(f"no store at {engine.url!r}: the database holds no compliance store (this command "
                               "only reads an existing store; `init` creates one)")


def upgrade(engine: Engine, revision: str = "head") -> bool:
    """Migrate the store to `revision`; return True when it had no schema before."""
    try:
        before = current_revision(engine)
        if before == head_revision() and revision == "head":
            return False
        logging.getLogger("alembic").setLevel(logging.WARNING)
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    except sa.exc.DatabaseError as exc:  # unreachable, or not a database at all ("file is not a database")
        raise StoreUnavailable(f"cannot open the store at {engine.url!r}: {exc.orig}") from exc
    return before is None


def downgrade(engine: Engine, revision: str) -> None:
    with engine.begin() as connection:
        command.downgrade(alembic_config(connection), revision)


@contextmanager
def read_snapshot(engine: Engine) -> Iterator[Session]:
    """A read-only session whose SELECTs all see one committed state of the store.

    PostgreSQL: one REPEATABLE READ, READ ONLY transaction (a snapshot taken at its first query).
    SQLite: an explicit BEGIN, so every SELECT runs in one read transaction; with WAL the
    snapshot is fixed at the first read and readers never block the writer. Without this, each
    SELECT sees whatever was committed last, and a read during a load can mix two states.
    """
    bind = engine
    if engine.dialect.name == "postgresql":
        bind = engine.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    with Session(bind, expire_on_commit=False) as session:
        try:
            if engine.dialect.name == "sqlite":
                session.execute(sa.text("BEGIN"))
            yield session
            session.commit()  # ends the read transaction; keeps the loaded objects usable (no expiry)
        except BaseException:
            session.rollback()
            raise


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose work commits together or not at all."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
