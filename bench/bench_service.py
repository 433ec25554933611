"""Decision service and in-process guard under load, on loopback with keep-alive (issue 16).

    .venv/bin/python bench/bench_service.py [--workers 2] [--seconds 60] [--clients 32] [--skip-sustained]

Prints: single decisions per second and latency percentiles at N concurrent clients (Debian's
`wrk` when installed, else a Python asyncio client), the 10,000-request batch time, and a
sustained load with a store edit and a policy edit in the middle (errors, and answers from the
old state to requests sent after the freshness bound), then the same figures for the
in-process guard. Runs on a private copy of data/ and policies/ in a temporary folder.
The machine is shared: run it when it is quiet, and say in docs/benchmarks.md how busy it was.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import math
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from compliance.access import SYSTEM  # noqa: E402
from compliance.api import Compliance  # noqa: E402
from compliance.config import Settings  # noqa: E402
from compliance.store import Store  # noqa: E402
from compliance.store.edits import record_versions, update_record  # noqa: E402

EDITED_ROUTE = "claude-bedrock-eu"
POLICY_EDIT = ("policy: bench\nrules:\n  - id: bench-blocks-vertex\n    effect: deny\n"
               "    match: {routes: [claude-vertex-eu]}\n    reason: blocked by the benchmark\n")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p))] if ordered else float("nan")


def workspace() -> tuple[Path, Settings]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-service-"))
    shutil.copytree(ROOT / "data", tmp / "data", ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    shutil.copytree(ROOT / "policies", tmp / "policies", ignore=shutil.ignore_patterns("tests"))
    settings = Settings(database_url=f"sqlite:///{tmp / 'store.db'}", data_dir=tmp / "data",
                        policy_dir=tmp / "policies")
    Store.open(settings).dispose()
    return tmp, settings


def requests_for(settings: Settings, count: int) -> list[dict[str, str]]:
    dataset = Store.open(settings).read()
    rng = random.Random(16)
    return [{"feature": rng.choice(dataset.features).id, "category": rng.choice(dataset.categories).key,
             "route": rng.choice(dataset.routes).id} for _ in range(count)]


def block_route(settings: Settings) -> None:
    store = Store.open(settings)
    with store.session() as session:
        version = record_versions(session, "route")[EDITED_ROUTE]
        update_record(session, entity="route", key=EDITED_ROUTE, expected_version=version,
                      changes={"status": "blocked"}, actor=SYSTEM, reason="benchmark: store edit under load")
    store.dispose()


# --- the server ------------------------------------------------------------------------------
class Server:
    def __init__(self, settings: Settings, workers: int, max_staleness: float):
        self.port = free_port()
        env = {**os.environ, "COMPLIANCE_DATABASE_URL": settings.database_url,
               "COMPLIANCE_DATA_DIR": str(settings.data_dir), "COMPLIANCE_POLICY_DIR": str(settings.policy_dir),
               "COMPLIANCE_SERVICE_TOKENS": str(settings.data_dir / "no-tokens.yaml")}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "compliance", "serve", "--port", str(self.port), "--workers", str(workers),
             "--max-staleness", str(max_staleness)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _ = self.call("GET", "/v1/health")
                if status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise SystemExit("the service did not start")
            time.sleep(0.2)

    def call(self, method: str, path: str, body: object = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None,
                         {"Content-Type": "application/json"})
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def cpu_seconds(self) -> float:
        """User + system CPU of the server and its worker processes so far (from /proc; Linux)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(entry.name) == self.process.pid or int(fields[1]) == self.process.pid:
                total += (int(fields[11]) + int(fields[12])) / ticks
        return total

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


# --- load generators -------------------------------------------------------------------------
def wrk_single(port: int, bodies: list[dict[str, str]], clients: int, seconds: int) -> dict[str, float] | None:
    wrk = shutil.which("wrk")
    if not wrk:
        return None
    script = Path(tempfile.mkdtemp()) / "decide.lua"
    lua_bodies = ",\n".join("[[" + json.dumps(b) + "]]" for b in bodies[:500])
    script.write_text(f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local bodies = {{{lua_bodies}}}
local i = 0
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/v1/decide", nil, bodies[i])
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %d %d %f %f %f\\n", summary.requests, summary.duration,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout,
    latency:percentile(99), latency:percentile(50), latency:percentile(90), latency.max))
