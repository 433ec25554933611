"""The overview lists what the CLI lists: every alert of `alerts` (subprocessor notices and model
retirements included) and every violating flow; on a large store the first ones in full, the rest
in a table, so nothing is dropped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bench.bench_pages import synthetic_store
from bench.synthetic import synthetic_dataset
from compliance.access import SYSTEM
from compliance.alerts import every_alert
from compliance.api import Compliance
from compliance.config import PROJECT_ROOT, Settings
from compliance.policy.flows import evaluate_flows
from compliance.store import Store
from compliance.store.sync import replace_dataset
from compliance.ui.overview_page import SHOWN


def overview() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    return at


def alert_count(at: AppTest) -> int:
    heading = next(h.value for h in at.subheader if h.value.startswith("Alerts ("))
    return int(heading.removeprefix("Alerts (").removesuffix(")"))


def test_the_overview_shows_the_clis_alerts(app_env: Path) -> None:
    at = overview()
    c = Compliance.open(refresh=False)
    expected = every_alert(c.state().decider, date.today(), 60)
    c.close()
    assert alert_count(at) == len(expected)
    shown = " ".join(m.value for m in at.markdown)
    for alert in expected[:SHOWN]:
        assert alert.message in shown


@pytest.fixture
def large_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Compliance]:
    """300 synthetic features on 100 routes under 40 rules: hundreds of violating flows and alerts."""
    settings = synthetic_store(tmp_path, features=300)
    for name, value in (("DATABASE_URL", settings.database_url), ("DATA_DIR", str(settings.data_dir)),
                        ("POLICY_DIR", str(settings.policy_dir))):
        monkeypatch.setenv(f"COMPLIANCE_{name}", value)
    st.cache_resource.clear()
    st.cache_data.clear()
    opened = Compliance.open(settings=settings, refresh=False)
    yield opened
    opened.close()
    st.cache_resource.clear()
    st.cache_data.clear()


def test_a_large_store_lists_every_violation_and_alert(large_store: Compliance) -> None:
    today = date.today()
    decider = large_store.state().decider
    violating = [f for f in evaluate_flows(decider, today) if not f.compliant]
    alerts = every_alert(decider, today, 60)
    assert len(violating) > SHOWN and len(alerts) > SHOWN  # the case this test is about
    at = overview()
    assert f"Violating flows ({len(violating)})" in [h.value for h in at.subheader]
    assert alert_count(at) == len(alerts)
    listed = next(m.value for m in at.markdown if "open in the route checker" in m.value)
    assert listed.count("open in the route checker") == SHOWN
    tables = {e.label: e for e in at.expander}
    flows_table = tables[f"All {len(violating):,} violating flows, as a table"].dataframe[0].value
    assert list(zip(flows_table["Feature"], flows_table["Route"], strict=True)) == \
        [(f.feature, f.route) for f in violating]
    rest = tables[f"{len(alerts) - SHOWN:,} more alerts, as a table"].dataframe[0].value
    assert list(rest["Alert"]) == [a.message for a in alerts[SHOWN:]]
    fixes = [link for link in at.get("page_link") if link.proto.label.startswith("Fix in")]
    assert len(fixes) == SHOWN


def test_a_long_audit_log_shows_the_newest_events_and_counts_the_rest(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from compliance.store.audit import list_events
    from compliance.ui.audit_page import SHOWN as EVENTS_SHOWN

    dataset = synthetic_dataset(features=EVENTS_SHOWN + 50, categories=20, routes=10, providers=4)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'log.db'}", data_dir=tmp_path / "no-data",
                        policy_dir=PROJECT_ROOT / "policies")
    store = Store.open(settings, seed=False)
    with store.session() as session:
        replace_dataset(session, dataset, actor=SYSTEM)
    with store.snapshot() as session:
        newest = [e.id for e in list_events(session)]
    store.dispose()
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(settings.data_dir))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("compliance/ui/audit_page.py").run()
    assert not at.exception, at.exception
    assert f"{len(newest):,} of {len(newest):,} events match; the newest {EVENTS_SHOWN:,} are shown" in \
        " ".join(c.value for c in at.caption)
    assert list(at.dataframe[0].value["id"]) == newest[:EVENTS_SHOWN]
    at.selectbox(key="audit-entity").select("provider").run()
    assert not at.exception
    providers = len(dataset.providers)
    assert f"{providers:,} of {len(newest):,} events" in " ".join(c.value for c in at.caption)
    assert set(at.dataframe[0].value["entity"]) == {"provider"} and len(at.dataframe[0].value) == providers
    st.cache_resource.clear()

