"""Code scanner benchmark (issue 12): a synthetic ~1,000,000-line codebase, full scan and a rescan.

Run:  .venv/bin/python -m bench.bench_scan [--files 3000] [--workers 2] [--keep DIR]
Generates 3,000 modules of about 333 lines each (classes, functions, dataclasses, comprehensions,
string constants, decoy `.create(...)` calls, and one LLM call per 300 lines across every SDK the
rules know) in a temporary folder, then prints: the full scan (process pool, cold cache) in seconds
and lines/s, CPU time of all processes, findings, peak memory of the whole process tree, and the
rescan after one file changed (warm cache), both before the stat shortcut can apply (every file
hashed) and with it. Not a test: it prints figures, reported in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

from compliance.scan import scan_paths
from compliance.store.validate import read_data_dir

ROOT = Path(__file__).resolve().parent.parent

LLM_CALLS = [
    ("from anthropic import AnthropicBedrock\n",
     "    client = AnthropicBedrock(aws_region=REGION)\n"
     "    return client.messages.create(model=\"eu.anthropic.claude-haiku-4-5-20251001-v1:0\", messages=[])\n"),
    ("import boto3\n",
     "    runtime = boto3.client(\"bedrock-runtime\", region_name=os.getenv(\"AWS_REGION\", \"eu-central-1\"))\n"
     "    return runtime.converse(modelId=\"eu.anthropic.claude-sonnet-4-5-20250929-v1:0\", messages=[])\n"),
    ("from openai import OpenAI\n",
     "    return OpenAI().chat.completions.create(model=\"gpt-5-mini\",\n"
     "                                            messages=[{\"role\": \"user\", \"content\": x}])\n"),
    ("from openai import AzureOpenAI\n",
     "    client = AzureOpenAI(azure_endpoint=os.environ[\"AZURE_OPENAI_ENDPOINT\"])\n"
     "    return client.chat.completions.create(model=\"o4-mini\", messages=[])\n"),
    ("from google import genai\n",
     "    client = genai.Client(vertexai=True, location=\"europe-west4\")\n"
     "    return client.models.generate_content(model=\"gemini-2.5-flash\", contents=x)\n"),
    ("import litellm\n",
     "    return litellm.completion(model=\"bedrock/meta.llama3-3-70b-instruct-v1:0\",\n"
     "                              aws_region_name=\"us-east-1\")\n"),
    ("from mistralai import Mistral\n",
     "    return Mistral(api_key=KEY).chat.complete(model=\"mistral-medium-2508\", messages=[])\n"),
    ("import requests\n",
     "    return requests.post(\"https://api.cohere.com/v2/chat\", json={\"model\": \"command-a\"})\n"),
]

FILLER = [
    '''
@dataclass
class Record{n}:
    """A row of the {n}th table, as the loader sees it."""

    id: int
    name: str
    tags: list[str] = field(default_factory=list)
    score: float = 0.0

    def label(self) -> str:
        return f"{{self.name}} ({{self.id}})"

    def normalised(self) -> "Record{n}":
        return Record{n}(self.id, self.name.strip().lower(), sorted(set(self.tags)), round(self.score, 2))
''',
    '''
def summarise_{n}(rows: list[dict[str, object]], *, limit: int = 10) -> dict[str, int]:
    """Count rows per key, keeping the most common ones."""
    counts: dict[str, int] = {{}}
    for row in rows:
        key = str(row.get("kind", "other"))
        if key.startswith("_"):
            continue
        counts[key] = counts.get(key, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return dict(ordered[:limit])
''',
    '''
class Repository{n}:
    """Stores and fetches things; `create` here is a database call, not an LLM."""

    def __init__(self, session):
        self.session = session
        self.cache: dict[int, object] = {{}}

    def create(self, **values):
        row = self.session.create(**values)
        self.cache[row.id] = row
        return row

    def find(self, key: int):
        if key in self.cache:
            return self.cache[key]
        found = self.session.query(key)
        self.cache[key] = found
        return found
''',
    '''
def parse_{n}(text: str) -> list[tuple[str, str]]:
    """Split `a=b; c=d` pairs; blank parts are skipped."""
    pairs = []
    for part in text.split(";"):
        part = part.strip()
        if not part or "=" not in part:
            continue
        key, _, value = part.partition("=")
        pairs.append((key.strip(), value.strip()))
    return pairs


TEMPLATE_{n} = """
Dear {{name}},
your order {{order}} has shipped. The bedrock of our service is you.
"""
''',
    '''
async def fetch_all_{n}(client, urls: list[str]) -> list[bytes]:
    results = []
    for url in urls:
        try:
            response = await client.get(url, timeout=10)
        except TimeoutError:
            continue
        if response.status_code == 200:
            results.append(response.content)
    return [r for r in results if r]
''',
]


def make_module(rng: random.Random, index: int, lines_target: int = 333) -> str:
    head = ["import os", "from dataclasses import dataclass, field", ""]
    imports = []
    body: list[str] = ['REGION = "eu-central-1"', 'KEY = os.getenv("API_KEY", "")', ""]
    n = 0
    while sum(chunk.count("\n") + 1 for chunk in body) + len(head) + len(imports) < lines_target:
        chunk = rng.choice(FILLER).format(n=f"{index}_{n}")
        body.append(chunk)
        if rng.random() < (chunk.count("\n") + 1) / 300:  # one LLM call per 300 lines on average
            import_line, call = rng.choice(LLM_CALLS)
            if import_line not in imports:
                imports.append(import_line)
            body.append(f"\ndef ask_{index}_{n}(x):\n" + call)
        n += 1
    return "\n".join(head + imports + body) + "\n"


def generate(root: Path, files: int, seed: int = 12) -> int:
    rng = random.Random(seed)
    lines = 0
    for i in range(files):
        package = root / f"pkg{i // 100:02d}"
        package.mkdir(parents=True, exist_ok=True)
        text = make_module(rng, i)
        lines += text.count("\n")
        (package / f"module_{i:04d}.py").write_text(text, encoding="utf-8")
    return lines


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers: on a shared machine, what the scan itself cost."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants (from /proc; shared pages counted in each: an upper bound)."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/status", encoding="ascii") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as children:
                    todo += [int(c) for c in children.read().split()]
        except (OSError, ValueError):
            continue
    return total


class TreePeak:
    """Samples the whole process tree's RSS every 20 ms while a scan runs: the peak is what the target bounds."""

    def __init__(self) -> None:
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(os.getpid()))
            self._stop.wait(0.02)

    def __enter__(self) -> TreePeak:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--files", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", help="generate into this folder and keep it")
    args = parser.parse_args(argv)
    dataset, problems, _ = read_data_dir(ROOT / "data")
    assert dataset is not None, problems
    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-scan-"))
    try:
        started = time.perf_counter()
        lines = generate(root / "code", args.files)
        print(f"generated {args.files:,} files, {lines:,} lines in {time.perf_counter() - started:.1f} s "
              f"({root / 'code'})")
        cache = root / "cache"
        os.chdir(root)
        started, cpu = time.perf_counter(), cpu_seconds()
        with TreePeak() as tree:
            report = scan_paths([Path("code")], dataset, cache_dir=cache, workers=args.workers)
        full = time.perf_counter() - started
        cpu = cpu_seconds() - cpu
        own, children = peak_rss_mb()
        print(f"full scan ({args.workers} workers, cold cache): {full:.2f} s, {report.lines / full:,.0f} lines/s, "
              f"{len(report.findings):,} findings {report.summary()['by_status']}")
        print(f"CPU time of the full scan (all processes): {cpu:.1f} s, i.e. {cpu / args.workers:.1f} s on "
              f"{args.workers} idle cores; load average {os.getloadavg()[0]:.1f} during the run")
        print(f"peak memory of the whole process tree (RSS summed over the scan and its workers, sampled every "
              f"20 ms): {tree.peak_kb / 1024:.0f} MB; peak RSS of the scan process {own:.0f} MB, largest worker "
              f"{children:.0f} MB")
        sources = sorted((root / "code").rglob("*.py"))
        for n, label in ((1, "every file hashed: the tree was written < 2 s before the first scan, so no stat "
                             "is trusted yet"),
                         (2, "stat shortcut: only files whose size/mtime/ctime/inode changed are read")):
            victim = sources[(len(report.findings) * n) % args.files]
            victim.write_text(victim.read_text(encoding="utf-8") + f"\n\ndef added_{n}():\n    return 1\n",
                              encoding="utf-8")
            started, cpu = time.perf_counter(), cpu_seconds()
            again = scan_paths([Path("code")], dataset, cache_dir=cache, workers=args.workers)
            rescan, cpu = time.perf_counter() - started, cpu_seconds() - cpu
            print(f"rescan after one file changed ({label}): {rescan:.2f} s wall, {cpu:.2f} s CPU, "
                  f"{len(again.findings):,} findings")
        started = time.perf_counter()
        scan_paths([Path("code")], dataset, cache_dir=cache, workers=args.workers)
        print(f"rescan with nothing changed: {time.perf_counter() - started:.2f} s")
    finally:
        os.chdir(ROOT)
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
