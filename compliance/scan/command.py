"""The `scan` command and `flows --scan`: thin glue between the CLI, the scanner and the store."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from compliance.problems import ComplianceError, InvalidInput, Problem
from compliance.scan import DEFAULT_CACHE, Report, scan_paths
from compliance.scan.report import render_json, render_sarif, render_table
from compliance.scan.rules import load_rules
from compliance.store import documents as d


def read_baseline(path: Path) -> set[str]:
    """The finding ids a baseline file accepts: a `--format json` output (or a plain list of ids)."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput([Problem(str(path), None, "", f"cannot read the baseline: {exc.strerror or exc}")]) from exc
    except ValueError as exc:
        line = getattr(exc, "lineno", None)
        raise InvalidInput([Problem(str(path), line, "", f"the baseline is not JSON: {exc}")]) from exc
    items = data.get("findings") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise InvalidInput([Problem(str(path), None, "findings",
                                    "a baseline is the JSON that `scan --format json` writes")])
    ids = set()
    for i, item in enumerate(items):
        value = item.get("id") if isinstance(item, dict) else item
        if not isinstance(value, str):
            raise InvalidInput([Problem(str(path), None, f"findings[{i}].id", "must be a finding id (a string)")])
        ids.add(value)
    return ids


def run_scan(paths: list[str], dataset: d.DataSet, *, baseline: str | None = None, cache: str | None = None,
             no_cache: bool = False) -> Report:
    accepted = read_baseline(Path(baseline)) if baseline else set()
    cache_dir = None if no_cache else Path(cache) if cache else DEFAULT_CACHE
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise ComplianceError(f"no such file or directory: {', '.join(missing)}")
    return scan_paths([Path(p) for p in paths], dataset, baseline=accepted, cache_dir=cache_dir)


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report, tool_version=load_rules().version)
    return render_table(report)


def emit(text: str, out: str | None) -> None:
    if out:
        Path(out).write_text(text + "\n", encoding="utf-8")
        print(f"wrote {out}", file=sys.stderr)
    else:
        print(text)
