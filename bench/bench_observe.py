"""`observe import` and `observe report` benchmark: N GenAI spans of OTLP JSON into a fresh SQLite store.

Run:  .venv/bin/python -m bench.bench_observe [SPANS]      (default 100,000; the issue's target is 1,000,000)
The spans are the shapes of tests/fixtures/observe/spans.otlp.jsonl (made by the real instrumentations),
copied with new trace and span ids, spread over a year, 500 spans per export request (a Collector batch).
Prints spans/s for the import, peak memory (max RSS), the re-import (all duplicates) and the report.
"""

from __future__ import annotations

import json
import random
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from compliance.access import Actor, Role
from compliance.api import Compliance
from compliance.config import PROJECT_ROOT, Settings
from compliance.observe.importing import import_files
from compliance.observe.report import build_report, read_usage
from compliance.store import Store

TEMPLATE = PROJECT_ROOT / "tests" / "fixtures" / "observe" / "spans.otlp.jsonl"
PER_LINE = 500
DAY_NS = 86_400 * 10**9
START_NS = 1_764_547_200 * 10**9  # 2025-12-01


def templates() -> list[tuple[dict[str, object], dict[str, object]]]:
    """(resource, GenAI span) pairs from the fixture file."""
    out = []
    for line in TEMPLATE.read_text().splitlines():
        try:
            request = json.loads(line)
        except ValueError:
            continue
        for rs in request["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                for span in ss["spans"]:
                    if any(a["key"].startswith("gen_ai.") for a in span["attributes"]):
                        out.append((rs["resource"], {"scope": ss["scope"], "span": span}))
    return out


def write_spans(path: Path, count: int) -> None:
    rng = random.Random(1)
    shapes = templates()
    with path.open("w", encoding="utf-8") as handle:
        for start in range(0, count, PER_LINE):
            resource_, shape = shapes[(start // PER_LINE) % len(shapes)]
            spans = []
            for _ in range(min(PER_LINE, count - start)):
                span = dict(shape["span"])  # type: ignore[arg-type]
                at = START_NS + rng.randrange(365) * DAY_NS + rng.randrange(DAY_NS)
                span.update(traceId=f"{rng.getrandbits(128):032x}", spanId=f"{rng.getrandbits(64):016x}",
                            parentSpanId="", startTimeUnixNano=str(at), endTimeUnixNano=str(at + 10**9))
                spans.append(span)
            request = {"resourceSpans": [{"resource": resource_, "scopeSpans": [{"scope": shape["scope"],
                                                                                 "spans": spans}]}]}
            handle.write(json.dumps(request, separators=(",", ":")) + "\n")


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    actor = Actor("bench", Role.admin)
    with tempfile.TemporaryDirectory() as folder:
        spans = Path(folder) / "spans.otlp.jsonl"
        write_spans(spans, count)
        size = spans.stat().st_size
        store = Store.open(Settings(database_url=f"sqlite:///{folder}/bench.db", data_dir=PROJECT_ROOT / "data",
                                    policy_dir=PROJECT_ROOT / "policies"))
        started, cpu = time.perf_counter(), time.process_time()
        result = import_files(store, [spans], actor=actor)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"import: {count:,} GenAI spans ({size / 1e6:.0f} MB of OTLP JSON) in {took:.1f} s wall = "
              f"{count / took:,.0f} spans/s; CPU {cpu:.1f} s = {count / cpu:,.0f} spans/CPU-s; "
              f"peak memory {peak:.0f} MB (max RSS, whole process)")
        print(f"  counts: {dict((k, v) for k, v in result.as_dict()['counts'].items() if v)}")
        started = time.perf_counter()
        again = import_files(store, [spans], actor=actor)
        took = time.perf_counter() - started
        print(f"re-import: {again.counts['duplicates']:,} duplicates in {took:.1f} s = {count / took:,.0f} spans/s")
        c = Compliance.open(settings=store.settings, refresh=False)
        started, cpu = time.perf_counter(), time.process_time()
        with store.snapshot() as session:
            rows = read_usage(session, None, None)
        report = build_report(rows, c.dataset, c.decider, as_of=date(2026, 12, 1))
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"report: {len(rows):,} daily aggregates over a year, {len(report.pairs)} pairs, "
              f"{len(report.costs)} feature-months in {took:.2f} s wall, {cpu:.2f} s CPU")
        store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
