"""The audit trail: append-only in the database, a hash chain that names the first bad event, exports."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlmodel import select

from compliance.store import Store
from compliance.store.audit import event_hash, verify_chain
from compliance.store.tables import AuditEventRow
from tests.conftest import Databases, open_store


@pytest.fixture
def audited(databases: Databases, backend: str, data_dir) -> Iterator[Store]:  # type: ignore[no-untyped-def]
    store = open_store(databases.url(backend), data_dir)
    yield store
    store.dispose()


def run_sql(store: Store, *statements: str) -> None:
    with store.engine.begin() as connection:
        for statement in statements:
            connection.execute(sa.text(statement))


def drop_guard(store: Store) -> None:
    """What an attacker with database admin rights would do first."""
    if store.engine.dialect.name == "postgresql":
        run_sql(store, "DROP TRIGGER audit_event_append_only ON audit_event")
    else:
        run_sql(store, "DROP TRIGGER audit_event_no_update", "DROP TRIGGER audit_event_no_delete")


def report(store: Store):  # type: ignore[no-untyped-def]
    with store.session() as session:
        return verify_chain(session)


def test_intact_chain_verifies(audited: Store) -> None:
    result = report(audited)
    assert result.ok and result.checked > 100


@pytest.mark.parametrize("statement", ["UPDATE audit_event SET actor = 'mallory' WHERE id = 5",
                                       "DELETE FROM audit_event WHERE id = 5"])
def test_the_database_refuses_to_change_audit_events(audited: Store, statement: str) -> None:
    with pytest.raises(sa.exc.DatabaseError, match="append-only"):
        run_sql(audited, statement)
    assert report(audited).ok


def test_an_altered_event_is_named(audited: Store) -> None:
    drop_guard(audited)
    run_sql(audited, "UPDATE audit_event SET actor = 'mallory' WHERE id = 7")
    result = report(audited)
    assert not result.ok and result.first_bad_id == 7 and "altered" in result.problem


def test_a_deleted_event_is_named(audited: Store) -> None:
    drop_guard(audited)
    run_sql(audited, "DELETE FROM audit_event WHERE id = 9")
    result = report(audited)
    assert not result.ok and result.first_bad_id == 10 and "deleted" in result.problem


def test_an_inserted_event_is_named(audited: Store) -> None:
    drop_guard(audited)
    columns = "id, at, actor, action, entity, entity_id, changes, reason, prev_hash, hash"
    with audited.session() as session:
        events = list(session.exec(select(AuditEventRow).order_by(AuditEventRow.id)))  # type: ignore[arg-type]
    # The attacker forges a well-formed event #12 that links to #11, and renumbers the rest.
    forged = AuditEventRow(at=events[10].at, actor="mallory", action="update", entity="provider", entity_id="aws",
                           changes={"dpa": {"old": None, "new": "signed"}}, prev_hash=events[10].hash, hash="")
    forged.hash = event_hash(forged)
    rows = [*events[:11], forged, *events[11:]]
    if audited.engine.dialect.name == "postgresql":
        run_sql(audited, "ALTER TABLE audit_event DROP CONSTRAINT uq_audit_event_prev_hash", "DELETE FROM audit_event")
    else:  # SQLite cannot drop a constraint: rebuild the table without it
        run_sql(audited, "CREATE TABLE stripped AS SELECT * FROM audit_event WHERE 0", "DROP TABLE audit_event",
                "ALTER TABLE stripped RENAME TO audit_event")
    with audited.engine.begin() as connection:
        for number, e in enumerate(rows, start=1):
            connection.execute(sa.text(f"INSERT INTO audit_event ({columns}) VALUES (:id, :at, :actor, :action, "
                                       ":entity, :entity_id, :changes, :reason, :prev_hash, :hash)"),
                               {"id": number, "at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity,
                                "entity_id": e.entity_id, "changes": json.dumps(e.changes), "reason": e.reason,
                                "prev_hash": e.prev_hash, "hash": e.hash})
    result = report(audited)
    assert not result.ok and result.first_bad_id == 12 and "inserted" in result.problem


def test_audit_export_writes_csv_and_json(audited: Store, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.cli import main

    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", str(audited.engine.url.render_as_string(hide_password=False)))
    assert main(["audit", "export", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == report(audited).checked
    assert {"id", "at", "actor", "action", "entity", "entity_id", "changes", "prev_hash", "hash"} <= set(rows[0])
    assert main(["audit", "export", "--format", "json"]) == 0
    events = json.loads(capsys.readouterr().out)["events"]
    assert len(events) == len(rows) and events[0]["prev_hash"] == "0" * 64


def test_audit_verify_command_exit_codes(audited: Store, capsys: pytest.CaptureFixture[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.cli import main

    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", str(audited.engine.url.render_as_string(hide_password=False)))
    assert main(["audit", "verify"]) == 0
    assert "intact" in capsys.readouterr().out
    drop_guard(audited)
    run_sql(audited, "UPDATE audit_event SET reason = 'nothing to see' WHERE id = 3")
    assert main(["audit", "verify"]) == 1
    assert "event #3" in capsys.readouterr().out