end
""", encoding="utf-8")
    out = subprocess.run([wrk, "-t2", f"-c{clients}", f"-d{seconds}s", "-s", str(script),
                          f"http://127.0.0.1:{port}/v1/decide"], capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("RESULT"))
    requests, duration_us, errors, p99, p50, p90, worst = map(float, line.split()[1:])
    return {"rps": requests / (duration_us / 1e6), "errors": errors, "p50_ms": p50 / 1000, "p90_ms": p90 / 1000,
            "p99_ms": p99 / 1000, "max_ms": worst / 1000, "requests": requests}


@dataclass
class Answer:
    sent: float
    received: float
    status: int
    store_head: str
    policy_digest: str
    body: dict[str, str]


async def _client(port: int, bodies: list[dict[str, str]], until: float, out: list[Answer], offset: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    i = offset
    while time.monotonic() < until:
        body = bodies[i % len(bodies)]
        i += 7
        payload = json.dumps(body).encode()
        sent = time.monotonic()
        writer.write(b"POST /v1/decide HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length")))
        answer = json.loads(await reader.readexactly(length))
        out.append(Answer(sent, time.monotonic(), status, answer.get("store_head", ""),
                          answer.get("policy_digest", ""), body))
    writer.close()


async def python_load(port: int, bodies: list[dict[str, str]], clients: int, seconds: float,
                      during: list[tuple[float, object]] | None = None) -> list[Answer]:
    out: list[Answer] = []
    until = time.monotonic() + seconds
    tasks = [asyncio.create_task(_client(port, bodies, until, out, i)) for i in range(clients)]
    start = time.monotonic()
    for at, action in during or []:
        await asyncio.sleep(max(0.0, start + at - time.monotonic()))
        await asyncio.to_thread(action)  # type: ignore[arg-type]
    await asyncio.gather(*tasks)
    return out


def summary(answers: list[Answer], seconds: float) -> dict[str, float]:
    latencies = [(a.received - a.sent) * 1000 for a in answers]
    return {"rps": len(answers) / seconds, "errors": sum(a.status != 200 for a in answers),
            "p50_ms": percentile(latencies, 0.5), "p90_ms": percentile(latencies, 0.9),
            "p99_ms": percentile(latencies, 0.99), "max_ms": max(latencies), "requests": len(answers)}


def show(title: str, figures: dict[str, float]) -> None:
    print(f"{title}: {figures['rps']:,.0f} decisions/s, p50 {figures['p50_ms']:.2f} ms, "
          f"p90 {figures['p90_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, max {figures['max_ms']:.1f} ms, "
          f"errors {figures['errors']:.0f} "
          f"({figures['requests']:,.0f} requests)")


# --- the runs --------------------------------------------------------------------------------
def bench_batch(server: Server, bodies: list[dict[str, str]], rounds: int = 10) -> None:
    batch = {"requests": bodies[:10_000]}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    payload = json.dumps(batch)
    times = []
    for _ in range(rounds + 1):
        start = time.perf_counter()
        conn.request("POST", "/v1/decide/batch", payload, {"Content-Type": "application/json"})
        response = conn.getresponse()
        body = response.read()
        times.append((time.perf_counter() - start) * 1000)
        assert response.status == 200 and len(json.loads(body)["decisions"]) == 10_000
    conn.close()
    cold, times = times[0], times[1:]  # the first after a state change fills the state's memo
    print(f"service batch of 10,000 (keep-alive): first after start (empty memo) {cold:.0f} ms; then {rounds} "
          f"rounds: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms; "
          f"response {len(body) / 1e6:.1f} MB")


def sustained(server: Server, settings: Settings, bodies: list[dict[str, str]], clients: int, seconds: float,
              bound: float) -> None:
    _, health = server.call("GET", "/v1/health")
    before = json.loads(health)
    marks: dict[str, float] = {}

    def store_edit() -> None:
        marks["store"] = time.monotonic()
        block_route(settings)

    def policy_edit() -> None:
        marks["policy"] = time.monotonic()
        (settings.policy_dir / "50-bench.yaml").write_text(POLICY_EDIT, encoding="utf-8")

    answers = asyncio.run(python_load(server.port, bodies, clients, seconds,
                                      [(seconds / 3, store_edit), (2 * seconds / 3, policy_edit)]))
    old_head = [a for a in answers if a.sent > marks["store"] + bound and a.store_head == before["store_head"]]
    old_policy = [a for a in answers if a.sent > marks["policy"] + bound and a.policy_digest == before["policy_digest"]]
    new_head = [a for a in answers if a.store_head != before["store_head"]]
    new_policy = [a for a in answers if a.policy_digest != before["policy_digest"]]
    seen_store = min((a.received for a in new_head), default=float("nan")) - marks["store"]
    seen_policy = min((a.received for a in new_policy), default=float("nan")) - marks["policy"]
    show(f"service sustained {seconds:.0f} s, {clients} clients (Python asyncio client)", summary(answers, seconds))
    print(f"  store edit at {marks['store'] - answers[0].sent:.1f} s: first new answer after {seen_store:.2f} s; "
          f"answers from the old store state to requests sent after the bound ({bound:g} s): {len(old_head)}")
    print(f"  policy edit at {marks['policy'] - answers[0].sent:.1f} s: first new answer after {seen_policy:.2f} s; "
          f"answers from the old policy set to requests sent after the bound: {len(old_policy)}")


def bench_in_process(settings: Settings, bodies: list[dict[str, str]], seconds: float, bound: float) -> None:
    guard = Compliance.open(settings=settings, max_staleness=bound)
    for body in bodies[:2000]:
        guard.decide(**body)  # type: ignore[arg-type]
    latencies = []
    start = time.perf_counter()
    n = 0
    while time.perf_counter() - start < 5:
        t = time.perf_counter()
        guard.decide(**bodies[n % len(bodies)])  # type: ignore[arg-type]
        latencies.append((time.perf_counter() - t) * 1000)
        n += 1
    elapsed = time.perf_counter() - start
    print(f"in-process guard, one thread: {n / elapsed:,.0f} decisions/s, "
          f"p50 {percentile(latencies, 0.5) * 1000:.1f} us, p99 {percentile(latencies, 0.99) * 1000:.1f} us, "
          f"max {max(latencies):.2f} ms")
    times = []
    for _ in range(5):
        t = time.perf_counter()
        assert len(guard.decide_many(bodies[:10_000])) == 10_000
        times.append((time.perf_counter() - t) * 1000)
    print(f"in-process decide_many of 10,000: median {statistics.median(times):.0f} ms, max {max(times):.0f} ms")
    head, digest = guard.state().store_head, guard.state().policy_digest
    marks: dict[str, float] = {}
    stale_store = stale_policy = decisions = errors = 0
    first_store = first_policy = float("nan")
    today = date.today()
    start = time.monotonic()
    while (now := time.monotonic()) - start < seconds:
        if "store" not in marks and now - start > seconds / 3:
            marks["store"] = time.monotonic()
            block_route(settings)
        if "policy" not in marks and now - start > 2 * seconds / 3:
            marks["policy"] = time.monotonic()
            (settings.policy_dir / "51-bench.yaml").write_text(POLICY_EDIT.replace("bench-blocks", "bench2-blocks"),
                                                               encoding="utf-8")
        sent = time.monotonic()
        try:
            state = guard.state()
            body = bodies[decisions % len(bodies)]
            state.decider.decide(body["feature"], body["category"], body["route"], today)
        except Exception:
            errors += 1
        decisions += 1
        if "store" in marks and state.store_head != head and math.isnan(first_store):
            first_store = time.monotonic() - marks["store"]
        if "policy" in marks and state.policy_digest != digest and math.isnan(first_policy):
            first_policy = time.monotonic() - marks["policy"]
        stale_store += "store" in marks and sent > marks["store"] + bound and state.store_head == head
        stale_policy += "policy" in marks and sent > marks["policy"] + bound and state.policy_digest == digest
    print(f"in-process sustained {seconds:.0f} s, one thread: {decisions / seconds:,.0f} decisions/s, errors {errors}; "
          f"store edit seen after {first_store:.2f} s, policy edit after {first_policy:.2f} s; answers from the old "
          f"state after the bound ({bound:g} s): store {stale_store}, policy {stale_policy}")
    guard.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60, help="length of the sustained run")
    parser.add_argument("--single-seconds", type=int, default=15)
    parser.add_argument("--bound", type=float, default=1.0, help="freshness bound (max staleness) in seconds")
    parser.add_argument("--skip-sustained", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} (shared with other work)")
    tmp, settings = workspace()
    bodies = requests_for(settings, 20_000)
    server = Server(settings, args.workers, args.bound)
    try:
        bench_batch(server, bodies)
        asyncio.run(python_load(server.port, bodies, 8, 3))
        cpu = server.cpu_seconds()
        single = wrk_single(server.port, bodies, args.clients, args.single_seconds)
        if single is not None:
            show(f"service single decisions, {args.clients} clients, {args.workers} workers (wrk)", single)
            print(f"  server CPU {(server.cpu_seconds() - cpu) / single['requests'] * 1e6:.0f} us per decision "
                  f"(all workers; so about {single['requests'] / (server.cpu_seconds() - cpu):,.0f}/s per busy core)")
        else:
            answers = asyncio.run(python_load(server.port, bodies, args.clients, args.single_seconds))
            show(f"service single decisions, {args.clients} clients, {args.workers} workers (Python client)",
                 summary(answers, args.single_seconds))
        if not args.skip_sustained:
            sustained(server, settings, bodies, args.clients, args.seconds, args.bound)
    finally:
        server.stop()
    tmp2, settings2 = workspace()
    bench_in_process(settings2, bodies, 20 if args.skip_sustained else args.seconds, args.bound)
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(tmp2, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
