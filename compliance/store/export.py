"""Write the store as the YAML files `load` reads back to an identical store."""

from __future__ import annotations

import enum
import os
import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from compliance.problems import ComplianceError
from compliance.store import documents as d

HEADER = (
    "# Exported from the compliance store on {today}.\n"
    "# Facts about real providers keep their sources; verify them before relying on them. Not legal advice.\n"
)


def _plain(value: Any) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _status_first(item: dict[str, Any]) -> dict[str, Any]:
    for kind in ("dpa", "baa"):
        if isinstance(item.get(kind), dict):
            agreement = item[kind]
            item[kind] = {"status": agreement.pop("status"), **agreement}
    return item


def _items(docs: list[Any]) -> list[dict[str, Any]]:
    return [_status_first(_plain(doc.model_dump(exclude_defaults=True))) for doc in docs]


def dataset_files(dataset: d.DataSet) -> dict[str, dict[str, Any]]:
    """File name -> YAML content, in the shape data.md describes."""
    segments = {}
    for item in _items(dataset.costs.segments):
        segments[item.pop("id")] = item
    costs: dict[str, Any] = {
        "segments": segments,
        "projection": _plain(dataset.costs.projection.model_dump()),
        "price_overrides": _items(dataset.costs.price_overrides),
    }
    files: dict[str, dict[str, Any]] = {
        "providers.yaml": {"providers": _items(dataset.providers)},
        "routes.yaml": {"routes": _items(dataset.routes)},
        "categories.yaml": {"categories": _items(dataset.categories)},
        "features.yaml": {"features": _items(dataset.features)},
        "costs.yaml": costs,
        "evals.yaml": {"evals": _items(dataset.evals)},
    }
    if dataset.notice is not None:
        files["subprocessors.yaml"] = {"notice": _plain(dataset.notice.model_dump(exclude_none=True))}
    return files


def write_dataset(dataset: d.DataSet, directory: Path, *, today: date | None = None) -> list[Path]:
    """Write every file into a temporary folder beside `directory`, then move them into place.

    A new folder is renamed into place whole; into an existing folder each finished file replaces
    its old version with an atomic rename. A failed export (a full disk) leaves no partial folder
    and no half-written file that a later load would take as the truth.
    """
    header = HEADER.format(today=(today or date.today()).isoformat())
    bodies = {name: header + yaml.safe_dump(content, sort_keys=False, allow_unicode=True, width=110)
              for name, content in dataset_files(dataset).items()}
    if directory.exists() and not directory.is_dir():
        raise ComplianceError(f"cannot export to {directory}: it is not a folder")
    parent = directory.parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{directory.name}.export-", dir=parent))
    except OSError as exc:
        raise ComplianceError(f"cannot export to {directory}: {exc.strerror or exc}; nothing was written") from exc
    try:
        for name, body in bodies.items():
            (scratch / name).write_text(body, encoding="utf-8")
        if not directory.exists():
            scratch.rename(directory)
        else:
            for name in bodies:
                os.replace(scratch / name, directory / name)
    except OSError as exc:
        raise ComplianceError(f"cannot export to {directory}: {exc.strerror or exc}; nothing was written") from exc
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return [directory / name for name in bodies]
