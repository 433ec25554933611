"""The dashboard's Code page (through the entry point): the last recorded scan, per feature, undeclared first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from compliance.access import SYSTEM
from compliance.config import PROJECT_ROOT
from compliance.scan.record import record_scan
from tests.conftest import open_store
from tests.scan_helpers import example_dataset, scan_code


@pytest.fixture
def app_db(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'app.db'}"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", url)
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(PROJECT_ROOT / "policies"))
    st.cache_resource.clear()
    st.cache_data.clear()
    yield url
    st.cache_resource.clear()


def code_page() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("compliance/ui/code_page.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_without_a_recorded_scan_the_page_says_how_to_record_one(app_db: str) -> None:
    at = code_page()
    assert any("--record" in i.value for i in at.info)


def test_recorded_findings_are_shown_per_feature_undeclared_first(app_db: str, data_dir: Path,
                                                                 tmp_path: Path) -> None:
    report = scan_code(tmp_path / "repo", {
        "copy.py": """
            from anthropic import Anthropic
            def headline():  # compliance: feature=marketing-copy
                return Anthropic().messages.create(model="claude-sonnet-4-5", messages=[])
            """,
        "coach.py": """
            import boto3
            def answer():  # compliance: feature=wellness-coach
                return boto3.client("bedrock-runtime", region_name="eu-central-1").converse(
                    modelId="openai.gpt-oss-120b-1:0", messages=[])
            """}, example_dataset())
    store = open_store(app_db, data_dir)
    record_scan(store, report, actor=SYSTEM)
    store.dispose()
    at = code_page()
    assert [m.value for m in at.metric][:1] == ["1"]  # one undeclared
    assert at.error  # the page says some calls are not declared
    headers = [h.value for h in at.subheader]
    assert headers[0] == "marketing-copy — 1 not declared" and "wellness-coach" in headers
    first = at.dataframe[0].value
    assert list(first["status"]) == ["undeclared"] and list(first["where"]) == ["copy.py:4"]
