"""`observe import`: telemetry files -> daily aggregates per feature x route x model, in one audited transaction.

Idempotence with aggregates only: every counted record's id (trace and span id, or LiteLLM's request
id) is kept as a 64-bit digest in `observed_record`; a record whose digest is there (or was seen
earlier in the same import) is a duplicate and adds nothing. Large plain OTLP files are read by worker
processes, a chunk each (`chunks`); the importer takes the chunks in file order, checks each chunk's
digests against the table in one query and adds the new ones in one executemany, and sums the new
records per (facts, day) with numpy. Memory stays bounded whatever the file size: a few chunks in
flight, and the aggregates (days x features x routes x models, small).
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlmodel import Session

from compliance.access import Actor, require
from compliance.observe.chunks import CHUNK, Packed, cut, read_chunk, read_packed
from compliance.observe.records import Facts, NotThisFormat, open_binary, sniff
from compliance.observe.resolve import Placed, Placer
from compliance.problems import InvalidInput, Problem, display_path
from compliance.store import Store
from compliance.store.audit import AuditTrail, lock_for_write
from compliance.store.tables import ObservedImportRow, ObservedUsageRow

COUNTS = ("records", "genai", "attributed", "resolved", "unattributed", "unresolved", "malformed", "duplicates",
          "merged", "ignored", "failed", "cache_hits")
NAMED = 50  # malformed records and unplaced values named in the result
LOOKUP = 10_000  # digests per look-up query (SQLite allows 32,766 parameters)
MAX_WORKERS = 8


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


@dataclass
class Aggregate:
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    reported_cost: float | None = None
    reported_requests: int = 0
    facts: dict[str, Any] | None = None

    def add(self, requests: int, input_tokens: int, output_tokens: int, cached: int, cost: float,
            costed: int) -> None:
        self.requests += requests
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens
        self.cached_input_tokens += cached
        if costed:
            self.reported_cost = (self.reported_cost or 0.0) + cost
            self.reported_requests += costed


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
    workers: int = 0  # worker processes used (0: read in this process)

    def as_dict(self) -> dict[str, Any]:
        return {"import_id": self.import_id, "files": self.files, "counts": {k: self.counts[k] for k in COUNTS},
                "malformed": self.malformed, "values_seen": dict(self.seen.most_common(NAMED)),
                "cached_input_beside": dict(self.cached_beside)}


class _Digests:
    """The store's `observed_record` ids: which of a chunk's are known, and adding the new ones."""

    def __init__(self, session: Session, import_id: int):
        self.connection = session.connection()
        self.import_id = import_id
        self.postgres = self.connection.dialect.name == "postgresql"
        mark = "%s" if self.connection.dialect.paramstyle in ("format", "pyformat") else "?"
        self.insert = f"INSERT INTO observed_record (key, import_id) VALUES ({mark}, {mark})"
        self.mark = mark

    def known(self, keys: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, np.dtype[np.int64]]:
        found: list[int] = []
        for start in range(0, len(keys), LOOKUP):
            part = keys[start:start + LOOKUP].tolist()
            if self.postgres:
                rows = self.connection.exec_driver_sql(
                    "SELECT key FROM observed_record WHERE key = ANY(%s::bigint[])", (part,))
            else:
                rows = self.connection.exec_driver_sql(
                    f"SELECT key FROM observed_record WHERE key IN ({','.join([self.mark] * len(part))})",
                    tuple(part))
            found += [row[0] for row in rows]
        return np.array(found, dtype=np.int64)

    def add(self, keys: np.ndarray[Any, np.dtype[np.int64]]) -> None:
        if len(keys):
            import_id = self.import_id
            self.connection.exec_driver_sql(self.insert, [(k, import_id) for k in keys.tolist()])


class _Importer:
    def __init__(self, session: Session, placer: Placer, import_id: int, result: ImportResult):
        self.session, self.placer, self.import_id, self.result = session, placer, import_id, result
        self.aggregates: dict[AggKey, Aggregate] = {}
        self.digests = _Digests(session, import_id)
        self.new = 0  # records this import counted for the first time

    def take(self, packed: Packed, file: str, base: int) -> None:
        """One chunk's records, in file order: duplicates dropped, the new ones' digests stored and summed."""
        counts = self.result.counts
        counts["records"] += packed.records
        counts["ignored"] += packed.ignored
        counts["malformed"] += packed.malformed
        counts["genai"] += packed.genai
        for line, why in packed.named:
            if len(self.result.malformed) < NAMED:
                self.result.malformed.append(f"{file}:{line + base if packed.relative else line}: {why}")
        if not packed.genai:
            return
        keys = np.frombuffer(packed.keys, dtype=np.int64)
        unique, first = np.unique(keys, return_index=True)
        known = self.digests.known(unique)
        fresh = unique[~np.isin(unique, known, assume_unique=True)] if len(known) else unique
        self.digests.add(fresh)  # sorted: the B-tree is filled in order
        is_new = np.zeros(len(keys), dtype=bool)
        is_new[first] = True
        if len(known):
            is_new &= ~np.isin(keys, known)
        new = int(is_new.sum())
        self.new += new
        counts["duplicates"] += len(keys) - new
        merged = np.frombuffer(packed.merged, dtype=np.uint8).astype(bool)
        counts["merged"] += int((is_new & merged).sum())
        self._sum(packed, is_new & ~merged)

    def _sum(self, packed: Packed, selected: np.ndarray[Any, np.dtype[np.bool_]]) -> None:
        """The selected records summed per (facts, day), then each group placed and added to its aggregate."""
        if not selected.any():
            return
        shape = np.frombuffer(packed.shape, dtype=np.int64)[selected]
        day = np.frombuffer(packed.day, dtype=np.int64)[selected]
        group, inverse = np.unique(shape * 4_000_000 + day, return_inverse=True)

        def total(values: Any, dtype: Any) -> Any:
            return np.bincount(inverse, weights=np.frombuffer(values, dtype=dtype)[selected], minlength=len(group))
        requests = np.bincount(inverse, minlength=len(group))
        sums = [total(packed.input_tokens, np.int64), total(packed.output_tokens, np.int64),
                total(packed.cached_input_tokens, np.int64)]
        cost = np.frombuffer(packed.reported_cost, dtype=np.float64)[selected]
        costed = ~np.isnan(cost)
        cost_sum = np.bincount(inverse, weights=np.where(costed, cost, 0.0), minlength=len(group))
        costed_n = np.bincount(inverse, weights=costed, minlength=len(group))
        counts, result = self.result.counts, self.result
        for g, value in enumerate(group.tolist()):
            facts = packed.facts[value // 4_000_000]
            n = int(requests[g])
            if facts.status == "failed":
                counts["failed"] += n
                continue
            if facts.status == "cache_hit":
                counts["cache_hits"] += n
                continue
            placed = self.placer.place(facts)
            counts["attributed" if placed.feature else "unattributed"] += n
            counts["resolved" if placed.route else "unresolved"] += n
            if placed.seen:
                result.seen[placed.seen] += n
            if facts.cached_beside:
                result.cached_beside[facts.scope] += n
            self._add(date.fromordinal(value % 4_000_000), facts, placed).add(
                n, round(sums[0][g]), round(sums[1][g]), round(sums[2][g]), float(cost_sum[g]), int(costed_n[g]))

    def _add(self, day: date, facts: Facts, placed: Placed) -> Aggregate:
        key: AggKey = (day, placed.feature, placed.route, placed.model, facts.source, placed.seen)
        found = self.aggregates.get(key)
        if found is None:
            found = self.aggregates[key] = Aggregate(facts=placed.values)
        return found

    def write_aggregates(self) -> None:
        if self.aggregates:
            add_aggregates(self.session, self.aggregates)


def add_aggregates(session: Session, aggregates: dict[AggKey, Aggregate]) -> None:
    """Add the sums to the stored rows of the same key (updated in place) or new rows (one executemany)."""
    table = ObservedUsageRow.__table__  # type: ignore[attr-defined]
    connection = session.connection()
    days = sorted({k[0] for k in aggregates})
    existing: dict[AggKey, tuple[int, int, int, int, int, float | None, int]] = {}
    c = table.c
    for start in range(0, len(days), 500):
        chunk = days[start:start + 500]
        for row in connection.execute(sa.select(c.id, c.day, c.feature, c.route, c.model, c.source, c.seen,
                                                c.requests, c.input_tokens, c.output_tokens, c.cached_input_tokens,
                                                c.reported_cost, c.reported_requests).where(c.day.in_(chunk))):
            existing[(row.day, row.feature, row.route, row.model, row.source, row.seen)] = (
                row.id, row.requests, row.input_tokens, row.output_tokens, row.cached_input_tokens,
                row.reported_cost, row.reported_requests)
    inserts, updates = [], []
    for key, agg in aggregates.items():
        day, feature, route, model, source, seen = key
        found = existing.get(key)
        if found is None:
            inserts.append({"day": day, "feature": feature, "route": route, "model": model, "source": source,
                            "seen": seen, "requests": agg.requests, "input_tokens": agg.input_tokens,
                            "output_tokens": agg.output_tokens, "cached_input_tokens": agg.cached_input_tokens,
                            "reported_cost": agg.reported_cost, "reported_requests": agg.reported_requests,
                            "facts": agg.facts})
            continue
        row_id, requests, inputs, outputs, cached, cost, costed = found
        if agg.reported_cost is not None:
            cost = (cost or 0.0) + agg.reported_cost
        updates.append({"row_id": row_id, "requests": requests + agg.requests,
                        "input_tokens": inputs + agg.input_tokens, "output_tokens": outputs + agg.output_tokens,
                        "cached_input_tokens": cached + agg.cached_input_tokens, "reported_cost": cost,
                        "reported_requests": costed + agg.reported_requests})
    if inserts:
        connection.execute(sa.insert(table), inserts)
    if updates:
        connection.execute(sa.update(table).where(c.id == sa.bindparam("row_id")).values(
            requests=sa.bindparam("requests"), input_tokens=sa.bindparam("input_tokens"),
            output_tokens=sa.bindparam("output_tokens"), cached_input_tokens=sa.bindparam("cached_input_tokens"),
            reported_cost=sa.bindparam("reported_cost"), reported_requests=sa.bindparam("reported_requests")),
            updates)


def _chunked(path: Path, fmt: str, feature_attribute: str, pool: ProcessPoolExecutor | None,
             workers: int) -> Iterator[Packed]:
    """The file's records, packed, in file order: in the pool, a chunk per task, when it is a plain OTLP file
    of more than one chunk; else read here in one stream."""
    with open_binary(path) as probe:
        plain = not hasattr(probe, "fileobj")  # a GzipFile cannot be cut
    parts = cut(path, CHUNK) if plain and fmt == "otlp-json" and pool is not None else []
    if len(parts) < 2 or pool is None:
        yield from read_packed(path, fmt, feature_attribute=feature_attribute)
        return
    waiting: list[Future[Packed]] = []
    todo = iter(parts)
    for start, end in todo:  # a few chunks in flight per worker: bounded memory, workers never idle
        waiting.append(pool.submit(read_chunk, path, start, end, feature_attribute))
        if len(waiting) >= 2 * workers:
            break
    while waiting:
        done = waiting.pop(0).result()
        nxt = next(todo, None)
        if nxt is not None:
            waiting.append(pool.submit(read_chunk, path, nxt[0], nxt[1], feature_attribute))
        yield done


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
                 feature_attribute: str = "app.feature", reason: str | None = None,
                 workers: int | None = None) -> ImportResult:
    """Read the files and add what is new to the store's aggregates, in one transaction with one audit event.

    `workers`: processes reading large plain OTLP files (default: one per CPU, at most 8; 0 or 1: none)."""
    require(actor, {"observation"})
    files = check_formats(list(paths), fmt)
    result = ImportResult([display_path(p) for p, _ in files])
    placer = Placer(store.read())
    count = default_workers() if workers is None else workers
    large = any(found == "otlp-json" and path.stat().st_size > 2 * CHUNK for path, found in files)
    pool = (ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn")) if count > 1 and large
            else None)
    result.workers = count if pool is not None else 0
    try:
        with store.session() as session:
            lock_for_write(session)
            run = ObservedImportRow(at=datetime.now(UTC), actor=actor.name, files=result.files)
            session.add(run)
            session.flush()
            assert run.id is not None
            importer = _Importer(session, placer, run.id, result)
            for (path, found), shown in zip(files, result.files, strict=True):
                base = 0
                for packed in _chunked(path, found, feature_attribute, pool, count):
                    importer.take(packed, shown, base)
                    base += packed.lines
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
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return result


@dataclass
class ResolveResult:
    """What `observe resolve` moved: stored unplaced rows placed with today's features and routes."""

    rows: int = 0  # unplaced rows looked at
    moved: int = 0  # rows now placed (their counts added to the placed row of the same day)
    records: int = 0  # requests those rows held
    placed: Counter[str] = field(default_factory=Counter)  # "feature -> route" -> requests

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "moved": self.moved, "records": self.records, "placed": dict(self.placed)}


