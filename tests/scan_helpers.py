"""Scanning small snippets against the example data (or an edited copy of it)."""

from __future__ import annotations

import os
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from compliance.scan import Finding, Report, scan_paths
from compliance.store import documents as d
from compliance.store.validate import read_data_dir
from tests.conftest import EXAMPLE_DATA


def example_dataset() -> d.DataSet:
    dataset, problems, _ = read_data_dir(EXAMPLE_DATA)
    assert dataset is not None, problems
    return dataset


@contextmanager
def working_dir(path: Path) -> Iterator[None]:
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def scan_code(root: Path, files: dict[str, str] | str, dataset: d.DataSet | None = None, *,
              baseline: set[str] | None = None, cache: bool = False) -> Report:
    """Write the files under `root` (dedented) and scan `root` from there, as CI would from a repository root."""
    if isinstance(files, str):
        files = {"app.py": files}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    with working_dir(root):
        return scan_paths([Path(".")], dataset or example_dataset(), baseline=baseline or set(),
                          cache_dir=Path(".compliance-cache") if cache else None)


def only(report: Report) -> Finding:
    assert len(report.findings) == 1, [(f.line, f.callee, f.status) for f in report.findings]
    return report.findings[0]
