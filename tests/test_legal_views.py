"""Legal's answers as library values: effective agreement states, needs attention, unsigned DPAs
carrying flows, audit diffs and the auditors' export."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compliance.alerts import store_alerts, unsigned_dpa_alerts
from compliance.attention import needs_attention
from compliance.cli import main
from compliance.problems import InvalidInput
from compliance.store import Store
from compliance.store import documents as d
from compliance.store.audit import export_text, list_events
from compliance.store.derived import agreement_state
from compliance.store.edits import checked_reason
from compliance.ui.views import change_lines
from tests.conftest import open_store

ON = date(2026, 11, 30)


@pytest.fixture
def example(tmp_path: Path, data_dir: Path) -> d.DataSet:
    return open_store(f"sqlite:///{tmp_path / 'x.db'}", data_dir).read()


@pytest.fixture
def cli_env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    return data_dir


def test_a_signed_dpa_past_its_expiry_reads_expired() -> None:
    dpa = d.DpaAgreement(status="signed", signed_on=date(2024, 1, 1), expires_on=date(2026, 10, 31))  # type: ignore[arg-type]
    assert agreement_state(dpa, ON) == "expired"
    assert agreement_state(dpa, date(2026, 10, 31)) == "signed"
    assert agreement_state(d.DpaAgreement(status="in_review"), ON) == "in review"  # type: ignore[arg-type]
    assert agreement_state(None, ON) is None


def test_an_agreement_cannot_expire_before_it_is_signed() -> None:
    with pytest.raises(ValueError, match="before signed_on"):
        d.DpaAgreement(status="signed", signed_on=date(2026, 5, 1), expires_on=date(2026, 1, 1))  # type: ignore[arg-type]


def test_needs_attention_lists_unsigned_expired_and_expiring_within_the_window(example: d.DataSet) -> None:
    sixty = needs_attention(example, ON, 60).set_index("id")
    assert sixty.loc["anthropic", "issue"] == "DPA expired on 2026-10-31"
    assert sixty.loc["mistral", "issue"].startswith("no signed DPA")
    assert "google" in sixty.index  # expires 2027-01-15, 46 days ahead
    assert "google" not in needs_attention(example, ON, 30)["id"].tolist()
    assert needs_attention(example, ON, 60)["id"].iloc[0] == "anthropic"  # expired first


def test_a_provider_without_a_signed_dpa_that_carries_flows_is_an_alert(example: d.DataSet) -> None:
    alerts = {a.subject: a for a in unsigned_dpa_alerts(example)}
    assert "mistral" in alerts and alerts["mistral"].severity == "unsigned"
    assert alerts["mistral"].carries
    assert any(a.severity == "unsigned" for a in store_alerts(example, ON))


def test_audit_changes_show_the_changed_nested_fields_only() -> None:
    changes = {"dpa": {"old": {"status": "signed", "expires_on": "2027-01-15", "notes": "x"},
                       "new": {"status": "signed", "expires_on": "2027-09-30", "notes": "x"}},
               "owner": {"old": None, "new": "dpo"}}
    assert change_lines(changes) == ["dpa.expires_on: 2027-01-15 -> 2027-09-30", "owner: (empty) -> dpo"]


def test_reasons_are_trimmed_and_limited() -> None:
    assert checked_reason("  renewal  ", "provider x") == "renewal"
    assert checked_reason("   ", "provider x") is None
    with pytest.raises(InvalidInput, match="at most 2,000 are allowed"):
        checked_reason("x" * 2001, "provider x")


def test_the_dashboard_export_is_the_cli_export(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    capsys.readouterr()
    assert main(["audit", "export"]) == 0
    printed = capsys.readouterr().out
    store = Store.open()
    with store.session() as session:
        exported = export_text(list_events(session))
    assert exported == printed
    first = exported.splitlines()[0].split(",")
    assert "prev_hash" in first and "hash" in first
    assert main(["audit", "export", "--format", "json"]) == 0
    records = json.loads(capsys.readouterr().out)["events"]
    assert all(len(r["hash"]) == 64 and len(r["prev_hash"]) == 64 for r in records)
