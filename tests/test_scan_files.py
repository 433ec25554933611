"""Which files a scan reads: virtual environments, VCS folders and .gitignore'd files are skipped."""

from __future__ import annotations

import ast
import gc
import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from compliance.scan import files, prefilter
from compliance.scan.extract import ModuleScan
from compliance.scan.rules import load_rules
from tests.scan_helpers import only, scan_code

CALL = """
from anthropic import Anthropic
def ask():
    return Anthropic().messages.create(model="claude-sonnet-4-5", messages=[])
"""


def test_skips_virtualenvs_vcs_node_modules_and_gitignored_files(tmp_path: Path) -> None:
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("generated/\n*_local.py\n")
    report = scan_code(tmp_path, {
        "app.py": CALL, "venv/lib/site.py": CALL, ".git/hooks/x.py": CALL, "node_modules/pkg/x.py": CALL,
        "generated/client.py": CALL, "tools/try_local.py": CALL, "lib/site-packages/dep.py": CALL,
    })
    assert [f.file for f in report.findings] == ["app.py"]
    assert report.files == 1


def test_the_stat_shortcut_skips_reading_unchanged_files_and_the_hash_decides_otherwise(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "SETTLE_NS", 0)  # as if every file had been written long before the scan
    hashed: list[str] = []
    real = files.digest
    monkeypatch.setattr(files, "digest", lambda data, path="": hashed.append(str(path)) or real(data, path))
    first = scan_code(tmp_path, {"app.py": CALL, "other.py": "x = 1\n"}, cache=True)
    hashed.clear()
    again = scan_code(tmp_path, {}, cache=True)
    assert hashed == [] and [f.id for f in again.findings] == [f.id for f in first.findings]
    # same size, mtime set back: ctime still changes, so the content is hashed and the edit seen
    app = tmp_path / "app.py"
    before = app.stat()
    app.write_text(app.read_text().replace("claude-sonnet-4-5", "claude-sonnet-4-6"))
    os.utime(app, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (app.stat().st_size, app.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    changed = scan_code(tmp_path, {}, cache=True)
    assert [Path(p).name for p in hashed] == ["app.py", "app.py"]  # main's lookup, then the parse
    assert only(changed).model["value"] == "claude-sonnet-4-6"


def test_a_file_written_just_before_a_scan_is_hashed_again_next_time(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[str] = []
    real = files.digest
    monkeypatch.setattr(files, "digest", lambda data, path="": hashed.append(str(path)) or real(data, path))
    scan_code(tmp_path, {"app.py": CALL}, cache=True)  # default 2 s settle window: the file is too fresh
    hashed.clear()
    assert only(scan_code(tmp_path, {}, cache=True)).sdk == "anthropic"
    assert [Path(p).name for p in hashed] == ["app.py"]  # hashed, found in the cache, not parsed


def test_settled_needs_both_times_older_than_the_window() -> None:
    now = time.time_ns()
    old = SimpleNamespace(st_mtime_ns=now - 5 * 10**9, st_ctime_ns=now - 5 * 10**9)
    fresh_ctime = SimpleNamespace(st_mtime_ns=now - 5 * 10**9, st_ctime_ns=now - 10**6)
    assert files.settled(old, now)  # type: ignore[arg-type]
    assert not files.settled(fresh_ctime, now)  # type: ignore[arg-type]


def test_a_broken_cache_file_is_ignored(tmp_path: Path) -> None:
    scan_code(tmp_path, {"app.py": CALL}, cache=True)
    for cached in (tmp_path / ".compliance-cache").glob("scan-*.marshal"):
        cached.write_bytes(b"\x00garbage")
    assert only(scan_code(tmp_path, {}, cache=True)).sdk == "anthropic"


def test_a_scan_makes_no_reference_cycles() -> None:
    """The scanner pauses the cyclic GC while parsing: that is only safe if trees are freed by refcounts."""
    rules = load_rules()
    text = CALL + "class A:\n    def __init__(self):\n        self.c = Anthropic()\n    def go(self):\n" \
                  "        return self.c.messages.create(model='m')\n"
    gc.collect()
    gc.disable()
    try:
        for _ in range(3):
            assert files.scan_source(text, rules)["calls"]
            files.scan_source("def broken(:\n", rules)
        assert gc.collect() == 0
    finally:
        gc.enable()


SNIPPETS = [
    "from litellm import completion as ask\ndef f():\n    return ask(model='gpt-5')\n",
    "import vertexai\nfrom vertexai.generative_models import GenerativeModel as GM\nvertexai.init(location='eu')\n"
    "def f():\n    return GM('gemini-2.5').generate_content('x')\n",
    "from langchain_openai import ChatOpenAI as Chat\nm = Chat(model='gpt-5')\ndef f(p):\n    return (p | m)"
    ".invoke({})\n",
    "import ｏｐｅｎａｉ\nc = openai.OpenAI()\nc.chat.completions.ｃreate(model='gpt-5')\n",
    "import boto3\ns = boto3.Session(region_name='eu-west-1')\nrt = s.client('bedrock-runtime')\n"
    "rt.converse(modelId='eu.anthropic.claude')\n",
]


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_the_pre_filter_finds_what_a_full_walk_finds(snippet: str) -> None:
    rules = load_rules()
    tree = ast.parse(snippet)
    full = ModuleScan(tree, snippet.splitlines(), rules, None).calls()
    assert full and prefilter.may_call(snippet, rules)
    text = snippet if prefilter.normal(snippet) else None
    assert ModuleScan(ast.parse(snippet), snippet.splitlines(), rules, text).calls() == full


def test_every_rule_call_survives_the_pre_filter() -> None:
    """For every client rule and each of its calls (and every function rule), pre-filtered == full walk."""
    rules = load_rules()
    checked = 0
    for rule in rules.clients:
        module, _, cls = rule.match[0].rpartition(".")
        for call in rule.calls or ():
            for alias in ("", " as Made"):
                name = "Made" if alias else cls
                text = (f"from {module} import {cls}{alias}\n"
                        f"def f():\n    c = {name}('bedrock-runtime', model='m')\n    return c.{call}('x')\n")
                tree = ast.parse(text)
                full = ModuleScan(tree, text.splitlines(), rules, None).calls()
                assert prefilter.may_call(text, rules)
                assert ModuleScan(ast.parse(text), text.splitlines(), rules, text).calls() == full, text
                checked += 1
    for rule in rules.functions:
        for match in rule.match:
            module, _, fn = match.rpartition(".")
            text = f"from {module} import {fn} as go\ngo('https://api.openai.com/v1/chat/completions', model='m')\n"
            full = ModuleScan(ast.parse(text), text.splitlines(), rules, None).calls()
            assert ModuleScan(ast.parse(text), text.splitlines(), rules, text).calls() == full, text
            checked += 1
    assert checked > 100


def test_a_file_naming_no_sdk_is_parsed_not_walked() -> None:
    rules = load_rules()
    assert not prefilter.may_call("x = 1\n", rules)
    assert files.scan_source("def broken(:\n", rules)["error"] is not None  # still reported as unparsed
