"""The compliance store: tables, YAML load/export, derived facts and the audit log."""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, func, select

from compliance.access import SYSTEM, Actor
from compliance.config import Settings, load_settings
from compliance.problems import ComplianceError, Conflict, InvalidInput
from compliance.store import documents, tables
from compliance.store.convert import read_dataset
from compliance.store.db import (
    StoreUnavailable,
    create_store_engine,
    read_snapshot,
    require_existing_store,
    session_scope,
    upgrade,
)
from compliance.store.export import write_dataset
from compliance.store.sync import LoadReport, replace_dataset
from compliance.store.validate import read_data_dir

__all__ = ["LoadReport", "Store", "StoreUnavailable", "default_actor", "documents", "tables"]


def default_actor() -> str:
    """The OS user, for CLI writes without --actor."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


class Store:
    """One database holding providers, routes, categories, features, cost inputs and the audit log."""

    def __init__(self, engine: Engine, settings: Settings):
        self.engine = engine
        self.settings = settings
        self.seeded = False

    @classmethod
    def open(cls, settings: Settings | None = None, *, seed: bool = True, create: bool = True) -> Store:
        """Open the store, creating or upgrading its schema; fill a new store from the data folder.

        With `create=False` (read-only commands such as `audit verify`) a store that does not
        exist is an error: a mistyped path must not become a new, freshly seeded, "intact" store.
        """
        settings = settings or load_settings()
        store = cls(create_store_engine(settings.database_url, create=create), settings)
        if not create:
            require_existing_store(store.engine)
        created = upgrade(store.engine)
        if created and seed and settings.data_dir.is_dir():
            store.load(settings.data_dir, actor=SYSTEM, reason="first start: example data loaded")
            store.seeded = True
        return store

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read session (or a write one: everything commits together or not at all)."""
        try:
            with session_scope(self.engine) as session:
                yield session
        except StaleDataError as exc:
            raise Conflict(f"the record was changed by someone else first; nothing was overwritten ({exc})") from exc
        except sa.exc.IntegrityError as exc:
            raise ComplianceError(f"the store refused the change: {exc.orig}") from exc
        except sa.exc.OperationalError as exc:
            raise StoreUnavailable(f"the store at {self.engine.url!r} cannot be used: {exc.orig}") from exc
        except sa.exc.DatabaseError as exc:  # never the SQL and its parameters: they may hold anything
            raise ComplianceError(f"the store refused the change: {str(exc.orig).splitlines()[0]}") from exc

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session that sees one committed state for all its queries (no torn reads)."""
        try:
            with read_snapshot(self.engine) as session:
                yield session
        except sa.exc.OperationalError as exc:
            raise StoreUnavailable(f"the store at {self.engine.url!r} cannot be used: {exc.orig}") from exc

    def read(self) -> documents.DataSet:
        """The whole store as one committed state."""
        with self.snapshot() as session:
            return read_dataset(session)

    def is_empty(self) -> bool:
        with self.snapshot() as session:
            counts = [session.exec(select(func.count()).select_from(table)).one()
                      for table in (tables.ProviderRow, tables.RouteRow, tables.CategoryRow, tables.FeatureRow)]
        return not any(counts)

    def validate_dir(self, directory: Path) -> documents.DataSet:
        dataset, problems, _ = read_data_dir(directory)
        if problems or dataset is None:
            raise InvalidInput(problems)
        return dataset

    def load(self, directory: Path, *, actor: Actor, reason: str | None = None) -> LoadReport:
        """Validate all of `directory`, then replace the store's contents in one transaction."""
        return self.load_dataset(self.validate_dir(directory), actor=actor, reason=reason or f"load {directory}")

    def load_dataset(self, dataset: documents.DataSet, *, actor: Actor, reason: str | None = None,
                     dry_run: bool = False) -> LoadReport:
        """Replace the store's contents with a validated data set; `dry_run` reports and rolls back."""
        if not dry_run:
            with self.session() as session:
                return replace_dataset(session, dataset, actor=actor, reason=reason)
        try:
            with Session(self.engine) as session:
                try:
                    return replace_dataset(session, dataset, actor=actor, reason=reason)
                finally:
                    session.rollback()
        except sa.exc.OperationalError as exc:
            raise StoreUnavailable(f"the store at {self.engine.url!r} cannot be used: {exc.orig}") from exc

    def export(self, directory: Path) -> list[Path]:
        return write_dataset(self.read(), directory)

    def dispose(self) -> None:
        self.engine.dispose()
