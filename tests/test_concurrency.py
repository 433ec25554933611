"""Concurrent teams: many writers editing overlapping rows at once.

Every edit either commits or fails with a clean Conflict; no update is lost (each committed edit
was based on the version before it); the audit log has exactly one event per committed edit;
and the hash chain verifies (no fork, no gap).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlmodel import select

from compliance.access import Actor, Role
from compliance.problems import Conflict
from compliance.store import Store
from compliance.store.audit import verify_chain
from compliance.store.edits import record_doc, update_record
from compliance.store.tables import AuditEventRow
from tests.conftest import Databases, open_store

PROVIDERS = ["aws", "google", "openai"]


def hammer(url: str, data: Path, writers: int, edits: int) -> tuple[Counter[str], Counter[str], list[str]]:
    committed: Counter[str] = Counter()
    conflicts: Counter[str] = Counter()
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(writers)

    def writer(number: int) -> None:
        store = open_store(url, data, seed=False)
        actor = Actor(f"writer-{number}", Role.legal)
        start.wait()
        for n in range(edits):
            provider = PROVIDERS[(number + n) % len(PROVIDERS)]
            try:
                with store.session() as session:
                    _, version = record_doc(session, "provider", provider)
                with store.session() as session:
                    update_record(session, entity="provider", key=provider, expected_version=version,
                                  changes={"owner": f"writer-{number}-edit-{n}"}, actor=actor)
                with lock:
                    committed[provider] += 1
            except Conflict:
                with lock:
                    conflicts[provider] += 1
            except Exception as exc:  # anything else is a failure of the test subject
                with lock:
                    failures.append(f"{type(exc).__name__}: {exc}")
        store.dispose()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    return committed, conflicts, failures


def check_outcome(store: Store, committed: Counter[str], conflicts: Counter[str], failures: list[str],
                  versions_before: dict[str, int], events_before: int, total: int) -> None:
    assert failures == []
    assert sum(committed.values()) + sum(conflicts.values()) == total
    assert sum(committed.values()) > 0
    with store.session() as session:
        for provider in PROVIDERS:
            _, version = record_doc(session, "provider", provider)
            assert version - versions_before[provider] == committed[provider], provider  # no lost update
        events = list(session.exec(select(AuditEventRow).where(AuditEventRow.id > events_before)
                                   .order_by(AuditEventRow.id)))  # type: ignore[arg-type]
        assert len(events) == sum(committed.values())  # exactly one event per committed change
        for provider in PROVIDERS:
            mine = [e for e in events if e.entity_id == provider]
            for previous, event in itertools.pairwise(mine):
                assert event.changes["owner"]["old"] == previous.changes["owner"]["new"]  # each built on the last
        assert verify_chain(session).ok


def run_scenario(databases: Databases, backend: str, data_dir: Path, writers: int, edits: int) -> None:
    url = databases.url(backend)
    store = open_store(url, data_dir)
    with store.session() as session:
        versions = {p: record_doc(session, "provider", p)[1] for p in PROVIDERS}
        events_before = session.exec(select(AuditEventRow.id).order_by(AuditEventRow.id.desc())).first() or 0  # type: ignore[union-attr]
    started = time.perf_counter()
    committed, conflicts, failures = hammer(url, data_dir, writers, edits)
    elapsed = time.perf_counter() - started
    print(f"\n{backend}: {writers} writers x {edits} edits on {len(PROVIDERS)} providers in {elapsed:.1f} s: "
          f"{sum(committed.values())} committed, {sum(conflicts.values())} clean conflicts, {len(failures)} failures")
    check_outcome(store, committed, conflicts, failures, versions, events_before, writers * edits)
    store.dispose()


@pytest.mark.postgres
def test_eight_writers_on_postgres(databases: Databases, data_dir: Path) -> None:
    run_scenario(databases, "postgres", data_dir, writers=8, edits=100)


def test_four_writers_on_sqlite(databases: Databases, data_dir: Path) -> None:
    run_scenario(databases, "sqlite", data_dir, writers=4, edits=50)
