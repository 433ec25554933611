"""Declared vs actual: find the LLM calls in a codebase and hold them against the declared flows (scan.md).

    report = scan_paths([Path("src")], dataset)      # files are parsed with `ast`, never imported or run
    report.failed, report.findings
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from compliance.problems import ComplianceError
from compliance.scan.files import scan_files, source_files
from compliance.scan.findings import STATUSES, VIOLATIONS, Finding, Matcher, Report, build_report
from compliance.scan.rules import load_rules
from compliance.store import documents as d

__all__ = ["STATUSES", "VIOLATIONS", "Finding", "Report", "display", "scan_paths"]
DEFAULT_CACHE = Path(".compliance-cache")


def display(path: Path) -> str:
    """A finding's path: relative to the working directory, with `/` separators (scan.md)."""
    if not path.is_absolute():
        return path.as_posix()  # what (cwd / path).relative_to(cwd) gives, without asking for the cwd each time
    absolute = path.absolute()
    try:
        return absolute.relative_to(Path.cwd().absolute()).as_posix()
    except ValueError:
        return absolute.as_posix()


def scan_paths(paths: Sequence[Path], dataset: d.DataSet, *, baseline: Iterable[str] = (),
               cache_dir: Path | None = DEFAULT_CACHE, workers: int | None = None) -> Report:
    """Scan files and folders and hold every LLM call against the data set's routes and features."""
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ComplianceError(f"no such file or directory: {', '.join(missing)}")
    files = list(dict.fromkeys(source_files(paths)))
    results = scan_files(files, cache_dir=cache_dir, workers=workers)
    matcher = Matcher(dataset, frozenset(baseline))
    return build_report([(display(f), r) for f, r in zip(files, results, strict=True)], matcher,
                        rules_version=load_rules().version, paths=[display(p) for p in paths])
