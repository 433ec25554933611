"""`observe import` and `observe report` benchmark: N GenAI spans of OTLP JSON into a fresh SQLite store.

Run:  .venv/bin/python -m bench.bench_observe [SPANS]      (default 1,000,000: the issue's target)
The spans are the shapes of tests/fixtures/observe/spans.otlp.jsonl (made by the real instrumentations),
copied with new trace and span ids, spread over a year, 500 spans per export request (a Collector batch).
The import runs as users run it, `python -m compliance observe import FILE`, in a child process (so its
worker processes start from the CLI, not from this script); prints spans/s, wall and CPU (the CLI and its
workers), peak memory (the summed RSS of the CLI and its workers, sampled every 20 ms, and the CLI's own
max RSS), the re-import (every span a duplicate), and `observe report` over a year of daily aggregates for
1,000 features (synthetic, written straight into a fresh store).
"""

from __future__ import annotations

import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from bench.bench_policy import policy_set_from
from bench.synthetic import synthetic_dataset, synthetic_rules, with_flows_and_costs, without_cedar
from compliance.api import Compliance
from compliance.config import PROJECT_ROOT, Settings
from compliance.observe.report import build_report, read_usage
from compliance.store import Store
from compliance.store.tables import ObservedUsageRow

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


def _tree_rss(pid: int) -> int:
    """Summed RSS (bytes) of a process and its children, from /proc."""
    total, todo = 0, [pid]
    while todo:
        at = todo.pop()
        try:
            with open(f"/proc/{at}/statm") as handle:
                total += int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            for task in os.listdir(f"/proc/{at}/task"):
                with open(f"/proc/{at}/task/{task}/children") as handle:
                    todo += [int(x) for x in handle.read().split()]
        except (OSError, ValueError):
            continue
    return total


def run_import(db: str, spans: Path) -> tuple[float, float, float, float, str]:
    """wall s, CPU s (CLI + workers), peak summed RSS MB, the CLI's max RSS MB, what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "compliance", "--db", db, "observe", "import", str(spans)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = [0]

    def sample() -> None:
        while child.poll() is None:
            peak[0] = max(peak[0], _tree_rss(child.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    out, _ = child.communicate()
    took = time.perf_counter() - started
    sampler.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if child.returncode != 0:
        raise SystemExit(f"observe import failed ({child.returncode}):\n{out}")
    return took, cpu, peak[0] / 2**20, after.ru_maxrss / 1024, out


def report_case(folder: str, features: int = 1000) -> None:
    """`observe report` over a year of daily aggregates for `features` features, written straight into a store."""
    dataset = with_flows_and_costs(synthetic_dataset(features))
    (Path(folder) / "policies").mkdir()
    policies = policy_set_from(without_cedar(synthetic_rules(dataset, 40)), dataset, Path(folder) / "policies")
    store = Store.open(Settings(database_url=f"sqlite:///{folder}/report.db", data_dir=PROJECT_ROOT / "data",
                                policy_dir=PROJECT_ROOT / "policies"), seed=False)
    rng = random.Random(3)
    start = date(2025, 12, 1)
    rows = []
    for feature in dataset.features:
        flows = feature.flows or []
        routes = [f.route for f in flows] + [rng.choice(dataset.routes).id]  # one undeclared route each
        for day in range(365):
            route = routes[day % len(routes)]
            model = next((r.model_ids[0] for r in dataset.routes if r.id == route and r.model_ids), "")
            requests = rng.randrange(50, 500)
            rows.append({"day": start + timedelta(days=day), "feature": feature.id, "route": route, "model": model,
                         "source": "otlp", "seen": "", "requests": requests, "input_tokens": requests * 900,
                         "output_tokens": requests * 200, "cached_input_tokens": requests * 100,
                         "reported_cost": None, "reported_requests": 0, "facts": None})
    with store.session() as session:
        session.connection().execute(ObservedUsageRow.__table__.insert(), rows)  # type: ignore[attr-defined]
    c = Compliance(dataset, policies)
    started, cpu = time.perf_counter(), time.process_time()
    with store.snapshot() as session:
        stored = read_usage(session, None, None, dataset)
    report = build_report(stored, dataset, c.decider, as_of=date(2026, 12, 1))
    took, cpu = time.perf_counter() - started, time.process_time() - cpu
    undeclared = len(report.undeclared)
    print(f"report: {len(rows):,} daily aggregates (a year x {features:,} features, read as {len(stored):,} "
          f"monthly sums), {len(report.pairs):,} pairs "
          f"({undeclared:,} undeclared, each decided), {len(report.costs):,} feature-months in {took:.2f} s wall, "
          f"{cpu:.2f} s CPU (target <= 1 s)")
    store.dispose()


def main() -> int:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as folder:
        spans = Path(folder) / "spans.otlp.jsonl"
        write_spans(spans, count)
        size = spans.stat().st_size
        db = f"sqlite:///{folder}/bench.db"
        took, cpu, peak, own, out = run_import(db, spans)
        print(f"import: {count:,} GenAI spans ({size / 1e6:.0f} MB of OTLP JSON) in {took:.1f} s wall = "
              f"{count / took:,.0f} spans/s; CPU {cpu:.1f} s (CLI + workers) = {count / cpu:,.0f} spans/CPU-s; "
              f"peak memory {peak:.0f} MB (summed RSS of the CLI and its workers; the CLI alone {own:.0f} MB)")
        print("  " + out.splitlines()[0])
        took, cpu, peak, own, out = run_import(db, spans)
        print(f"re-import: {count:,} duplicates in {took:.1f} s wall = {count / took:,.0f} spans/s; CPU {cpu:.1f} s; "
              f"peak memory {peak:.0f} MB; {out.strip().splitlines()[-1]}")
        report_case(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
