"""The decision log (opt-in): every answer the service gave, appended to the store, queryable and exportable.

Writes are batched by a background thread (a few per second), so logging costs the request
path only a queue append; `close()` flushes what is left. The table is append-only in the
database itself (migration 0004). It answers "which decisions allowed user.health_and_medical
on a route outside the EU between two dates?" with `query(...)` and `decisions query` in the CLI.
"""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, select

from compliance.store import Store
from compliance.store.tables import DecisionLogRow

log = logging.getLogger("compliance.service")


@dataclass(frozen=True)
class LogEntry:
    at: datetime
    caller: str
    feature: str
    category: str
    route: str
    residency: str
    as_of: date
    decision: str
    rules: list[str]
    policy_digest: str
    store_head: str


class DecisionLog:
    """Appends entries to the store's `decision_log` table from a writer thread."""

    def __init__(self, store: Store, *, flush_every: float = 0.2, max_batch: int = 20_000):
        self.store = store
        self.flush_every = flush_every
        self.max_batch = max_batch
        self.written = 0
        self.failed = 0
        self._queue: queue.SimpleQueue[list[LogEntry] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="decision-log", daemon=True)
        self._thread.start()

    def append(self, entries: list[LogEntry]) -> None:
        if entries:
            self._queue.put(entries)

    def close(self) -> None:
        """Write everything queued, then stop the writer."""
        self._queue.put(None)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        stopping = False
        while not stopping:
            batch: list[LogEntry] = []
            try:
                first = self._queue.get(timeout=self.flush_every)
            except queue.Empty:
                continue
            if first is None:
                stopping = True
            else:
                batch.extend(first)
            while len(batch) < self.max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                batch.extend(more)
            if batch:
                self._write(batch)

    def _write(self, batch: list[LogEntry]) -> None:
        try:
            with self.store.session() as session:
                session.execute(insert(DecisionLogRow), [asdict(e) for e in batch])
            self.written += len(batch)
        except Exception:  # the service keeps answering; the loss is counted and logged
            self.failed += len(batch)
            log.exception("could not write %d decision log entries", len(batch))


def query(session: Session, *, feature: str | None = None, category: str | None = None, route: str | None = None,
          decision: str | None = None, residency: str | None = None, outside: str | None = None,
          since: date | None = None, until: date | None = None, caller: str | None = None,
          limit: int | None = None) -> list[DecisionLogRow]:
    """Logged decisions, oldest first, filtered; `since`/`until` are days (inclusive) of `at` in UTC;
    `outside` keeps routes whose residency (when decided) was not that one."""
    q = select(DecisionLogRow)
    for column, value in ((DecisionLogRow.feature, feature), (DecisionLogRow.category, category),
                          (DecisionLogRow.route, route), (DecisionLogRow.decision, decision),
                          (DecisionLogRow.residency, residency), (DecisionLogRow.caller, caller)):
        if value is not None:
            q = q.where(column == value)
    if outside is not None:
        q = q.where(DecisionLogRow.residency != outside)
    if since is not None:
        q = q.where(DecisionLogRow.at >= datetime.combine(since, time.min, UTC))
    if until is not None:
        q = q.where(DecisionLogRow.at <= datetime.combine(until, time.max, UTC))
    q = q.order_by(DecisionLogRow.id)  # type: ignore[arg-type]
    if limit:
        q = q.limit(limit)
    return list(session.exec(q))


def as_record(row: DecisionLogRow) -> dict[str, Any]:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return {"id": row.id, "at": at.isoformat(), "caller": row.caller, "feature": row.feature,
            "category": row.category, "route": row.route, "residency": row.residency,
            "as_of": row.as_of.isoformat(), "decision": row.decision, "rules": list(row.rules),
            "policy_digest": row.policy_digest, "store_head": row.store_head}
