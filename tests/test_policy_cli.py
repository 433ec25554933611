"""Policy commands of the CLI and the Python guard, on the example data and baseline policies."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from compliance import Compliance, Denied
from compliance.cli import main
from compliance.config import PROJECT_ROOT
from tests.helpers import replace_in


@pytest.fixture
def env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(policies))
    return policies


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


CHECK = ["check", "--feature", "clinic-notes-summary", "--category", "user.health_and_medical"]


def test_health_without_baa_is_denied_naming_the_baa_rule(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *CHECK, "--route", "openai-direct", "--as-of", "2026-11-30")
    assert code == 1 and out.startswith("DENY") and "health-needs-baa" in out


def test_active_exception_allows_and_names_itself(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *CHECK, "--route", "claude-vertex-eu", "--as-of", "2026-11-30", "--json")
    record = json.loads(out)
    assert code == 0 and record["decision"] == "allow" and record["waived_by"] == ["exc-2026-031"]


def test_one_day_after_the_exception_expires_it_denies_again(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, *CHECK, "--route", "claude-vertex-eu", "--as-of", "2027-02-01", "--json")
    record = json.loads(out)
    assert code == 1 and "health-needs-baa" in record["rules"] and record["waived_by"] == []


def test_unknown_id_exits_2_naming_the_closest(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, *CHECK, "--route", "claude-vertex")
    assert code == 2 and "unknown route 'claude-vertex'" in err and "claude-vertex-eu" in err


def test_flows_gate_exits_1_and_names_each_violation(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flows", "--as-of", "2026-11-30", "--json")
    data = json.loads(out)
    assert code == 1 and data["compliant"] is False
    bad = {(f["feature"], f["route"]) for f in data["flows"] if not f["compliant"]}
    assert ("dating-profile-match", "openai-direct") in bad and ("support-reply-draft", "claude-direct") in bad
    assert ("mortgage-doc-extraction", "claude-bedrock-eu") not in bad
    for flow in data["flows"]:
        if not flow["compliant"]:  # a denied category, or a retired model (models.md)
            assert flow["retired"] or any(d["reasons"] for d in flow["decisions"] if d["decision"] == "deny")


def test_flows_for_a_compliant_feature_exit_0(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "flows", "--feature", "mortgage-doc-extraction", "--as-of", "2026-11-30")
    assert code == 0 and "1 of 1 declared flows compliant" in out


def test_routes_lists_allowed_first(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "routes", "--feature", "clinic-notes-summary", "--category", "user.health_and_medical",
                       "--category", "user.name", "--as-of", "2026-11-30", "--json")
    routes = json.loads(out)["routes"]
    assert code == 0
    flags = [r["allowed"] for r in routes]
    assert flags == sorted(flags, reverse=True) and any(flags) and not all(flags)
    assert {"claude-bedrock-eu", "claude-vertex-eu"} <= {r["route"] for r in routes if r["allowed"]}


def test_matrix_csv_has_every_cell(env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "m.csv"
    code, _, _ = run(capsys, "matrix", "--as-of", "2026-11-30", "--out", str(out_file))
    rows = list(csv.DictReader(io.StringIO(out_file.read_text())))
    assert code == 0 and len(rows) == 12 * 70 * 19
    cell = next(r for r in rows if (r["feature"], r["category"], r["route"]) ==
                ("dating-profile-match", "user.demographic.sexual_orientation", "openai-direct"))
    assert cell["decision"] == "deny" and "consumer-no-special-categories" in cell["rules"].split(";")
    assert cell["as_of"] == "2026-11-30"


def test_policy_tests_pass_with_full_coverage(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "test")
    assert code == 0
    assert "0 failed" in out and "rule coverage: 16/16" in out


def test_failing_policy_test_reports_the_actual_decision(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace_in(env / "tests" / "baseline.yaml", "    as_of: 2027-01-15\n    expect: allow", "    as_of: 2027-01-15\n"
               "    expect: deny")
    code, out, _ = run(capsys, "test")
    assert code == 1 and "FAIL" in out and "expected deny, got allow" in out and "1 failed" in out


def test_validate_lists_policy_mistakes_with_lines(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace_in(env / "10-routes.yaml", "      - route.status: {ne: approved}", "      - route.statu: {ne: approved}")
    code, _, err = run(capsys, "validate")
    assert code == 2 and "10-routes.yaml:" in err and "unknown fact path" in err


def test_alerts_name_the_flows_an_expiry_would_break(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "alerts", "--as-of", "2026-11-30", "--json")
    alerts = json.loads(out)["alerts"]
    google = next(a for a in alerts if a["kind"] == "dpa" and a["subject"] == "google")
    assert code == 0 and google["breaks_on"] == "2027-01-16"
    assert any(b.startswith("product-search-assistant -> gemini-vertex-eu") for b in google["breaks"])
    # exc-2026-007 expired, but exc-2026-031 replaced it (same rule, feature, route, categories): history
    assert not any(a["kind"] == "exception" and a["subject"] == "exc-2026-007" for a in alerts)


def test_an_expired_exception_is_an_alert_until_it_is_replaced(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from compliance.alerts import policy_alerts, superseded_exceptions

    c = Compliance.open()
    assert superseded_exceptions(c.decider, date(2026, 11, 30)) == {"exc-2026-007": "exc-2026-031"}
    before = policy_alerts(c.decider, date(2026, 9, 1))  # 031 not granted yet, but it expires later
    assert "exc-2026-007" not in {a.subject for a in before}
    after_both = policy_alerts(c.decider, date(2027, 2, 15))  # both expired: only the newer one is an alert
    assert {a.subject for a in after_both if a.kind == "exception"} == {"exc-2026-031"}


def test_python_guard_raises_denied_with_the_decision(env: Path) -> None:
    c = Compliance.open()
    assert c.require(feature="support-reply-draft", category="user.contact.email", route="claude-bedrock-eu").allowed
    with pytest.raises(Denied) as caught:
        c.require(feature="dating-profile-match", category="user.demographic.sexual_orientation",
                  route="openai-direct")
    assert caught.value.decision.rules == ["consumer-no-special-categories"]


def test_costs_show_consumer_llm_share_far_above_b2b(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "costs", "--as-of", "2026-11-30", "--format", "json")
    data = json.loads(out)
    shares = {s["segment"]: s["llm_share_of_revenue"] for s in data["segments"]}
    assert code == 0 and shares["consumer"] > 5 * shares["b2b"]
    assert {f["feature"] for f in data["features"]} >= {"mortgage-doc-extraction", "dating-profile-match"}
    assert all(f["monthly_cost"] > 0 for f in data["features"])


def test_costs_table_prints_features_segments_and_projection(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "costs", "--as-of", "2026-11-30", "--scenario", "base")
    assert code == 0
    assert "dating-profile-match" in out and "gross margin" in out and "base" in out and "$" in out


def test_costs_unknown_segment_exits_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "costs", "--segment", "b2c")
    assert code == 2 and "unknown segment 'b2c'" in err


def test_routes_mark_the_cheapest_allowed_route(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "routes", "--feature", "support-reply-draft", "--category", "user.contact.email",
                       "--as-of", "2026-11-30", "--json")
    data = json.loads(out)
    allowed = [r for r in data["routes"] if r["allowed"] and r["monthly_cost"] is not None]
    assert code == 0 and data["cheapest_allowed"] == min(allowed, key=lambda r: r["monthly_cost"])["route"]


def test_validate_with_a_data_mistake_checks_policies_without_false_unknown_ids(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = Path(os.environ["COMPLIANCE_DATA_DIR"])
    replace_in(data / "routes.yaml", "    residency: on_premises", "    residency: onprem")  # vllm-onprem invalid
    code, _, err = run(capsys, "validate")
    assert code == 2 and "routes.yaml:" in err and "onprem" in err
    assert "unknown route" not in err and "unknown feature" not in err  # policies still name known ids


def test_matrix_json_lists_every_cell_with_the_policy_digest(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "matrix", "--as-of", "2026-11-30", "--format", "json")
    data = json.loads(out)
    assert code == 0 and len(data["cells"]) == 12 * 70 * 19 and len(data["policy_digest"]) == 64
    assert {c["decision"] for c in data["cells"]} == {"allow", "deny"}