def resolve_stored(store: Store, *, actor: Actor, reason: str | None = None) -> ResolveResult:
    """Place the stored unattributed and unresolved rows again, after a route or feature mapping was fixed.

    One transaction, one audit event; a row whose values still place nowhere new is left as it is, so
    running it twice changes nothing the second time."""
    require(actor, {"observation"})
    placer = Placer(store.read())
    result = ResolveResult()
    table = ObservedUsageRow.__table__  # type: ignore[attr-defined]
    c = table.c
    with store.session() as session:
        lock_for_write(session)
        connection = session.connection()
        rows = connection.execute(sa.select(table).where(sa.or_(c.feature.is_(None), c.route.is_(None)),
                                                         c.facts.is_not(None))).all()
        moved: dict[AggKey, Aggregate] = {}
        gone: list[int] = []
        for row in rows:
            result.rows += 1
            placed = placer.place_again(row.feature, row.route, row.model, row.facts or {})
            if (placed.feature, placed.route) == (row.feature, row.route):
                continue
            result.moved += 1
            result.records += row.requests
            result.placed[f"{placed.feature or '(no feature)'} -> {placed.route or '(no route)'}"] += row.requests
            key: AggKey = (row.day, placed.feature, placed.route, placed.model, row.source, placed.seen)
            agg = moved.setdefault(key, Aggregate(facts=placed.values))
            agg.add(row.requests, row.input_tokens, row.output_tokens, row.cached_input_tokens,
                    row.reported_cost or 0.0, row.reported_requests if row.reported_cost is not None else 0)
            gone.append(row.id)
        if not moved:
            session.rollback()
            return result
        for start in range(0, len(gone), 500):
            connection.execute(sa.delete(table).where(c.id.in_(gone[start:start + 500])))
        add_aggregates(session, moved)
        AuditTrail(session, actor=actor, reason=reason or "observe resolve").record(
            action="update", entity="observation", entity_id="resolve",
            changes={"placed": {"old": None, "new": dict(result.placed)},
                     "rows": {"old": result.moved, "new": 0}})
    return result
