"""The store on SQLite and PostgreSQL: load, export, audit, locking, constraints."""

from __future__ import annotations

import itertools
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, select

from compliance.access import Actor, Role
from compliance.problems import Conflict, InvalidInput, NotFound
from compliance.store import Store
from compliance.store import tables as t
from compliance.store.audit import GENESIS, event_hash
from compliance.store.edits import provider_doc, set_agreement_expiry, update_provider
from compliance.store.validate import read_data_dir
from tests.conftest import Databases, open_store
from tests.helpers import replace_in

ADMIN = Actor("test", Role.admin)


def audit_events(store: Store) -> list[t.AuditEventRow]:
    with store.session() as session:
        return list(session.exec(select(t.AuditEventRow).order_by(t.AuditEventRow.id)))


def test_new_store_is_filled_from_the_data_folder(store: Store, data_dir: Path) -> None:
    expected, _, _ = read_data_dir(data_dir)
    assert store.seeded
    assert store.read() == expected


def test_export_then_load_into_a_new_store_is_identical(
    store: Store, databases: Databases, backend: str, tmp_path: Path
) -> None:
    store.export(tmp_path / "export")
    other = open_store(databases.url(backend), tmp_path / "export", seed=False)
    other.load(tmp_path / "export", actor=ADMIN)
    assert other.read() == store.read()
    eu = next(r for r in other.read().routes if r.id == "openai-direct-eu")
    assert eu.regional_premium_models == {"gpt-5": 0.0, "gpt-5-mini": 0.0}  # a JSON column survives the trip
    other.dispose()


def test_loading_identical_data_changes_nothing(store: Store, data_dir: Path) -> None:
    before = len(audit_events(store))
    report = store.load(data_dir, actor=ADMIN)
    assert report.events == 0 and not report.created and not report.updated and not report.deleted
    assert len(audit_events(store)) == before


def test_load_writes_one_audit_event_per_changed_record(store: Store, data_dir: Path) -> None:
    replace_in(data_dir / "routes.yaml", "    retention_days: 55", "    retention_days: 30")
    before = len(audit_events(store))
    report = store.load(data_dir, actor=Actor("alice", Role.legal), reason="retention re-checked")
    events = audit_events(store)[before:]
    assert report.updated == {"route": 1}
    assert [(e.action, e.entity, e.entity_id, e.actor) for e in events] == [("update", "route", "gemini-api", "alice")]
    assert events[0].changes == {"retention_days": {"old": 55, "new": 30}}
    assert events[0].reason == "retention re-checked"


def test_load_deletes_records_missing_from_the_folder(store: Store, data_dir: Path) -> None:
    text = (data_dir / "features.yaml").read_text()
    start = text.index("  - id: marketing-copy")
    (data_dir / "features.yaml").write_text(text[:start])
    store.load(data_dir, actor=ADMIN)
    assert "marketing-copy" not in [f.id for f in store.read().features]
    deletes = [e for e in audit_events(store) if e.action == "delete"]
    assert [(e.entity, e.entity_id) for e in deletes] == [("feature", "marketing-copy")]
    assert deletes[0].changes["name"] == {"old": "Marketing copy drafts", "new": None}


def test_failed_load_leaves_the_store_exactly_as_it_was(store: Store, data_dir: Path) -> None:
    before, events = store.read(), len(audit_events(store))
    replace_in(data_dir / "routes.yaml", "    retention_days: 55", "    retention_days: 30")  # a valid change
    replace_in(data_dir / "routes.yaml", "    processor: northwind", "    processor: nobody")  # and a mistake
    with pytest.raises(InvalidInput) as caught:
        store.load(data_dir, actor=ADMIN)
    assert "unknown provider 'nobody'" in str(caught.value)
    assert store.read() == before
    assert len(audit_events(store)) == events


def test_a_write_that_fails_midway_rolls_back_the_audit_events_too(store: Store) -> None:
    before, events = store.read(), len(audit_events(store))
    with pytest.raises(RuntimeError), store.session() as session:
        update_provider(session, provider_id="aws", expected_version=1, changes={"owner": "someone@x"},
                        actor=ADMIN)
        raise RuntimeError("crash before commit")
    assert store.read() == before
    assert len(audit_events(store)) == events


def test_audit_events_form_a_hash_chain(store: Store) -> None:
    events = audit_events(store)
    assert len(events) > 100  # the first load records every record it created
    assert events[0].prev_hash == GENESIS
    for previous, event in itertools.pairwise(events):
        assert event.prev_hash == previous.hash
    assert all(event_hash(e) == e.hash for e in events)


def test_second_of_two_concurrent_provider_edits_fails_cleanly(store: Store) -> None:
    with Session(store.engine) as first, Session(store.engine) as second:
        row_a = first.get(t.ProviderRow, "mistral")
        row_b = second.get(t.ProviderRow, "mistral")
        assert row_a is not None and row_b is not None
        row_a.owner = "first@northwind.example"
        row_b.owner = "second@northwind.example"
        first.commit()
        with pytest.raises(StaleDataError):
            second.commit()
    with store.session() as session:
        assert session.get(t.ProviderRow, "mistral").owner == "first@northwind.example"  # type: ignore[union-attr]


def test_edit_based_on_a_stale_version_is_refused_with_a_message(store: Store) -> None:
    with store.session() as session:
        _, version = provider_doc(session, "google")
    with store.session() as session:
        set_agreement_expiry(session, provider_id="google", kind="dpa", expires_on=date(2027, 6, 30),
                             expected_version=version, actor=Actor("legal-a", Role.legal))
    events = len(audit_events(store))
    with pytest.raises(Conflict) as caught, store.session() as session:
        set_agreement_expiry(session, provider_id="google", kind="dpa", expires_on=date(2027, 3, 1),
                             expected_version=version, actor=Actor("legal-b", Role.legal))
    assert "changed by someone else" in str(caught.value)
    google = next(p for p in store.read().providers if p.id == "google")
    assert google.dpa is not None and str(google.dpa.expires_on) == "2027-06-30"
    assert len(audit_events(store)) == events


