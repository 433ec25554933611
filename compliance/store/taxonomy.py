"""The Fides purposes (`data_use`) and data subjects a feature may name, shipped as data with credit."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

TAXONOMY_FILE = Path(__file__).with_name("fides_taxonomy.yaml")


@cache
def _taxonomy() -> dict[str, dict[str, str]]:
    raw = yaml.safe_load(TAXONOMY_FILE.read_text(encoding="utf-8"))
    return {section: {item["key"]: item["name"] for item in raw[section]} for section in ("data_uses", "data_subjects")}


def purposes() -> dict[str, str]:
    """Fides data_use key -> name."""
    return _taxonomy()["data_uses"]


def data_subjects() -> dict[str, str]:
    """Fides data_subject key (plus the product's own, e.g. `child`) -> name."""
    return _taxonomy()["data_subjects"]
