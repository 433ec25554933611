"""Small helpers for tests: editing YAML files, and a store a refused load must leave unchanged."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance.store import Store
    from compliance.store.documents import DataSet


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace text in a file, failing loudly when the text is not there."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def line_of(path: Path, needle: str, occurrence: int = 1) -> int:
    """The 1-based line number of the n-th line containing `needle`."""
    seen = 0
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            seen += 1
            if seen == occurrence:
                return number
    raise AssertionError(f"{needle!r} not found in {path}")


def initialised_store(tmp_path: Path, data_dir: Path, monkeypatch: Any) -> Store:
    """`init` through the CLI into a private SQLite store the environment then points the CLI at; that store."""
    from compliance.cli import main
    from compliance.config import PROJECT_ROOT, Settings
    from compliance.store import Store

    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", url)
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    assert main(["init"]) == 0
    return Store.open(Settings(database_url=url, data_dir=data_dir, policy_dir=PROJECT_ROOT / "policies"), seed=False)


def store_state(store: Store) -> tuple[DataSet, int]:
    """What a refused load must leave as it was: the store's contents and the length of its audit log."""
    from compliance.store.audit import count_events

    with store.snapshot() as session:
        return store.read(), count_events(session)
