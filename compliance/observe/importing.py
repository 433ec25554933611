"""`observe import`: telemetry files -> daily aggregates per feature x route x model, in one audited transaction.

Idempotence with aggregates only: every counted record's id (trace and span id, or LiteLLM's request
id) is kept as a 128-bit digest in `observed_record`; a record whose digest is there (or was seen
earlier in the same import) is a duplicate and adds nothing. The digests are checked and written in
batches, so memory stays bounded whatever the file size; only the aggregates (days x features x
routes x models, small) are held until the end.
"""

from __future__ import annotations

import hashlib
from collections import Counter, OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from compliance.access import Actor, require
from compliance.observe.records import Call, Malformed, NotThisFormat, Skipped, read, sniff
from compliance.observe.resolve import Placer
from compliance.problems import InvalidInput, Problem, display_path
from compliance.store import Store
from compliance.store.audit import AuditTrail, lock_for_write
from compliance.store.tables import ObservedImportRow, ObservedRecordRow, ObservedUsageRow

COUNTS = ("records", "genai", "attributed", "resolved", "unattributed", "unresolved", "malformed", "duplicates",
          "merged", "ignored", "failed", "cache_hits")
BATCH = 5_000
TRACES_KEPT = 20_000  # recent traces remembered for merging a call's two spans (SDK tracing + instrumentation)
NAMED = 50  # malformed records and unplaced values named in the result


def digest(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


@dataclass
class Aggregate:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reported_cost: float | None = None
    reported_requests: int = 0

    def add(self, call: Call) -> None:
        self.requests += 1
        self.input_tokens += call.input_tokens
        self.output_tokens += call.output_tokens
        self.cached_input_tokens += call.cached_input_tokens
        if call.reported_cost is not None:
            self.reported_cost = (self.reported_cost or 0.0) + call.reported_cost
            self.reported_requests += 1


AggKey = tuple[date, str | None, str | None, str, str, str]  # day, feature, route, model, source, seen


@dataclass
class ImportResult:
    """What an import read and counted; `import_id` None when nothing new was stored."""

    files: list[str]
    counts: Counter[str] = field(default_factory=Counter)
    malformed: list[str] = field(default_factory=list)
    seen: Counter[str] = field(default_factory=Counter)  # unattributed / unresolved values -> records
    cached_beside: Counter[str] = field(default_factory=Counter)  # scope -> records counted beside
    import_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "files": self.files, "counts": {k: self.counts[k] for k in COUNTS},
                "malformed": self.malformed, "values_seen": dict(self.seen.most_common(NAMED)),
                "cached_input_beside": dict(self.cached_beside)}


class _Merger:
    """Spots the second GenAI span of one call: parent and child in one trace with the same model and tokens."""

    def __init__(self) -> None:
        self.traces: OrderedDict[str, list[tuple[str, str, tuple[Any, ...]]]] = OrderedDict()

    def is_second(self, call: Call) -> bool:
        if call.source != "otlp":
            return False
        signature = (call.model, call.input_tokens, call.output_tokens)
        spans = self.traces.get(call.trace_id)
        if spans is None:
            spans = self.traces[call.trace_id] = []
            if len(self.traces) > TRACES_KEPT:
                self.traces.popitem(last=False)
        else:
            self.traces.move_to_end(call.trace_id)
        for span_id, parent_id, other in spans:
            if other == signature and (call.parent_id == span_id or parent_id == call.span_id):
                return True
        spans.append((call.span_id, call.parent_id, signature))
        return False