def test_provider_edit_is_audited_with_old_and_new_values(store: Store) -> None:
    with store.session() as session:
        _, version = provider_doc(session, "google")
        new_version = set_agreement_expiry(session, provider_id="google", kind="dpa",
                                           expires_on=date(2028, 1, 15), expected_version=version,
                                           actor=Actor("legal-a", Role.legal))
    assert new_version == version + 1
    last = audit_events(store)[-1]
    assert (last.actor, last.entity, last.entity_id) == ("legal-a", "provider", "google")
    assert last.changes["dpa"]["old"]["expires_on"] == "2027-01-15"
    assert last.changes["dpa"]["new"]["expires_on"] == "2028-01-15"


def test_invalid_edit_is_refused_and_changes_nothing(store: Store) -> None:
    before = store.read()
    with pytest.raises(InvalidInput) as caught, store.session() as session:
        update_provider(session, provider_id="aws", expected_version=1, changes={"hq_country": "Germany"},
                        actor=ADMIN)
    assert "hq_country" in str(caught.value)
    assert store.read() == before


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("INSERT INTO route (version, id, position, name, model_provider_id, processor_id, service, residency, "
         "zero_data_retention, trains_on_inputs, status, models) VALUES (1, 'r1', 0, 'R', 'aws', 'nobody', 'S', "
         "'eu', false, false, 'approved', '[]')", "foreign key"),
        ("INSERT INTO agreement (provider_id, kind, status) VALUES ('aws', 'baa', 'in_review')", "status for kind"),
        ("INSERT INTO category (version, key, parent_key, position, name, sensitivity, tags) "
         "VALUES (1, 'user.zzz.x', 'user.zzz', 0, 'X', 'low', '[]')", "parent exists"),
        ("INSERT INTO category (version, key, position, name, sensitivity, tags) "
         "VALUES (1, 'x', 0, 'X', 'extreme', '[]')", "enum"),
        ("INSERT INTO provider (version, id, position, name) VALUES (1, 'aws', 0, 'Dup')", "unique id"),
        ("UPDATE flow SET share = 1.5", "share range"),
    ],
)
def test_database_enforces_constraints_itself(store: Store, statement: str, constraint: str) -> None:
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as connection:
        connection.execute(sa.text(statement))


LEGAL = Actor("legal-a", Role.legal)


def _announce(store: Store, processor: str, version: int, actor: Actor = LEGAL, day: date = date(2026, 12, 1)) -> int:
    from compliance.store.edits import record_announcement
    with store.session() as session:
        return record_announcement(session, processor=processor, announced_on=day, url=" https://x.example/sp ",
                                   expected_version=version, actor=actor, reason="posted on our list")


def test_an_announcement_is_added_audited_and_a_stale_one_refused(store: Store, data_dir: Path) -> None:
    from compliance.access import PermissionDenied
    from compliance.store.edits import notice_record

    replace_in(data_dir / "subprocessors.yaml", "    - processor: anthropic\n      announced_on: 2025-06-15\n"
               "      url: https://northwind.example/legal/subprocessors#2025-06-15\n", "")
    store.load(data_dir, actor=ADMIN)
    with store.session() as session:
        notice, version = notice_record(session)
    assert notice.announced_on("anthropic") is None and version >= 1
    events = len(audit_events(store))
    with pytest.raises(PermissionDenied):  # engineers do not announce subprocessors
        _announce(store, "anthropic", version, actor=Actor("eve", Role.engineer))
    new_version = _announce(store, "anthropic", version)
    assert new_version == version + 1
    stored = store.read().notice
    assert stored is not None and stored.announced_on("anthropic") == date(2026, 12, 1)
    assert stored.announcements[-1].url == "https://x.example/sp"  # trimmed, as a load keeps it
    assert [a.processor for a in stored.announcements] == ["aws", "google", "microsoft", "cohere", "anthropic"]
    last = audit_events(store)[-1]
    assert len(audit_events(store)) == events + 1
    assert (last.actor, last.entity, last.entity_id, last.action, last.reason) == \
        ("legal-a", "notice", "subprocessors", "update", "posted on our list")
    assert last.changes["announcements"]["new"][-1] == {"processor": "anthropic", "announced_on": "2026-12-01",
                                                        "url": "https://x.example/sp"}
    with pytest.raises(Conflict):  # a colleague's form drawn before that save
        _announce(store, "mistral", version)
    with pytest.raises(InvalidInput, match="already announced on 2026-12-01"):
        _announce(store, "anthropic", new_version)
    with pytest.raises(NotFound, match="unknown provider 'antropic'"):
        _announce(store, "antropic", new_version)
    assert store.read().notice == stored and len(audit_events(store)) == events + 1


def test_the_first_announcement_creates_the_notice(store: Store, data_dir: Path) -> None:
    from compliance.store.documents import Notice
    from compliance.store.edits import notice_record

    (data_dir / "subprocessors.yaml").unlink()
    store.load(data_dir, actor=ADMIN)
    with store.session() as session:
        assert notice_record(session) == (Notice(), 0)
    assert _announce(store, "aws", 0) == 1
    stored = store.read().notice
    assert stored is not None and stored.notice_days == 30 and stored.announced_on("aws") == date(2026, 12, 1)
    assert audit_events(store)[-1].action == "create"
    with pytest.raises(Conflict):
        _announce(store, "google", 0)
