"""Tampering the public hash chain cannot show: truncation, forged appends, recomputed chains
(issue 9.4). With the audit key and a checkpoint each is named, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from compliance.access import SYSTEM, Actor, Role
from compliance.cli import main
from compliance.problems import ComplianceError
from compliance.store import Store
from compliance.store.audit import ChainReport, chain_events, event_hash, verify_chain
from compliance.store.audit_checkpoint import Checkpoint, take_checkpoint
from compliance.store.audit_key import event_mac
from compliance.store.edits import update_record
from compliance.store.tables import AuditEventRow
from tests.conftest import Databases, open_store
from tests.test_audit import drop_guard, run_sql

KEY = "k" * 32
ADMIN = Actor("tester", Role.admin)


@pytest.fixture
def keyed(databases: Databases, backend: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A store whose every event was signed with the audit key."""
    monkeypatch.setenv("COMPLIANCE_AUDIT_KEY", KEY)
    store = open_store(databases.url(backend), data_dir)
    yield store
    store.dispose()


@pytest.fixture
def unkeyed(databases: Databases, backend: str, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.delenv("COMPLIANCE_AUDIT_KEY", raising=False)
    monkeypatch.delenv("COMPLIANCE_AUDIT_KEY_FILE", raising=False)
    store = open_store(databases.url(backend), data_dir)
    yield store
    store.dispose()


def verify(store: Store, key: str | None = KEY, point: Checkpoint | None = None) -> ChainReport:
    with store.session() as session:
        return verify_chain(session, key=key.encode() if key else None, checkpoint=point)


def checkpoint(store: Store, key: str | None = KEY) -> Checkpoint:
    with store.session() as session:
        return take_checkpoint(chain_events(session), key.encode() if key else None)


def events(store: Store) -> list[AuditEventRow]:
    """The log as objects a forger can change (chain_events gives read-only rows)."""
    with store.session() as session:
        return [AuditEventRow(**row._mapping) for row in chain_events(session)]  # type: ignore[attr-defined]


def edit_owner(store: Store, owner: str) -> None:
    with store.session() as session:
        version = session.exec(select(sa.literal_column("version")).select_from(sa.table("provider"))
                               .where(sa.literal_column("id") == "aws")).one()
        update_record(session, entity="provider", key="aws", expected_version=version, changes={"owner": owner},
                      actor=ADMIN, reason="test")


def append_forged(store: Store, *, mac: str | None) -> None:
    """A well-formed event linked to the head, hashed by the public recipe."""
    head = events(store)[-1]
    forged = AuditEventRow(at=head.at, actor="mallory", action="update", entity="provider", entity_id="aws",
                           changes={"owner": {"old": None, "new": "mallory"}}, prev_hash=head.hash, hash="")
    forged.hash = event_hash(forged)
    with store.engine.begin() as connection:
        connection.execute(sa.text("INSERT INTO audit_event (id, at, actor, action, entity, entity_id, changes, "
                                   "reason, prev_hash, hash, mac) VALUES (:id, :at, 'mallory', 'update', 'provider', "
                                   "'aws', :changes, NULL, :prev, :hash, :mac)"),
                           {"id": (head.id or 0) + 1, "at": head.at, "changes": json.dumps(forged.changes),
                            "prev": head.hash, "hash": forged.hash, "mac": mac})


def alter_and_recompute(store: Store, event_id: int) -> None:
    """Change one event's actor and recompute its hash and every later one (MACs cannot be recomputed)."""
    drop_guard(store)
    rows = events(store)
    prev = None
    with store.engine.begin() as connection:
        for row in rows:
            if row.id is not None and row.id >= event_id:
                if row.id == event_id:
                    row.actor = "mallory"
                row.prev_hash = prev or row.prev_hash
                row.hash = event_hash(row)
                connection.execute(sa.text("UPDATE audit_event SET actor = :actor, prev_hash = :prev, hash = :hash "
                                           "WHERE id = :id"),
                                   {"actor": row.actor, "prev": row.prev_hash, "hash": row.hash, "id": row.id})
            prev = row.hash


def test_a_keyed_store_signs_every_event_and_verifies(keyed: Store) -> None:
    rows = events(keyed)
    assert rows and all(r.mac == event_mac(KEY.encode(), r.hash) for r in rows)
    report = verify(keyed)
    assert report.ok and report.signed == len(rows)
    assert "keyed" in str(report)


def test_an_unkeyed_chain_says_what_that_means(unkeyed: Store) -> None:
    report = verify(unkeyed, key=None)
    assert report.ok and "unkeyed" in str(report) and "recompute" in str(report)


@pytest.mark.parametrize("deleted", [1, 10, "all"])
def test_deleting_the_newest_events_is_noticed_against_a_checkpoint(keyed: Store, deleted: int | str) -> None:
    point = checkpoint(keyed)
    drop_guard(keyed)
    head = events(keyed)[-1].id or 0
    if deleted == "all":
        run_sql(keyed, "DELETE FROM audit_event")
    else:
        run_sql(keyed, f"DELETE FROM audit_event WHERE id > {head - int(deleted)}")
    assert verify(keyed).ok  # the rest is still a valid, signed chain: only the checkpoint can tell
    report = verify(keyed, point=point)
    assert not report.ok and "deleted" in report.problem
    assert f"recorded {point.events} events" in report.problem


def test_deleting_the_newest_events_is_noticed_without_a_key_too(unkeyed: Store) -> None:
    point = checkpoint(unkeyed, key=None)
    drop_guard(unkeyed)
    run_sql(unkeyed, f"DELETE FROM audit_event WHERE id = {events(unkeyed)[-1].id}")
    report = verify(unkeyed, key=None, point=point)
    assert not report.ok and "1 event was deleted" in report.problem


@pytest.mark.parametrize("mac", [None, "f" * 64])
def test_a_forged_append_is_noticed_with_the_key(keyed: Store, mac: str | None) -> None:
    append_forged(keyed, mac=mac)
    report = verify(keyed)
    forged = events(keyed)[-1]
    assert not report.ok and report.first_bad_id == forged.id
    assert ("no MAC" if mac is None else "MAC does not match") in report.problem


def test_a_forged_append_before_a_checkpoint_is_noticed_without_a_key(unkeyed: Store) -> None:
    point = checkpoint(unkeyed, key=None)
    drop_guard(unkeyed)
    last = events(unkeyed)[-1]
    run_sql(unkeyed, f"DELETE FROM audit_event WHERE id = {last.id}")  # replace the head by a forged one
    append_forged(unkeyed, mac=None)
    assert verify(unkeyed, key=None).ok
    report = verify(unkeyed, key=None, point=point)
    assert not report.ok and "rewritten" in report.problem


def test_altering_an_event_and_recomputing_later_hashes_needs_the_key_to_notice(keyed: Store) -> None:
    alter_and_recompute(keyed, 7)
    assert verify(keyed, key=None).ok  # the public chain is consistent again
    report = verify(keyed)
    assert not report.ok and report.first_bad_id == 7 and "MAC does not match" in report.problem


def test_altering_before_a_checkpoint_is_noticed_without_the_key(unkeyed: Store) -> None:
    point = checkpoint(unkeyed, key=None)
    alter_and_recompute(unkeyed, 7)
    assert verify(unkeyed, key=None).ok
    report = verify(unkeyed, key=None, point=point)
    assert not report.ok and "rewritten" in report.problem


def test_stripping_every_mac_is_noticed_against_a_checkpoint(keyed: Store) -> None:
    point = checkpoint(keyed)
    drop_guard(keyed)
    run_sql(keyed, "UPDATE audit_event SET mac = NULL")
    report = verify(keyed, point=point)
    assert not report.ok and "MACs were removed" in report.problem


def test_stripping_the_newest_macs_is_noticed_with_the_key(keyed: Store) -> None:
    drop_guard(keyed)
    head = events(keyed)[-1].id or 0
    run_sql(keyed, f"UPDATE audit_event SET mac = NULL WHERE id > {head - 3}")
    report = verify(keyed)
    assert not report.ok and report.first_bad_id == head - 2 and "no MAC" in report.problem


def test_a_wrong_key_is_noticed(keyed: Store) -> None:
    report = verify(keyed, key="another-key-of-enough-length")
    assert not report.ok and report.first_bad_id == events(keyed)[0].id


def test_an_altered_checkpoint_file_is_noticed(keyed: Store) -> None:
    point = checkpoint(keyed)
    forged = Checkpoint(**{**point.__dict__, "events": point.events - 1,
                           "head_hash": events(keyed)[point.events - 2].hash})
    report = verify(keyed, point=forged)
    assert not report.ok and "checkpoint file does not match" in report.problem


def test_an_old_unkeyed_log_stays_verifiable_after_a_key_is_set(unkeyed: Store,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    before = len(events(unkeyed))
    monkeypatch.setenv("COMPLIANCE_AUDIT_KEY", KEY)
    edit_owner(unkeyed, "legal@northwind.example")
    report = verify(unkeyed)
    assert report.ok and report.signed == 1 and report.checked == before + 1
    assert f"the {before} earlier events predate the key" in str(report)


def test_a_keyed_log_refuses_unkeyed_writes(keyed: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COMPLIANCE_AUDIT_KEY")
    count = len(events(keyed))
    with pytest.raises(ComplianceError, match="no key is configured"):
        edit_owner(keyed, "someone")
    assert len(events(keyed)) == count


@pytest.mark.parametrize("value", ["short", ""])
def test_a_weak_key_is_refused(keyed: Store, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("COMPLIANCE_AUDIT_KEY", value)
    with pytest.raises(ComplianceError, match="shorter than 16"):
        edit_owner(keyed, "someone")


def test_a_key_file_is_read_and_a_missing_one_is_an_error(keyed: Store, monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    monkeypatch.delenv("COMPLIANCE_AUDIT_KEY")
    key_file = tmp_path / "audit.key"
    key_file.write_text(KEY + "\n")
    monkeypatch.setenv("COMPLIANCE_AUDIT_KEY_FILE", str(key_file))
    edit_owner(keyed, "from-key-file")
    assert verify(keyed).ok
    monkeypatch.setenv("COMPLIANCE_AUDIT_KEY_FILE", str(tmp_path / "missing.key"))
    with pytest.raises(ComplianceError, match="cannot be read"):
        edit_owner(keyed, "someone")


def test_truncate_is_refused_on_postgresql(databases: Databases, data_dir: Path) -> None:
    store = open_store(databases.url("postgres"), data_dir)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        run_sql(store, "TRUNCATE audit_event")
    drop_guard(store)  # dropping the row triggers does not open TRUNCATE either
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        run_sql(store, "TRUNCATE audit_event")
    assert events(store)
    store.dispose()


def test_checkpoint_and_verify_commands(keyed: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", keyed.engine.url.render_as_string(hide_password=False))
    point = tmp_path / "head.json"
    assert main(["audit", "checkpoint", "--out", str(point)]) == 0
    assert "signed with the audit key" in capsys.readouterr().out
    assert main(["audit", "checkpoint"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == json.loads(point.read_text())["events"]
    assert main(["audit", "verify", "--checkpoint", str(point)]) == 0
    assert "checkpoint of" in capsys.readouterr().out
    drop_guard(keyed)
    run_sql(keyed, f"DELETE FROM audit_event WHERE id = {events(keyed)[-1].id}")
    assert main(["audit", "verify", "--checkpoint", str(point)]) == 1
    assert "deleted" in capsys.readouterr().out
    point.write_text("{not json")
    assert main(["audit", "verify", "--checkpoint", str(point)]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert main(["audit", "verify", "--checkpoint", str(tmp_path / "missing.json")]) == 2


def test_seeding_signs_with_the_system_actor(keyed: Store) -> None:
    assert events(keyed)[0].actor == SYSTEM.name and events(keyed)[0].mac
