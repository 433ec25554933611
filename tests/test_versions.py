"""Every change to any part of a record moves its version, by any path (issue 9, item 3).

An edit based on a version read before a load must be refused when the load changed the record,
even when the load changed only its child rows (DPA, BAA, certifications, sources, flows).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.access import SYSTEM, Actor, Role
from compliance.problems import Conflict
from compliance.store import Store
from compliance.store.edits import record_doc, update_record
from tests.helpers import replace_in

LEGAL = Actor("legal@northwind.example", Role.legal)
ENGINEER = Actor("eng@northwind.example", Role.engineer)

# (file, old text, new text, entity, key): each changes only child rows of one record
CHILD_CHANGES = {
    "dpa": ("providers.yaml", "expires_on: 2026-10-31", "expires_on: 2027-10-31", "provider", "anthropic"),
    "certification": ("providers.yaml", "evidence: conflicting registries (one says no ISO 42001)",
                      "evidence: registry entry checked", "provider", "anthropic"),
    "provider source": ("providers.yaml", "url: https://tygartmedia.com/?p=11632\n        as_of: 2026-06-13",
                        "url: https://tygartmedia.com/?p=11632\n        as_of: 2026-07-01", "provider", "anthropic"),
    "route source": ("routes.yaml", "note: 30 days per the stored copy; third parties report 7 days from 2025-09-15",
                     "note: 30 days per the stored copy", "route", "claude-direct"),
    "flow": ("features.yaml", "share: 0.2\n        categories: [user.name, user.contact.email, user.content.private]",
             "share: 0.25\n        categories: [user.name, user.contact.email, user.content.private]",
             "feature", "support-reply-draft"),
}


def _version(store: Store, entity: str, key: str) -> int:
    with store.snapshot() as session:
        return record_doc(session, entity, key)[1]


@pytest.mark.parametrize("change", list(CHILD_CHANGES))
def test_load_that_changes_only_child_rows_moves_the_version(store: Store, data_dir: Path, change: str) -> None:
    file, old, new, entity, key = CHILD_CHANGES[change]
    before = _version(store, entity, key)
    replace_in(data_dir / file, old, new)
    report = store.load(data_dir, actor=SYSTEM)
    assert report.updated == {entity: 1}
    assert _version(store, entity, key) == before + 1


@pytest.mark.parametrize("change", list(CHILD_CHANGES))
def test_edit_based_on_a_version_read_before_a_child_change_load_is_refused(store: Store, data_dir: Path,
                                                                              change: str) -> None:
    file, old, new, entity, key = CHILD_CHANGES[change]
    stale = _version(store, entity, key)
    replace_in(data_dir / file, old, new)
    store.load(data_dir, actor=SYSTEM)
    actor = ENGINEER if entity == "feature" else LEGAL
    with pytest.raises(Conflict), store.session() as session:
        update_record(session, entity=entity, key=key, expected_version=stale,
                      changes={"owner": "someone-else"} if entity != "route" else {"verified_by": "x"},
                      actor=actor)
    assert store.read() == store.validate_dir(data_dir)  # the load's change stayed; nothing was reverted


def test_load_of_identical_data_keeps_versions(store: Store, data_dir: Path) -> None:
    before = _version(store, "provider", "anthropic")
    store.load(data_dir, actor=SYSTEM)
    assert _version(store, "provider", "anthropic") == before


def _reordered_folder(store: Store, tmp_path: Path) -> Path:
    from compliance.store.export import write_dataset

    dataset = store.read()
    dataset.providers.reverse()
    write_dataset(dataset, tmp_path / "reordered")
    return tmp_path / "reordered"


def test_viewer_cannot_reorder_through_a_load(store: Store, tmp_path: Path) -> None:
    from compliance.access import PermissionDenied

    before = store.read()
    folder = _reordered_folder(store, tmp_path)
    with pytest.raises(PermissionDenied, match="provider"):
        store.load(folder, actor=Actor("viewer@northwind.example", Role.viewer))
    assert [p.id for p in store.read().providers] == [p.id for p in before.providers]


def test_reorder_is_one_audited_change(store: Store, tmp_path: Path) -> None:
    from compliance.store.audit import list_events

    before = [p.id for p in store.read().providers]
    report = store.load(_reordered_folder(store, tmp_path), actor=LEGAL)
    with store.snapshot() as session:
        events = list_events(session, limit=report.events)
    assert [(e.action, e.entity) for e in events] == [("reorder", "provider")]
    assert events[0].changes == {"order": {"old": before, "new": before[::-1]}}
    assert [p.id for p in store.read().providers] == before[::-1]


def test_adding_a_record_at_the_top_is_not_a_reorder(store: Store, data_dir: Path) -> None:
    from compliance.store.audit import list_events

    replace_in(data_dir / "providers.yaml", "providers:\n", "providers:\n  - id: newco\n    name: NewCo\n")
    report = store.load(data_dir, actor=LEGAL)
    with store.snapshot() as session:
        events = list_events(session, limit=report.events)
    assert [(e.action, e.entity_id) for e in events] == [("create", "newco")]
