"""Generated-input harness (outside the default suite): `python -m bench.fuzz --inputs 10000`.

Feeds mutated and random inputs to the YAML reader, the data-folder reader, the policy reader
and the CLI (on a scratch SQLite store) and counts what must never happen: an internal error
(exit 3), a traceback, and a failed command that changed the store. Figures go in
docs/reliability.md.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import yaml

from compliance.access import SYSTEM
from compliance.cli import main
from compliance.config import PROJECT_ROOT, Settings
from compliance.policy.language import Vocabulary, build_policy_set, read_policy_dir
from compliance.store import Store
from compliance.store.audit import latest_event_id
from compliance.store.validate import FILES, read_data_dir
from compliance.yamlsource import YamlDocument, parse_yaml

DATA = PROJECT_ROOT / "data"
POLICIES = PROJECT_ROOT / "policies"
VALUES = ["[", "{x", "!!python/name:os.system", "&a", "*a", "1e999", "-", '"', "null", "~", "[1, [2, [3]]]",
          "!!bool maybe", "!!timestamp soon", "!!int ''", "!!float x", "!!binary ~~~", ".nan", ".inf", "-.inf",
          "0", "-1", "99999999999999999999", "2026-02-30", "2026-10-01 10:00:00", "9999-12-31", "0001-01-01",
          "''", '"\\0"', '"\\e[31m"', "today+99999d", "yes", "on", "\u202e", "{url: ''}", "{}", "[]",
          "x" * 250, "'" + "y" * 2100 + "'", "<<: *a", "? a", "!foo bar", "%YAML 1.1", "--- |", "|\n  a"]
WORDS = ["aws", "claude-direct", "claude-bedrock-eu", "user", "user.health_and_medical", "user.contact.email",
         "support-reply-draft", "clinic-notes-summary", "today", "today+30d", "today+99999d", "9999-12-31",
         "2026-02-30", "-1", "0", "36501", "999999999999", "--json", "csv", "json", "table", "", "\x00",
         "\x1b[31m", "b2b", "base", "features", "../../etc/passwd", "/dev/full", "=1+1", "x" * 300]
COMMANDS: dict[str, list[str]] = {
    "check": ["--feature", "--category", "--route", "--as-of"], "routes": ["--feature", "--category", "--as-of"],
    "flows": ["--feature", "--as-of"], "matrix": ["--as-of", "--format"], "alerts": ["--within", "--as-of"],
    "costs": ["--segment", "--scenario", "--format", "--table", "--as-of"], "validate": [], "test": [],
    "audit verify": [], "audit export": ["--format"], "audit checkpoint": [], "load": ["--reason"],
    "export": [],
}


class Tally:
    def __init__(self) -> None:
        self.tried: Counter[str] = Counter()
        self.exit3 = 0
        self.tracebacks = 0
        self.changed = 0
        self.examples: list[str] = []

    def bad(self, kind: str, what: str, detail: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {what}: {detail[:300]!r}")


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines() or [""]
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(lines))
        action = rng.choice(["value", "value", "delete", "duplicate", "indent", "garbage", "bytes"])
        if action == "value" and ":" in lines[i]:
            lines[i] = lines[i].split(":", 1)[0] + ": " + rng.choice(VALUES)
        elif action == "delete" and len(lines) > 1:
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = rng.choice(["  ", "\t", "    "]) + lines[i]
        elif action == "garbage":
            lines[i] = "".join(chr(rng.randint(0, 0x2FF)) for _ in range(rng.randint(0, 20)))
        else:
            lines[i] = lines[i][: rng.randint(0, len(lines[i]))] + rng.choice(VALUES)
    return "\n".join(lines)


def random_structure(rng: random.Random, depth: int = 0) -> Any:
    if depth > 3 or rng.random() < 0.4:
        return rng.choice([None, True, False, 0, -1, 10**30, 1.5, float("nan"), float("inf"), "", "x", "today",
                           "today+30d", "2026-10-01", "*", "user", "approved", "deny", "allow", "\x00", "\u202e"])
    if rng.random() < 0.5:
        return [random_structure(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["id", "effect", "reason", "when", "match", "waivable", "features", "routes", "categories", "any", "all",
            "not", "route.status", "processor.dpa.active", "route.retention_days", "processor.dpa.expires_on",
            "eq", "ne", "in", "gte", "before", "exists", "waives", "feature", "expires_on", "granted_on",
            "approved_by", "bogus"]
    return {rng.choice(keys): random_structure(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def run_readers(tally: Tally, rng: random.Random, counts: dict[str, int], scratch: Path) -> None:
    texts = {name: (DATA / name).read_text(encoding="utf-8") for name in FILES}
    policy_texts = [p.read_text(encoding="utf-8") for p in sorted(POLICIES.glob("*.yaml"))]
    dataset, _, _ = read_data_dir(DATA)
    assert dataset is not None
    vocabulary = Vocabulary.of(dataset)
    for _ in range(counts["yaml"]):
        tally.tried["yaml text"] += 1
        text = mutate(rng.choice(list(texts.values()) + policy_texts), rng) if rng.random() < 0.8 else \
            "".join(chr(rng.randint(0, 0x10FF)) for _ in range(rng.randint(0, 300)))
        try:
            doc, problems = parse_yaml(text, "fuzz.yaml")
            assert (doc is None) == bool(problems) and all(p.message for p in problems)
        except Exception as exc:
            tally.tracebacks += 1
            tally.bad("yaml", text[:80], repr(exc))
    for _ in range(counts["policy"]):
        tally.tried["policy file"] += 1
        try:
            if rng.random() < 0.5:
                doc, problems = parse_yaml(mutate(rng.choice(policy_texts), rng), "fuzz.yaml")
                docs = [doc] if doc else []
            else:
                docs = [YamlDocument("fuzz.yaml", {"rules": [random_structure(rng) for _ in range(rng.randint(0, 3))],
                                                   "exceptions": [random_structure(rng)]})]
            policies, problems = build_policy_set(docs, vocabulary)
            assert (policies is None) == bool(problems)
        except Exception as exc:
            tally.tracebacks += 1
            tally.bad("policy", "", repr(exc))
    folder = scratch / "data"
    shutil.copytree(DATA, folder, ignore=shutil.ignore_patterns("*.db*"))
    for n in range(counts["data"]):
        tally.tried["data folder"] += 1
        changed = rng.sample(sorted(FILES), rng.randint(1, 2))
        for name in changed:
            if rng.random() < 0.85:
                (folder / name).write_text(mutate(texts[name], rng), encoding="utf-8")
            else:
                (folder / name).write_text(yaml.safe_dump({FILES[name][0]: random_structure(rng)}), encoding="utf-8")
        try:
            found, problems, _ = read_data_dir(folder)
            assert (found is None) == bool(problems)
            if n % 100 == 0:
                read_policy_dir(POLICIES, vocabulary)
        except Exception as exc:
            tally.tracebacks += 1
            tally.bad("data", str(folder), repr(exc))
        for name in changed:
            (folder / name).write_text(texts[name], encoding="utf-8")


def state(store: Store) -> tuple[int, str]:
    with store.session() as session:
        marker = latest_event_id(session)
    return marker, store.read().model_dump_json()


def run_cli(tally: Tally, rng: random.Random, count: int, scratch: Path, store: Store) -> None:
    texts = {name: (DATA / name).read_text(encoding="utf-8") for name in FILES}
    base = ["--db", store.settings.database_url, "--data", str(DATA), "--policies", str(POLICIES)]
    before = state(store)
    for n in range(count):
        command = rng.choice(sorted(COMMANDS))
        args = command.split()
        if command == "load":
            folder = scratch / f"load-{n}"
            shutil.copytree(DATA, folder, ignore=shutil.ignore_patterns("*.db*"))
            name = rng.choice(sorted(FILES))
            (folder / name).write_text(mutate(texts[name], rng), encoding="utf-8")
            args.append(str(folder))
        if command in ("export", "test"):
            args.append(rng.choice([str(scratch / f"out-{n}"), str(scratch / "missing" / "x"), "/dev/full",
                                    str(scratch / f"out-{n}" / rng.choice(["=1+1", "x" * 300, "a b", "\u202e"]))]))
        for option in COMMANDS[command]:
            if rng.random() < 0.6:
                args += [option, rng.choice(WORDS)]
        if rng.random() < 0.2:
            args.append(rng.choice(WORDS))
        if command == "matrix" and rng.random() < 0.3:
            args += ["--out", rng.choice(["/dev/full", str(scratch / "no" / "m.csv"), str(scratch / f"m{n}.csv")])]
        tally.tried["cli " + command] += 1
        out, err = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code: Any = main(base + args)
        except SystemExit as exc:
            code = exc.code
        except Exception as exc:
            code = "raised"
            tally.tracebacks += 1
            tally.bad("cli", " ".join(args), repr(exc))
        text = err.getvalue()
        if code == 3:
            tally.exit3 += 1
            tally.bad("cli exit 3", " ".join(args), text)
        if "Traceback" in text:
            tally.tracebacks += 1
            tally.bad("cli traceback", " ".join(args), text)
        if command == "load" or n % 10 == 0:
            after = state(store)
            if after != before and code not in (0,):
                tally.changed += 1
                tally.bad("store changed by a failed command", " ".join(args), text)
            if after != before:  # a valid random load: put the example data back
                store.load(DATA, actor=SYSTEM)
                before = state(store)
        shutil.rmtree(scratch / f"load-{n}", ignore_errors=True)
        shutil.rmtree(scratch / f"out-{n}", ignore_errors=True)


def main_fuzz(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--inputs", type=int, default=10_000, help="how many inputs in all (default 10,000)")
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--cli-share", type=float, default=0.04, help="share of inputs that are CLI commands")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    cli = int(args.inputs * args.cli_share)
    rest = args.inputs - cli
    counts = {"yaml": rest * 45 // 100, "policy": rest * 30 // 100}
    counts["data"] = rest - counts["yaml"] - counts["policy"]
    tally = Tally()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="compliance-fuzz-") as tmp:
        scratch = Path(tmp)
        run_readers(tally, rng, counts, scratch)
        store = Store.open(Settings(database_url=f"sqlite:///{scratch / 'fuzz.db'}", data_dir=DATA,
                                    policy_dir=POLICIES))
        run_cli(tally, rng, cli, scratch, store)
        store.dispose()
    elapsed = time.perf_counter() - started
    print(f"fuzz: seed {args.seed}, {elapsed:.0f} s")
    for kind, n in sorted(tally.tried.items()):
        print(f"  {kind:<22} {n:>6,}")
    print(f"inputs tried:                      {sum(tally.tried.values()):,}")
    print(f"exit 3 (internal error):           {tally.exit3}")
    print(f"tracebacks:                        {tally.tracebacks}")
    print(f"store changed by a failed command: {tally.changed}")
    for example in tally.examples:
        print(f"  - {example}")
    return 0 if not (tally.exit3 or tally.tracebacks or tally.changed) else 1


if __name__ == "__main__":
    sys.exit(main_fuzz())
