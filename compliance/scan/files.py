"""Which files a scan reads, and reading them: `.py` and notebooks' code cells, in parallel, cached by content.

Each file's result (its LLM calls as the code describes them, or where it fails to parse) depends
only on its text and the rules version, so it is cached under its content hash; a rescan after one
edit parses one file.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from compliance.scan.extract import ModuleScan
from compliance.scan.rules import Rules, load_rules

SCANNER_VERSION = "1"
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "site-packages", "__pycache__", ".venv", "venv",
                          ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".compliance-cache",
                          "build", "dist", ".ipynb_checkpoints"})
ALIAS = re.compile(r"\bas\s+([A-Za-z_]\w*)")
FileResult = dict[str, Any]
PARALLEL_FROM = 64  # fewer uncached files than this are read in this process


def _is_virtualenv(path: Path) -> bool:
    return (path / "pyvenv.cfg").is_file()


def _gitignore(directory: Path) -> pathspec.PathSpec[Any] | None:
    path = directory / ".gitignore"
    if not path.is_file():
        return None
    try:
        return pathspec.PathSpec.from_lines("gitignore", path.read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def source_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Every `.py` and `.ipynb` under the paths, skipping VCS folders, virtualenvs and `.gitignore`d files."""
    for root in paths:
        if root.is_file():
            yield root
            continue
        yield from _walk(root, [])


def _walk(directory: Path, ignores: list[tuple[Path, pathspec.PathSpec[Any]]]) -> Iterator[Path]:
    spec = _gitignore(directory)
    if spec is not None:
        ignores = [*ignores, (directory, spec)]
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        is_dir = entry.is_dir(follow_symlinks=False)
        if _ignored(path, is_dir, ignores):
            continue
        if is_dir:
            if entry.name in SKIPPED_DIRS or _is_virtualenv(path):
                continue
            yield from _walk(path, ignores)
        elif entry.name.endswith((".py", ".ipynb")) and entry.is_file():
            yield path


def _ignored(path: Path, is_dir: bool, ignores: list[tuple[Path, pathspec.PathSpec[Any]]]) -> bool:
    for base, spec in ignores:
        relative = path.relative_to(base).as_posix() + ("/" if is_dir else "")
        if spec.match_file(relative):
            return True
    return False


def notebook_source(text: str) -> tuple[str, list[tuple[int, int]]]:
    """The code cells joined into one module, and for each line its (cell index, line in the cell)."""
    data = json.loads(text)
    cells = data.get("cells", []) if isinstance(data, dict) else []
    lines: list[str] = []
    where: list[tuple[int, int]] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        text_lines = ("".join(source) if isinstance(source, list) else str(source)).splitlines()
        for number, line in enumerate(text_lines, start=1):
            stripped = line.lstrip()
            lines.append("" if stripped.startswith(("%", "!", "?")) else line)  # IPython magics
            where.append((index, number))
    return "\n".join(lines) + "\n", where


_PATTERNS: dict[tuple[int, frozenset[str]], re.Pattern[str]] = {}


def _words_pattern(rules: Rules, extra: frozenset[str]) -> re.Pattern[str]:
    key = (id(rules), extra)
    if key not in _PATTERNS:
        words = set(rules.method_names) | {"require", "init", "environ", "getenv"} | extra
        _PATTERNS[key] = re.compile(r"\b(?:" + "|".join(sorted(map(re.escape, words))) + r")\b")
    return _PATTERNS[key]


def interesting_lines(text: str, rules: Rules) -> set[int] | None:
    """Lines naming a rule's method, class or function (or an import alias): only these are looked at closely.

    None when the file imports none of the SDKs the rules know: nothing in it can be reported.
    """
    if not any(module in text for module in rules.modules):
        return None
    pattern = _words_pattern(rules, frozenset(ALIAS.findall(text)))
    lines: set[int] = set()
    line = 1
    last = 0
    for found in pattern.finditer(text):
        line += text.count("\n", last, found.start())
        last = found.start()
        lines.add(line)
    return lines


def scan_source(text: str, rules: Rules, *, notebook: bool = False) -> FileResult:
    """The LLM calls in one file's text (or where it fails to parse), with line numbers in the file."""
    where: list[tuple[int, int]] | None = None
    if notebook:
        try:
            text, where = notebook_source(text)
        except (ValueError, TypeError) as exc:
            return {"lines": 0, "calls": [], "error": {"line": 1, "cell": None, "message": f"not a notebook: {exc}"}}
    line_count = text.count("\n") + (0 if text.endswith("\n") else 1)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None) or 1
        cell = None
        if where and 0 < line <= len(where):
            cell, line = where[line - 1]
        message = getattr(exc, "msg", None) or str(exc)
        return {"lines": line_count, "calls": [], "error": {"line": line, "cell": cell, "message": message}}
    interesting = interesting_lines(text, rules)
    if interesting is None:
        return {"lines": line_count, "calls": [], "error": None}
    calls = ModuleScan(tree, text.splitlines(), rules, interesting).calls()
    if where:
        for call in calls:
            cell, line = where[call["line"] - 1]
            call["cell"], call["line"] = cell, line
            call["requires"] = [[where[at - 1][1], feature] for at, feature in call["requires"]]
    return {"lines": line_count, "calls": calls, "error": None}


def _read_and_scan(path: str) -> FileResult:
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return {"lines": 0, "calls": [], "error": {"line": 1, "cell": None, "message": f"cannot read: {exc}"}}
    return scan_source(text, load_rules(), notebook=path.endswith(".ipynb"))


def _scan_batch(paths: list[str]) -> list[FileResult]:
    return [_read_and_scan(p) for p in paths]


@dataclass
class Cache:
    """Results by content hash, in one JSON file (only the entries of files still scanned are kept)."""

    path: Path | None
    entries: dict[str, FileResult]

    @classmethod
    def open(cls, directory: Path | None, rules: Rules) -> Cache:
        if directory is None:
            return cls(None, {})
        path = directory / f"scan-{SCANNER_VERSION}-{rules.version}.json"
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entries = {}
        return cls(path, entries if isinstance(entries, dict) else {})

    def save(self, keep: dict[str, FileResult]) -> None:
        if self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(keep, separators=(",", ":")), encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            pass  # a cache that cannot be written only costs time


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def scan_files(files: list[Path], *, cache_dir: Path | None, workers: int | None = None) -> list[FileResult]:
    """Results for each file, in order: from the cache when the content is unchanged, else parsed (in parallel)."""
    rules = load_rules()
    cache = Cache.open(cache_dir, rules)
    keys: list[str] = []
    results: list[FileResult | None] = []
    todo: list[int] = []
    for index, path in enumerate(files):
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        key = digest(data + (b"\0nb" if path.suffix == ".ipynb" else b""))
        keys.append(key)
        cached = cache.entries.get(key)
        results.append(cached)
        if cached is None:
            todo.append(index)
    paths = [str(files[i]) for i in todo]
    workers = workers or min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        fresh = _scan_batch(paths)
    else:
        size = max(1, min(64, len(paths) // (workers * 4)))
        batches = [paths[i:i + size] for i in range(0, len(paths), size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            fresh = [r for batch in pool.map(_scan_batch, batches) for r in batch]
    for index, result in zip(todo, fresh, strict=True):
        results[index] = result
    done = [r if r is not None else {"lines": 0, "calls": [], "error": None} for r in results]
    cache.save(dict(zip(keys, done, strict=True)))
    return done
