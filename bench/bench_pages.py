"""Dashboard benchmark: render every page through the entry point with AppTest on a large store.

Run:  .venv/bin/python -m bench.bench_pages
Synthetic store: 1,000 features (1-2 declared flows each, with usage), 100 routes, 85 categories,
a 40-rule policy set. Each page is rendered cold (fresh caches) and warm (a rerun).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import streamlit as st
import yaml
from streamlit.testing.v1 import AppTest

from bench.synthetic import synthetic_dataset, synthetic_rules, with_flows_and_costs, without_cedar
from compliance.access import SYSTEM
from compliance.config import PROJECT_ROOT, Settings
from compliance.store import Store
from compliance.store.sync import replace_dataset

PAGES = ["overview", "providers", "routes", "checker", "policies", "costs", "audit"]
TARGET = 0.5  # slowest page cold, issue 10


def synthetic_store(tmp: Path, features: int = 1000) -> Settings:
    """A SQLite store of `features` synthetic features (with flows and costs), 100 routes, 85 categories
    and a 40-rule policy set under `tmp`; the settings that open it."""
    dataset = with_flows_and_costs(synthetic_dataset(features=features, categories=85, routes=100, providers=12))
    policies = tmp / "policies"
    policies.mkdir()
    (policies / "bench.yaml").write_text(yaml.safe_dump({"rules": without_cedar(synthetic_rules(dataset, 40))}))
    settings = Settings(database_url=f"sqlite:///{tmp / 'pages.db'}", data_dir=tmp / "no-data",
                        policy_dir=policies)
    store = Store.open(settings, seed=False)
    with store.session() as session:
        replace_dataset(session, dataset, actor=SYSTEM)
    store.dispose()
    return settings


def build_store(tmp: Path) -> None:
    settings = synthetic_store(tmp)
    os.environ.update({"COMPLIANCE_DATABASE_URL": settings.database_url, "COMPLIANCE_DATA_DIR": str(settings.data_dir),
                       "COMPLIANCE_POLICY_DIR": str(settings.policy_dir)})


def render(page: str) -> tuple[float, float, float, int]:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()  # the entry point runs its default page first
    at.switch_page(f"compliance/ui/{page}_page.py")
    st.cache_resource.clear()  # cold: no cached store, snapshot, matrix or cost tables
    st.cache_data.clear()
    start, cpu = time.perf_counter(), time.process_time()
    at.run()
    cold, cold_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    at.run()
    warm = time.perf_counter() - start
    return cold, warm, cold_cpu, len(at.exception)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        build_store(Path(tmp))
        print(f"built a store of 1,000 features, 100 routes, 85 categories in {time.perf_counter() - start:.1f} s")
        print(f"{'page':<10} {'cold (s)':>9} {'warm (s)':>9} {'cold CPU (s)':>13}   target: slowest cold <= {TARGET} s")
        worst = 0.0
        for page in PAGES:
            cold, warm, cold_cpu, errors = render(page)
            worst = max(worst, cold)
            flag = "" if errors == 0 else f"   {errors} exception(s)!"
            print(f"{page:<10} {cold:>9.2f} {warm:>9.2f} {cold_cpu:>13.2f}{flag}")
        print(f"slowest page cold: {worst:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
