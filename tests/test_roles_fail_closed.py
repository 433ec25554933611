"""Roles fail closed: a configured roles file must exist and be valid; names are normalised (issue 9, item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.access import Actor, Role, cli_actor, load_role_map
from compliance.cli import main
from compliance.config import load_settings
from compliance.problems import InvalidInput
from compliance.store import Store
from compliance.store.audit import latest_event_id, list_events
from compliance.store.export import write_dataset
from tests.helpers import replace_in

ROLES = "default: viewer\nusers:\n  Admin@Northwind.Example: admin\n  legal@northwind.example: legal\n"


@pytest.fixture
def cli_store(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'roles.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    store = Store.open(load_settings())
    roles = tmp_path / "roles.yaml"
    roles.write_text(ROLES)
    monkeypatch.setenv("COMPLIANCE_ROLES_FILE", str(roles))
    return store


def _marker(store: Store) -> int:
    with store.snapshot() as session:
        return latest_event_id(session)


def test_a_configured_roles_file_that_does_not_exist_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_ROLES_FILE", "/nonexistent/roles.yaml")
    with pytest.raises(InvalidInput, match="roles file does not exist"):
        cli_actor("someone", "root")


def test_cli_write_with_a_missing_roles_file_exits_2_and_changes_nothing(
        cli_store: Store, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COMPLIANCE_ROLES_FILE", "/nonexistent")
    replace_in(data_dir / "routes.yaml", "    retention_days: 55", "    retention_days: 30")
    before = _marker(cli_store)
    assert main(["--actor", "someone", "load"]) == 2
    assert "/nonexistent" in capsys.readouterr().err
    assert _marker(cli_store) == before


@pytest.mark.parametrize("content", ["users: [a, b]\n", "users:\n  a@b.example: superuser\n", "users: {a: [\n",
                                     "- just a list\n"])
def test_an_invalid_roles_file_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text(content)
    monkeypatch.setenv("COMPLIANCE_ROLES_FILE", str(path))
    with pytest.raises(InvalidInput):
        cli_actor("a@b.example", "root")


def test_a_default_roles_file_that_is_a_broken_link_is_an_error(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    link = tmp_path / "roles.yaml"
    link.symlink_to(tmp_path / "gone.yaml")
    monkeypatch.delenv("COMPLIANCE_ROLES_FILE", raising=False)
    monkeypatch.setattr("compliance.access.DEFAULT_ROLES_FILE", link)
    with pytest.raises(InvalidInput):
        load_role_map()


def test_without_any_roles_file_the_cli_is_in_local_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLIANCE_ROLES_FILE", raising=False)
    monkeypatch.setattr("compliance.access.DEFAULT_ROLES_FILE", tmp_path / "roles.yaml")
    assert cli_actor(None, "Root").role is Role.admin


def test_actor_names_are_normalised_before_lookup_and_in_the_record(cli_store: Store, data_dir: Path) -> None:
    assert cli_actor(" ADMIN@Northwind.Example ", "root") == Actor("admin@northwind.example", Role.admin)
    assert cli_actor("LEGAL@northwind.EXAMPLE", "root") == Actor("legal@northwind.example", Role.legal)
    assert cli_actor("stranger@example.com ", "root") == Actor("stranger@example.com", Role.viewer)
    replace_in(data_dir / "routes.yaml", "    retention_days: 55", "    retention_days: 30")
    assert main(["--actor", " ADMIN@Northwind.Example ", "load"]) == 0
    with cli_store.snapshot() as session:
        assert {e.actor for e in list_events(session, limit=1)} == {"admin@northwind.example"}


def test_an_empty_actor_is_refused(cli_store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--actor", "   ", "load"]) == 2
    assert "--actor is empty" in capsys.readouterr().err


def test_a_viewers_reorder_load_is_refused_and_changes_nothing(cli_store: Store, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    dataset = cli_store.read()
    dataset.providers.reverse()
    write_dataset(dataset, tmp_path / "reordered")
    before = (_marker(cli_store), [p.id for p in cli_store.read().providers])
    assert main(["--actor", "viewer@northwind.example", "load", str(tmp_path / "reordered")]) == 2
    assert "may not change provider" in capsys.readouterr().err
    assert (_marker(cli_store), [p.id for p in cli_store.read().providers]) == before