class _Importer:
    def __init__(self, session: Session, placer: Placer, import_id: int, result: ImportResult):
        self.session, self.placer, self.import_id, self.result = session, placer, import_id, result
        self.aggregates: dict[AggKey, Aggregate] = {}
        self.merger = _Merger()
        self.batch: list[Call] = []
        self.new = 0  # records this import counted for the first time

    def add(self, call: Call) -> None:
        self.batch.append(call)
        if len(self.batch) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        digests = [digest(c.key) for c in self.batch]
        known = set(self.session.exec(select(ObservedRecordRow.key).where(
            col(ObservedRecordRow.key).in_(list(set(digests))))).all())
        new_rows = []
        counts = self.result.counts
        in_batch: set[str] = set()  # earlier batches' digests are in the table already (same transaction)
        for call, key in zip(self.batch, digests, strict=True):
            if key in known or key in in_batch:
                counts["duplicates"] += 1
                continue
            in_batch.add(key)
            self.new += 1
            new_rows.append({"key": key, "import_id": self.import_id})
            if self.merger.is_second(call):
                counts["merged"] += 1
                continue
            if call.status == "failed":
                counts["failed"] += 1
                continue
            if call.status == "cache_hit":
                counts["cache_hits"] += 1
                continue
            self.count(call)
        if new_rows:  # Core, not the ORM: one executemany, no objects
            self.session.connection().execute(sa.insert(ObservedRecordRow.__table__), new_rows)  # type: ignore[attr-defined]
        self.batch = []

    def count(self, call: Call) -> None:
        placed = self.placer.place(call)
        counts = self.result.counts
        counts["attributed" if placed.feature else "unattributed"] += 1
        counts["resolved" if placed.route else "unresolved"] += 1
        if placed.seen:
            self.result.seen[placed.seen] += 1
        if call.cached_beside:
            self.result.cached_beside[call.scope] += 1
        key: AggKey = (call.day, placed.feature, placed.route, placed.model, call.source, placed.seen)
        self.aggregates.setdefault(key, Aggregate()).add(call)

    def write_aggregates(self) -> None:
        if not self.aggregates:
            return
        days = sorted({k[0] for k in self.aggregates})
        existing: dict[AggKey, ObservedUsageRow] = {}
        for start in range(0, len(days), 500):
            chunk = days[start:start + 500]
            for found in self.session.exec(select(ObservedUsageRow).where(col(ObservedUsageRow.day).in_(chunk))):
                existing[(found.day, found.feature, found.route, found.model, found.source, found.seen)] = found
        for key, agg in self.aggregates.items():
            row = existing.get(key)
            if row is None:
                day, feature, route, model, source, seen = key
                row = ObservedUsageRow(day=day, feature=feature, route=route, model=model, source=source, seen=seen)
            row.requests += agg.requests
            row.input_tokens += agg.input_tokens
            row.output_tokens += agg.output_tokens
            row.cached_input_tokens += agg.cached_input_tokens
            if agg.reported_cost is not None:
                row.reported_cost = (row.reported_cost or 0.0) + agg.reported_cost
            row.reported_requests += agg.reported_requests
            self.session.add(row)


def check_formats(paths: Sequence[Path], fmt: str) -> list[tuple[Path, str]]:
    """Every file's format, before anything is read or stored; exit 2 naming each file that is not."""
    found, problems = [], []
    for path in paths:
        if not path.is_file():
            problems.append(Problem(display_path(path), None, "", "no such file"))
            continue
        try:
            found.append((path, sniff(path, fmt)))
        except NotThisFormat as exc:
            where, _, message = str(exc).partition(": ")
            problems.append(Problem(display_path(path), 1, "", message or where))
    if problems:
        raise InvalidInput(problems)
    return found


def import_files(store: Store, paths: Iterable[Path], *, actor: Actor, fmt: str = "auto",
                 feature_attribute: str = "app.feature", reason: str | None = None) -> ImportResult:
    """Read the files and add what is new to the store's aggregates, in one transaction with one audit event."""
    require(actor, {"observation"})
    files = check_formats(list(paths), fmt)
    result = ImportResult([display_path(p) for p, _ in files])
    placer = Placer(store.read())
    with store.session() as session:
        lock_for_write(session)
        run = ObservedImportRow(at=datetime.now(UTC), actor=actor.name, files=result.files)
        session.add(run)
        session.flush()
        assert run.id is not None
        importer = _Importer(session, placer, run.id, result)
        for path, found in files:
            for item in read(path, found, feature_attribute=feature_attribute):
                result.counts["records"] += 1
                if isinstance(item, Skipped):
                    result.counts["ignored"] += 1
                elif isinstance(item, Malformed):
                    result.counts["malformed"] += 1
                    if len(result.malformed) < NAMED:
                        result.malformed.append(str(item).replace(str(path), display_path(path), 1))
                else:
                    result.counts["genai"] += 1
                    importer.add(item)
        importer.flush()
        if not importer.new:  # nothing new: store nothing, not even the import
            session.rollback()
            return result
        importer.write_aggregates()
        run.counts = {k: result.counts[k] for k in COUNTS}
        run.seen = dict(result.seen.most_common(NAMED))
        session.add(run)
        AuditTrail(session, actor=actor, reason=reason or f"observe import {' '.join(result.files)}").record(
            action="create", entity="observation", entity_id=str(run.id),
            changes={"files": {"old": None, "new": result.files}, "counts": {"old": None, "new": run.counts},
                     "cached_input_beside": {"old": None, "new": dict(result.cached_beside)}})
        result.import_id = run.id
    return result
