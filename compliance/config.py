"""Where the store, the data folder and the policies are: flags, then environment, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FRESHNESS_DAYS = 180  # route facts and sources older than this many days are stale (181 is stale)
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'compliance.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str
    data_dir: Path
    policy_dir: Path
    freshness_days: int = FRESHNESS_DAYS  # route facts and sources older than this are stale


def load_settings(
    *, database_url: str | None = None, data_dir: str | Path | None = None, policy_dir: str | Path | None = None
) -> Settings:
    """Resolve settings the same way for the CLI, the dashboard and the Python API."""
    return Settings(
        database_url=database_url or os.environ.get("COMPLIANCE_DATABASE_URL") or DEFAULT_DATABASE_URL,
        data_dir=Path(data_dir or os.environ.get("COMPLIANCE_DATA_DIR") or PROJECT_ROOT / "data"),
        policy_dir=Path(policy_dir or os.environ.get("COMPLIANCE_POLICY_DIR") or PROJECT_ROOT / "policies"),
    )
