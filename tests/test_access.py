"""Roles are enforced in the library: every write path checks the actor."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compliance.access import Actor, PermissionDenied, Role, cli_actor, load_role_map
from compliance.cli import main
from compliance.problems import InvalidInput
from compliance.store import Store
from compliance.store.audit import latest_event_id
from compliance.store.edits import provider_doc, record_doc, set_agreement_expiry, update_projection, update_record
from tests.helpers import replace_in


def state(store: Store) -> tuple[object, int]:
    with store.session() as session:
        return store.read(), latest_event_id(session)


def test_an_engineer_cannot_change_a_dpa_and_nothing_changes(store: Store) -> None:
    before = state(store)
    with pytest.raises(PermissionDenied, match="needs the role admin or legal"), store.session() as session:
        _, version = provider_doc(session, "google")
        set_agreement_expiry(session, provider_id="google", kind="dpa", expires_on=date(2030, 1, 1),
                             expected_version=version, actor=Actor("eve", Role.engineer))
    assert state(store) == before


@pytest.mark.parametrize(("role", "entity", "key", "changes", "allowed"), [
    (Role.legal, "provider", "aws", {"owner": "new-owner"}, True),
    (Role.legal, "route", "openai-direct", {"status": "blocked"}, True),
    (Role.engineer, "route", "openai-direct", {"status": "approved"}, False),
    (Role.engineer, "feature", "marketing-copy", {"human_review": False}, True),
    (Role.finance, "feature", "marketing-copy", {"human_review": False}, False),
    (Role.finance, "segment", "b2b", {"users": 13000}, True),
    (Role.finance, "price_override", "aws-edp-2026", {"discount": 0.1}, True),
    (Role.legal, "segment", "b2b", {"users": 13000}, False),
    (Role.viewer, "provider", "aws", {"owner": "x"}, False),
    (Role.admin, "segment", "b2b", {"users": 14000}, True),
])
def test_each_role_changes_only_its_own_records(store: Store, role: Role, entity: str, key: str,
                                                changes: dict[str, object], allowed: bool) -> None:
    before = state(store)
    with store.session() as session:
        _, version = record_doc(session, entity, key)
    if allowed:
        with store.session() as session:
            update_record(session, entity=entity, key=key, expected_version=version, changes=changes,
                          actor=Actor("someone", role))
        assert state(store)[1] == before[1] + 1
    else:
        with pytest.raises(PermissionDenied), store.session() as session:
            update_record(session, entity=entity, key=key, expected_version=version, changes=changes,
                          actor=Actor("someone", role))
        assert state(store) == before


def test_projection_needs_finance(store: Store) -> None:
    with pytest.raises(PermissionDenied), store.session() as session:
        update_projection(session, expected_version=1, changes={"months": 12}, actor=Actor("l", Role.legal))


def test_a_load_needs_a_role_for_every_kind_it_changes(store: Store, data_dir: Path) -> None:
    replace_in(data_dir / "routes.yaml", "    retention_days: 55", "    retention_days: 30")  # a route (legal)
    replace_in(data_dir / "costs.yaml", "    users: 12000", "    users: 12500")  # a segment (finance)
    before = state(store)
    with pytest.raises(PermissionDenied, match="segment"):
        store.load(data_dir, actor=Actor("l", Role.legal))
    assert state(store) == before
    report = store.load(data_dir, actor=Actor("a", Role.admin))
    assert report.updated == {"route": 1, "segment": 1}


def test_role_map_by_email_and_domain(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text("default: viewer\nusers:\n  DPO@Northwind.example: legal\ndomains:\n  finance.example: finance\n")
    mapping = load_role_map(path)
    assert mapping is not None
    assert mapping.role_for("dpo@northwind.example") is Role.legal
    assert mapping.role_for("anyone@finance.example") is Role.finance
    assert mapping.role_for("stranger@else.example") is Role.viewer


def test_bad_role_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "roles.yaml"
    path.write_text("default: viewer\nusers:\n  a@b.c: superuser\n")
    with pytest.raises(InvalidInput, match="unknown role 'superuser'"):
        load_role_map(path)


def test_cli_actor_takes_its_role_from_the_mapping(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLIANCE_ROLES_FILE", raising=False)
    monkeypatch.setattr("compliance.access.DEFAULT_ROLES_FILE", tmp_path / "missing.yaml")
    assert cli_actor(None, "root").role is Role.admin  # local mode: no roles file configured or at the default
    path = tmp_path / "roles.yaml"
    path.write_text("users:\n  platform@northwind.example: engineer\n")
    monkeypatch.setenv("COMPLIANCE_ROLES_FILE", str(path))
    assert cli_actor("platform@northwind.example", "root") == Actor("platform@northwind.example", Role.engineer)
    assert cli_actor(None, "root").role is Role.viewer


def test_cli_load_by_a_viewer_is_refused(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'r.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.delenv("COMPLIANCE_ROLES_FILE", raising=False)
    monkeypatch.setattr("compliance.access.DEFAULT_ROLES_FILE", tmp_path / "none.yaml")
    assert main(["init"]) == 0
    (tmp_path / "roles.yaml").write_text("default: viewer\n")
    monkeypatch.setenv("COMPLIANCE_ROLES_FILE", str(tmp_path / "roles.yaml"))
    replace_in(data_dir / "routes.yaml", "    retention_days: 55", "    retention_days: 30")
    capsys.readouterr()
    assert main(["--actor", "someone", "load"]) == 2
    assert "may not change route" in capsys.readouterr().err
