"""Which files a scan reads, and reading them: `.py` and notebooks' code cells, in parallel, cached by content.

Each file's result (its LLM calls as the code describes them, or where it fails to parse) depends
only on its text and the rules version, so it is cached under its content hash; a rescan after one
edit parses one file, and reads only the files whose stat (size, times, inode) changed.
"""

from __future__ import annotations

import ast
import hashlib
import json
import marshal
import os
import sys
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pathspec

from compliance.collector import collector_paused
from compliance.scan.extract import ModuleScan
from compliance.scan.prefilter import may_call, normal
from compliance.scan.rules import Rules, load_rules

SCANNER_VERSION = "2"
CACHE_FORMAT = 2
SETTLE_NS = 2_000_000_000  # a file changed less than 2 s before it was read is hashed again on the next scan
SKIPPED_DIRS = frozenset({".git", ".hg", ".svn", "node_modules", "site-packages", "__pycache__", ".venv", "venv",
                          ".tox", ".nox", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".compliance-cache",
                          "build", "dist", ".ipynb_checkpoints"})
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
    if not may_call(text, rules):
        return {"lines": line_count, "calls": [], "error": None}
    calls = ModuleScan(tree, text.splitlines(), rules, text if normal(text) else None).calls()
    if where:
        for call in calls:
            cell, line = where[call["line"] - 1]
            call["cell"], call["line"] = cell, line
            call["requires"] = [[where[at - 1][1], feature] for at, feature in call["requires"]]
    return {"lines": line_count, "calls": calls, "error": None}


def _read_and_scan(path: str) -> tuple[str | None, FileResult]:
    """One file's content hash and result (in a worker process, or in this one for a few files).

    A file that cannot be read has no hash: its result is not cached."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return None, {"lines": 0, "calls": [], "error": {"line": 1, "cell": None,
                                                                      "message": f"cannot read: {exc}"}}
    key = digest(data, path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return key, {"lines": 0, "calls": [], "error": {"line": 1, "cell": None, "message": f"cannot read: {exc}"}}
    with collector_paused():  # a scan makes no reference cycles (tests/test_scan_files.py)
        return key, scan_source(text, load_rules(), notebook=path.endswith(".ipynb"))


Stat = tuple[int, int, int, int, int]  # size, mtime_ns, ctime_ns, inode, device


def stat_key(info: os.stat_result) -> Stat:
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino, info.st_dev


def settled(info: os.stat_result, read_at_ns: int) -> bool:
    """True when the file last changed well before it was read, so any later change gets a later timestamp.

    A file written moments before it was read could be written again within the same timestamp tick,
    keeping its size and times: its stat is never trusted, its content is hashed on the next scan too.
    """
    return max(info.st_mtime_ns, info.st_ctime_ns) < read_at_ns - SETTLE_NS


def _valid(result: Any) -> bool:
    return (isinstance(result, dict) and isinstance(result.get("lines"), int) and isinstance(result.get("calls"), list)
            and (result.get("error") is None or isinstance(result.get("error"), dict)))


@dataclass
class Cache:
    """The results of earlier scans, in one marshal file of plain data (no pickle), read once per scan.

    `results` maps a content hash to the file's result; `stats` maps a file's absolute path to its
    (size, mtime_ns, ctime_ns, inode, device) when it was last read, and the hash of what was read.
    A file whose stat is unchanged is not read again; when the stat differs the content hash decides.
    The ctime is part of the stat: a write, or setting the mtime back with `os.utime`, always changes it.
    """

    path: Path | None
    results: dict[str, FileResult]
    stats: dict[str, tuple[Stat, str]]

    @classmethod
    def open(cls, directory: Path | None, rules: Rules) -> Cache:
        if directory is None:
            return cls(None, {}, {})
        version = f"py{sys.version_info[0]}{sys.version_info[1]}"
        path = directory / f"scan-{SCANNER_VERSION}-{rules.version}-{version}.marshal"
        try:
            data = marshal.loads(path.read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            data = None
        if not (isinstance(data, dict) and data.get("format") == CACHE_FORMAT and isinstance(data.get("results"), dict)
                and isinstance(data.get("stats"), dict)):
            return cls(path, {}, {})
        return cls(path, data["results"], data["stats"])

    def save(self, results: dict[str, FileResult], stats: dict[str, tuple[Stat, str]]) -> None:
        if self.path is None or (results.keys() == self.results.keys() and stats == self.stats):
            return  # nothing new: the file on disk already says all this
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(f".{os.getpid()}.tmp")
            temporary.write_bytes(marshal.dumps({"format": CACHE_FORMAT, "results": results, "stats": stats}))
            temporary.replace(self.path)
        except (OSError, ValueError):
            pass  # a cache that cannot be written only costs time


def digest(data: bytes, path: str | os.PathLike[str] = "") -> str:
    """The cache key of a file's content (a notebook's differs from the same bytes in a `.py`)."""
    suffix = b"\0nb" if os.fspath(path).endswith(".ipynb") else b""
    return hashlib.blake2b(data + suffix, digest_size=16).hexdigest()


def scan_files(files: list[Path], *, cache_dir: Path | None, workers: int | None = None) -> list[FileResult]:
    """Results for each file, in order: from the cache when the file is unchanged, else parsed (in parallel)."""
    rules = load_rules()
    cache = Cache.open(cache_dir, rules)
    keys: list[str | None] = []
    results: list[FileResult | None] = []
    stats: dict[str, tuple[Stat, str]] = {}
    todo: list[int] = []
    todo_stats: list[tuple[str, Stat] | None] = []
    for index, path in enumerate(files):
        name = os.path.abspath(path)
        read_at = time.time_ns()
        try:
            info: os.stat_result | None = os.stat(name)
        except OSError:
            info = None
        current = stat_key(info) if info is not None else None
        key: str | None = None
        known = cache.stats.get(name) if current is not None else None
        if known is not None and known[0] == current:
            key = known[1]  # unchanged since it was last read: not read again
        elif cache.results:
            try:
                key = digest(path.read_bytes(), path)
            except OSError:
                key = None
        cached = cache.results.get(key) if key is not None else None
        if cached is not None and not _valid(cached):
            cached = None
        keys.append(key)
        results.append(cached)
        trusted = info is not None and current is not None and settled(info, read_at)
        if cached is None:
            todo.append(index)
            todo_stats.append((name, current) if trusted and current is not None else None)
        elif key is not None and trusted and current is not None:
            stats[name] = (current, key)
    paths = [str(files[i]) for i in todo]
    workers = workers or min(os.cpu_count() or 1, 8)
    if len(paths) < PARALLEL_FROM or workers < 2:
        fresh = [_read_and_scan(p) for p in paths]
    else:
        chunk = max(1, min(16, len(paths) // (workers * 8)))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            fresh = list(pool.map(_read_and_scan, paths, chunksize=chunk))
    for index, seen, (key, result) in zip(todo, todo_stats, fresh, strict=True):
        keys[index], results[index] = key, result
        if seen is not None and key is not None:
            stats[seen[0]] = (seen[1], key)
    done = [r if r is not None else {"lines": 0, "calls": [], "error": None} for r in results]
    cache.save({k: r for k, r in zip(keys, done, strict=True) if k is not None}, stats)
    return done
